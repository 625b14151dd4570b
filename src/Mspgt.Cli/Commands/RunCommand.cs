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
        var text = new Option<string?>("--text") { Description = "Input text (BOS is added when the tokenizer's convention does)" };
        var ids = new Option<string?>("--ids") { Description = "Input token ids, comma-separated, fed as given" };
        var chat = new Option<bool>("--chat") { Description = "Wrap --text in the model's chat template (a user turn)" };
        var hooks = new Option<string?>("--hooks")
        {
            Description = "Hook points to report, comma-separated, by mspgt's or TransformerLens's names "
                          + "(e.g. blocks.0.hook_resid_pre,blocks.0.attn.hook_pattern): shape and summary; with --json the values too",
        };
        var json = CliCommon.JsonOption();
        var cmd = new Command("run", "Run one forward pass and print ids, NLL, argmax, last logits, residual norms and attention entropy/distance per layer");
        var threads = CliCommon.ThreadsOption();
        foreach (var o in new Option[] { model, tokenizer, text, ids, chat, hooks, json, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            string? t = p.GetValue(text), i = p.GetValue(ids);
            if ((t == null) == (i == null)) throw new MspgtException("run", "give exactly one of --text or --ids");
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer), loadTokenizer: t != null);
            int[] input = t != null ? ModelPrompts.Encode(m, t, p.GetValue(chat), p.GetValue(tokenizer)) : CliCommon.ParseIds(i!, m.Config.Vocab);
            if (input.Length > m.Config.MaxSeq)
                throw new MspgtException(t != null ? "--text" : "--ids", $"input of {input.Length} tokens is longer than the model's context of {m.Config.MaxSeq}");
            // Hook names are parsed here, where the user typed them; everything below works with typed points.
            var points = p.GetValue(hooks) is { } names
                ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => HookPoint.Parse(n, m.Config.Layers)).ToArray()
                : null;
            var summary = RunSummary.Compute(new Transformer(m.Config, m.Weights), input, points);
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
        AnsiConsole.Write(table);
        if (s.Hooks is { } hooks)
        {
            var hookTable = new Table().AddColumns("hook", "shape", "mean", "rms", "min", "max");
            foreach (var h in hooks)
                hookTable.AddRow(h.Name, $"[[{string.Join(", ", h.Shape)}]]", $"{h.Mean:F4}", $"{h.Rms:F4}", $"{h.Min:F4}", $"{h.Max:F4}");
            AnsiConsole.Write(hookTable);
        }
        var top = s.LogitsLast.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(5);
        string Tok(int id) => m.Tokenizer is { } tk ? Markup.Escape(tk.TokenText(id)) : "";
        AnsiConsole.MarkupLine("next token (top 5): " + string.Join(", ", top.Select(x => $"{x.i} {Tok(x.i)} ({x.v:F3})")));
    }
}
