using System.CommandLine;
using Mspgt.Experiments;
using Mspgt.Loading;
using Spectre.Console;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt perplexity -m MODEL -f FILE [-c CTX]`: a text file's perplexity, computed as llama-perplexity computes it.</summary>
public static class PerplexityCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var tokenizer = CliCommon.TokenizerOption();
        var file = new Option<string>("--file", "-f") { Description = "Text file to score (UTF-8; the whole file is one token stream)", Required = true };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Chunk length in tokens (default: 512, or the model's context if shorter)" };
        var json = CliCommon.JsonOption();
        var threads = CliCommon.ThreadsOption();
        var device = CliCommon.DeviceOption();
        var cmd = new Command("perplexity", "Perplexity of a text file by llama.cpp's llama-perplexity method: chunks of -c tokens, the second half of each scored; printed per chunk and in total");
        foreach (var o in new Option[] { model, tokenizer, file, context, json, threads, device.Device, device.Dtype }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            string path = p.GetValue(file)!;
            string text = CliCommon.ReadTextFile(path);
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            CliCommon.ApplyDevice(p, device, m);
            var result = Progress.Run("perplexity", report => Perplexity.Compute(m, path, text, p.GetValue(context), report));
            if (p.GetValue(json)) { CliCommon.PrintJson(result); return 0; }
            // llama-perplexity's own line of running estimates, then a table and the final estimate.
            Console.Out.WriteLine(string.Concat(result.Chunks.Select(c => $"[{c.Chunk}]{c.RunningPerplexity:F4},")));
            var table = CliTable.Create("chunk", "first token", "scored", "perplexity", "running");
            foreach (var c in result.Chunks)
                table.AddRow($"{c.Chunk}", $"{c.FirstToken}", $"{c.ScoredTokens}", $"{c.ChunkPerplexity:F4}", $"{c.RunningPerplexity:F4}");
            CliTable.Write(table);
            Console.Out.WriteLine($"Final estimate: PPL = {result.Value:F4} +/- {result.StandardError:F5} ({result.Chunks.Count} chunks of {result.Context} tokens, {result.ScoredTokens} scored of {result.Tokens})");
            return 0;
        });
        return cmd;
    }
}
