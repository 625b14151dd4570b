using System.CommandLine;
using Spectre.Console;
using Mspgt.Loading;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt inspect`: architecture, sizes, dtypes, tokenizer and the per-tensor table of a checkpoint.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var tokenizer = CliCommon.TokenizerOption();
        var json = CliCommon.JsonOption();
        var cmd = new Command("inspect", "Show a model's architecture, sizes, dtypes, tokenizer and tensors");
        foreach (var o in new Option[] { model, tokenizer, json }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            var c = m.Config;
            var facts = new List<(string, string)>
            {
                ("path", m.Path), ("format", m.Format), ("architecture", c.Spec.Name),
                ("parameters", $"{c.ParameterCount:N0}"), ("hidden size", $"{c.Dim}"), ("layers", $"{c.Layers}"),
                ("attention heads", $"{c.Heads}"), ("key/value heads", $"{c.KvHeads} (GQA group {c.Heads / c.KvHeads})"),
                ("head dim", $"{c.HeadDim}{(c.HeadDim * c.Heads != c.Dim ? " (explicit; q projection " + c.QDim + " wide)" : "")}"),
                ("ffn (SwiGLU)", $"{c.Ffn}"), ("vocab", $"{c.Vocab}"), ("context", $"{c.MaxSeq}"),
                ("rms norm eps", $"{c.NormEps:G}"), ("rope theta", $"{c.RopeTheta:G}"),
                ("rope scaling", c.RopeScaling is { } s ? $"llama3 factor {s.Factor}, low {s.LowFreqFactor}, high {s.HighFreqFactor}, original {s.OriginalMaxPositions}" : m.Weights.RopeFreqFactors != null ? "rope_freqs.weight (llama3)" : "none"),
                ("tied embeddings", c.TiedEmbeddings ? "yes" : "no"),
                ("q/k/v bias", c.QkvBias ? "yes" : "no"), ("q/k norm", c.QkNorm ? "yes (per head, before RoPE)" : "no"),
                ("sliding window", c.SlidingWindow is int w ? $"{w} (layers ≥ {c.SlidingWindowFromLayer})" : "off"),
                ("bos / eos", $"{c.BosId?.ToString() ?? "-"} / {c.EosId?.ToString() ?? "-"}"),
                ("tokenizer", m.Tokenizer?.Description ?? (m.TokenizerError is { } why ? $"(unreadable: {why})" : "(none found)")),
                ("weight types", string.Join(", ", m.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}"))),
            };
            foreach (var kv in m.Info) facts.Add((kv.Key, kv.Value));
            if (p.GetValue(json))
            {
                CliCommon.PrintJson(new
                {
                    facts = facts.ToDictionary(f => f.Item1.Replace(' ', '_').Replace('/', '_'), f => f.Item2),
                    tensors = m.Tensors.Select(t => new { name = t.Name, type = t.Type.ToString(), shape = t.Shape, bytes = t.Bytes }),
                }, indented: true);
                return 0;
            }
            var ft = new Table().HideHeaders().AddColumns("", "");
            foreach (var (k, v) in facts) ft.AddRow(Markup.Escape(k), Markup.Escape(v));
            CliTable.Write(ft);
            var tt = new Table().AddColumns("tensor", "type", "shape", "bytes");
            foreach (var t in m.Tensors) tt.AddRow(Markup.Escape(t.Name), t.Type.ToString(), $"[[{string.Join(", ", t.Shape)}]]", $"{t.Bytes:N0}");
            CliTable.Write(tt);
            return 0;
        });
        return cmd;
    }
}
