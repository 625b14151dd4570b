using System.CommandLine;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Tokenization;
using Spectre.Console;
using Mspgt.Signals;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt run`: one forward pass over a text or ids; prints the per-layer summary (the contract other checks rely on).</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var tokenizer = CliCommon.TokenizerOption();
        // llama.cpp's short names work too: -p for the text, -f for a file of it, -c for the context.
        var text = new Option<string?>("--text", "-p", "--prompt") { Description = "Input text (BOS is added when the tokenizer's convention does)" };
        var file = new Option<string?>("--file", "-f") { Description = "Read the input text from this UTF-8 file" };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Most tokens to run (default: the model's context); a longer input is an error" };
        var ids = new Option<string?>("--ids") { Description = "Input token ids, comma-separated, fed as given" };
        var chat = new Option<bool>("--chat") { Description = "Wrap --text in the model's chat template (a user turn)" };
        var hooks = new Option<string?>("--hooks")
        {
            Description = "Hook points to report, comma-separated, by mspgt's or TransformerLens's names "
                          + "(e.g. blocks.0.hook_resid_pre,blocks.0.attn.hook_pattern): shape and summary; with --json the values too",
        };
        var cacheNames = new Option<string?>("--cache")
        {
            Description = "Hook points to save with --cache-out (TransformerLens's run_with_cache), comma-separated; blocks.*.NAME means every layer "
                          + "(e.g. blocks.*.hook_resid_post,blocks.0.attn.hook_pattern)",
        };
        var cacheOut = new Option<string?>("--cache-out") { Description = "Write the --cache activations and the token ids to this .safetensors file (one tensor per hook, by TransformerLens name)" };
        var json = CliCommon.JsonOption();
        var cmd = new Command("run", "Run one forward pass and print ids, NLL, argmax, last logits, residual norms and attention entropy/distance per layer");
        var threads = CliCommon.ThreadsOption();
        var device = CliCommon.DeviceOption();
        foreach (var o in new Option[] { model, tokenizer, text, file, ids, context, chat, hooks, cacheNames, cacheOut, json, threads, device.Device, device.Dtype }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            string? t = p.GetValue(text), i = p.GetValue(ids), f = p.GetValue(file);
            if ((t != null ? 1 : 0) + (i != null ? 1 : 0) + (f != null ? 1 : 0) != 1) throw new MspgtException("run", "give exactly one of --text, --file or --ids");
            if (f != null) t = CliCommon.ReadTextFile(f);
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer), loadTokenizer: t != null);
            CliCommon.ApplyDevice(p, device, m);
            int[] input = t != null ? ModelPrompts.Encode(m, t, p.GetValue(chat), p.GetValue(tokenizer)) : CliCommon.ParseIds(i!, m.Config.Vocab);
            int ctx = p.GetValue(context) ?? m.Config.MaxSeq;
            if (ctx < 1 || ctx > m.Config.MaxSeq) throw new MspgtException("--ctx-size", $"must be in 1..{m.Config.MaxSeq} (the model's context), got {ctx}");
            if (input.Length > ctx)
                throw new MspgtException(f ?? (t != null ? "--text" : "--ids"), $"input of {input.Length} tokens is longer than {(p.GetValue(context) is null ? "the model's context" : "the context")} of {ctx}");
            // Hook names are parsed here, where the user typed them; everything below works with typed points.
            var points = p.GetValue(hooks) is { } names
                ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => HookPoint.Parse(n, m.Config.Layers)).ToArray()
                : null;
            if ((p.GetValue(cacheNames) == null) != (p.GetValue(cacheOut) == null))
                throw new MspgtException("run", "--cache and --cache-out go together: which hooks, and the file to write them to");
            var transformer = m.Decoder;
            if (p.GetValue(cacheOut) is { } outPath)
            {
                var (_, cache) = transformer.RunWithCache(input, HookPoint.ParseList(p.GetValue(cacheNames)!, m.Config.Layers));
                ActivationFile.Write(outPath, cache, input, new Dictionary<string, string> { ["model"] = m.Path, ["architecture"] = m.Config.Architecture.ToString() });
                if (!Progress.Quiet) Console.Error.WriteLine($"wrote {cache.Count} activation tensors and {ActivationFile.IdsTensor} to {outPath}");
            }
            var summary = RunSummary.Compute(transformer, input, points);
            if (p.GetValue(json)) { CliCommon.PrintJson(summary); return 0; }
            Print(m, summary);
            return 0;
        });
        return cmd;
    }

    private static void Print(LoadedModel m, RunSummary s)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(m.Path)}[/]  {m.Config.Architecture}, {m.Config.Layers} layers, {s.Ids.Length} tokens");
        AnsiConsole.MarkupLine($"ids: {string.Join(' ', s.Ids)}");
        AnsiConsole.MarkupLine(s.Nll is double nll ? $"mean NLL of ids[[1:]]: {nll:F4} nats (perplexity {Math.Exp(nll):F2})" : "mean NLL: (one token, nothing to predict)");
        var table = new Table().AddColumns("layer", "resid norm", "attn entropy (nats)", "attn distance");
        table.AddRow("embed", $"{s.ResidNorm[0]:F4}", "", "");
        for (int l = 0; l < s.AttnEntropy.Length; l++)
            table.AddRow($"{l}", $"{s.ResidNorm[l + 1]:F4}", $"{s.AttnEntropy[l]:F4}", $"{s.AttnDistance[l]:F4}");
        CliTable.Write(table);
        if (s.Hooks is { } hooks)
        {
            var hookTable = new Table().AddColumns("hook", "shape", "mean", "rms", "min", "max");
            foreach (var h in hooks)
                hookTable.AddRow(h.Name, $"[[{string.Join(", ", h.Shape)}]]", $"{h.Mean:F4}", $"{h.Rms:F4}", $"{h.Min:F4}", $"{h.Max:F4}");
            CliTable.Write(hookTable);
        }
        var top = s.LogitsLast.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(5);
        string Tok(int id) => m.Tokenizer is { } tk ? Markup.Escape(tk.TokenText(id)) : "";
        AnsiConsole.MarkupLine("next token (top 5): " + string.Join(", ", top.Select(x => $"{x.i} {Tok(x.i)} ({x.v:F3})")));
    }
}
