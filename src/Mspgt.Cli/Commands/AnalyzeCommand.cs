using System.CommandLine;
using System.Globalization;
using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Reporting;
using Mspgt.Tokenization;
using Spectre.Console;
using Mspgt.Corpora;
using Mspgt.Files;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt analyze`: per-layer signals and the scale boundaries of one model over a corpus.</summary>
public static class AnalyzeCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var tokenizer = CliCommon.TokenizerOption();
        var corpus = new Option<string?>("--corpus") { Description = "Plain text (documents separated by blank lines) or JSONL with a \"text\" field; default: documents sampled from the model" };
        var documents = new Option<int>("--documents") { Description = "Documents to sample when no --corpus is given", DefaultValueFactory = _ => 64 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Cut documents to this many tokens (never above the context)", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed for the sampled corpus, estimators and bootstrap", DefaultValueFactory = _ => 0 };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples over documents", DefaultValueFactory = _ => 200 };
        var weights = new Option<string?>("--weights") { Description = "Fusion weights, e.g. attn_distance=1,mi_gaussian=2 (unnamed signals weigh 0)" };
        var minSize = new Option<int>("--min-size") { Description = "Fewest layers per segment when choosing K", DefaultValueFactory = _ => 2 };
        var alpha = new Option<double>("--alpha") { Description = "Level of each test in the sequence that chooses K", DefaultValueFactory = _ => 0.05 };
        var nullReplicates = new Option<int>("--null-replicates") { Description = "Parametric-bootstrap replicates per test of K", DefaultValueFactory = _ => 200 };
        var penalty = new Option<double?>("--penalty") { Description = "PELT penalty (exploratory; default: from the smooth null)" };
        var pca = new Option<int>("--pca-dims") { Description = "PCA components per side for the Gaussian MI", DefaultValueFactory = _ => 16 };
        var exactLens = new Option<bool>("--exact-lens") { Description = "Read every position through the logit lens (default: an evenly spaced sample sized so the lens costs at most half the forward pass)" };
        var lensPositions = new Option<int>("--lens-positions") { Description = "Most positions per document the sampled logit lens reads (fewer where half the forward pass's arithmetic allows fewer; fewer positions, a cheaper lens with a larger standard error)", DefaultValueFactory = _ => 64 };
        var includeBos = new Option<bool>("--include-bos") { Description = "Let position 0 (BOS) into MI, adjacent CKA, effective rank and TwoNN (left out by default: attention-sink rows)" };
        var outDir = new Option<string?>("--out") { Description = "Write signals.parquet, summary.json, timings.json, signals.png/.svg and cka.png here" };
        var json = CliCommon.JsonOption("Print summary.json on stdout");
        var cmd = new Command("analyze", "Measure per-layer signals over a corpus and find the Local / Intermediate / Global scale boundaries");
        var threads = CliCommon.ThreadsOption();
        var device = CliCommon.DeviceOption();
        foreach (var o in new Option[] { model, tokenizer, corpus, documents, maxTokens, seed, bootstrap, weights, minSize, alpha, nullReplicates, penalty, pca, includeBos, exactLens, lensPositions, outDir, json, threads, device.Device, device.Dtype }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            if (p.GetValue(lensPositions) < 1) throw new MspgtException("--lens-positions", "must be at least 1");
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            CliCommon.ApplyDevice(p, device, m);
            var tok = ModelPrompts.TokenizerOf(m);
            int maxTok = p.GetValue(maxTokens);
            if (maxTok < 2) throw new MspgtException("--max-tokens", "must be at least 2");
            maxTok = Math.Min(maxTok, m.Config.MaxSeq);
            var settings = new AnalysisSettings
            {
                MaxTokens = maxTok, Documents = p.GetValue(documents), Seed = p.GetValue(seed), Bootstrap = p.GetValue(bootstrap),
                Weights = ParseWeights(p.GetValue(weights)), Penalty = p.GetValue(penalty), PcaDims = p.GetValue(pca),
                MinSize = p.GetValue(minSize), Alpha = p.GetValue(alpha), NullReplicates = p.GetValue(nullReplicates),
                IncludeBos = p.GetValue(includeBos),
                LensExact = p.GetValue(exactLens), LensPositions = p.GetValue(lensPositions),
            };
            if (settings.Bootstrap < 0) throw new MspgtException("--bootstrap", "must be ≥ 0");
            var source = new CorpusSource(p.GetValue(corpus), settings.Documents, maxTok, settings.Seed);
            var tf = m.Decoder;
            var docs = source.IsSampled
                ? Progress.Run("sampling corpus", report => source.Open(tf, tok, i => report(i, settings.Documents)))
                : source.Open(tf, tok);
            var result = Progress.Run("analyzing documents", report => Analysis.Run(m, docs, settings, report));
            m.Dispose();   // the outputs need none of the weights: unmapped before the figures are drawn
            string? dir = p.GetValue(outDir);
            if (dir != null) { Analysis.WriteData(result, dir); Analysis.WriteTimings(result, dir); AnalysisFigures.Write(result.Summary, dir); }
            if (p.GetValue(json)) { Console.Out.WriteLine(JsonOutput.Serialize(result.Summary)); return 0; }
            Print(result.Summary, dir);
            if (result.Timings is { } tm) PrintTimings(tm);
            return 0;
        });
        return cmd;
    }

    public static Dictionary<string, double>? ParseWeights(string? s)
    {
        if (string.IsNullOrWhiteSpace(s)) return null;
        var d = new Dictionary<string, double>();
        foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !double.IsFinite(w))
                throw new MspgtException("--weights", $"\"{part}\" is not name=weight");
            d[kv[0]] = w;
        }
        return d;
    }

    private static void Print(AnalysisSummary s, string? dir)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(s.Model)}[/] ({s.Architecture}, {s.NLayers} layers): {s.NDocuments} documents, {s.NTokens} tokens");
        // One row per signal, one column per block: stays readable for deep models.
        var t = new Table().AddColumn("signal");
        for (int l = 0; l < s.NLayers; l++) t.AddColumn(new TableColumn($"{l}").RightAligned());
        foreach (var (name, values) in s.Signals)
            t.AddRow([name, .. values.Select((v, l) => Markup.Escape(FormatValue(s.Saturation, name, l, v)))]);
        t.AddRow(["[bold]fused[/]", .. s.Fused.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))]);
        string ScaleOf(int l) => s.Segments.First(kv => l >= kv.Value[0] && l <= kv.Value[1]).Key;
        t.AddRow(["[bold]scale[/]", .. Enumerable.Range(0, s.NLayers).Select(ScaleOf)]);
        CliTable.Write(t);
        string Ci(int[][]? ci, int i) => ci is null ? "" : $" (95% CI {ci[i][0]}–{ci[i][1]})";
        string P(double? p) => p is double v ? (v < 0.001 ? "< 0.001" : v.ToString("0.000", CultureInfo.InvariantCulture)) : "-";
        string selected = s.Boundaries.Length == 0 ? "no boundary" : string.Join(", ", s.Boundaries.Select((b, i) => $"b{i + 1} = {b}{Ci(s.BoundaryCi, i)}"));
        AnsiConsole.MarkupLine(Markup.Escape($"K = {s.KSelected} selected by tests against smooth nulls: {selected}; tests: " +
            string.Join("; ", s.KTests.Select(t => $"K = {t.K} p {P(t.PValue)}"))));
        var k2 = s.ForcedK2;
        AnsiConsole.MarkupLine(Markup.Escape($"best two-boundary fit: b1 = {k2.Boundaries[0]}{Ci(k2.BoundaryCi, 0)}, b2 = {k2.Boundaries[1]}{Ci(k2.BoundaryCi, 1)}; " +
            $"depth fractions {k2.DepthFractions[0]:F3}, {k2.DepthFractions[1]:F3}; against the smooth null p {P(k2.PValueVsSmooth)}"));
        AnsiConsole.MarkupLine($"scales: {string.Join(", ", ScaleNames.All.Select(n => $"{n} {Range(s.Segments[n])}"))} (order decided by {Markup.Escape(s.ScaleOrderDecidedBy)}; from {Markup.Escape(s.SegmentsFrom)})");
        AnsiConsole.MarkupLine(Markup.Escape($"PELT (exploratory): [{string.Join(", ", s.PeltBoundaries)}]; v1 ΔI rule: [{string.Join(", ", s.V1RuleBoundaries)}]"));
        foreach (var (name, pr) in s.Probes)
            AnsiConsole.MarkupLine($"{name}: peak at block {pr.PeakLayer} (accuracy {pr.Accuracy[pr.PeakLayer]:F3}, chance {pr.Chance[pr.PeakLayer]:F3})");
        if (dir != null) AnsiConsole.MarkupLine($"wrote {Markup.Escape(Path.Combine(dir, "summary.json"))}, signals.parquet, timings.json, signals.png, signals.svg, cka.png");
    }

    private static void PrintTimings(AnalysisTimings t) =>
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"time: forward passes {t.ForwardSeconds:F1} s; signals {t.DocumentSignalsSeconds:F1} s per document + {t.CorpusSignalsSeconds:F1} s corpus-level " +
            $"= {t.SignalsOverForward:F2}x the forward passes; boundary tests {t.BoundariesSeconds:F1} s")));

    /// <summary>A layer's mean value; "≥ x (saturated)" where documents reached the estimator's ceiling (a lower bound).</summary>
    public static string FormatValue(IReadOnlyDictionary<string, SaturationReport> saturation, string signal, int layer, double v)
    {
        string x = v.ToString("G3", CultureInfo.InvariantCulture);
        return saturation.TryGetValue(signal, out var sat) && sat.SaturatedDocuments[layer] > 0 ? $"≥ {x} (saturated)" : x;
    }

    private static string Range(int[] r) => r[0] == r[1] ? $"{r[0]}" : $"{r[0]}–{r[1]}";
}
