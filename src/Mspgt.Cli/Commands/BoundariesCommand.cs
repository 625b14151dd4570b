using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Mspgt.Scales;
using Spectre.Console;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt boundaries`: change-point detection of scale boundaries in a layer × signal CSV.</summary>
public static class BoundariesCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "CSV: wide (header of signal names, one row per layer, optional leading 'layer' column) or long (document,layer,signal,value)", Required = true };
        var k = new Option<int?>("--k") { Description = "Also report the best fit with exactly this many boundaries (K = 2 is always reported)" };
        var bootstrap = new Option<int?>("--bootstrap") { Description = $"Bootstrap resamples over documents for the intervals (long CSV only; default {BoundaryBootstrap.DefaultResamples} there, 0 = off)" };
        var nullReplicates = new Option<int>("--null-replicates") { Description = "Parametric-bootstrap replicates per test of K", DefaultValueFactory = _ => 200 };
        var alpha = new Option<double>("--alpha") { Description = "Level of each test in the sequence that chooses K", DefaultValueFactory = _ => 0.05 };
        var maxEdf = new Option<double>("--null-max-edf") { Description = "Cap on the smooth null's effective degrees of freedom per curve", DefaultValueFactory = _ => WhittakerSmoother.DefaultMaxEdf };
        var seed = new Option<int>("--seed") { Description = "Seed of the null replicates and the bootstrap", DefaultValueFactory = _ => 0 };
        var maxK = new Option<int>("--max-k") { Description = "Largest K tested (capped by what the depth allows)", DefaultValueFactory = _ => 4 };
        var penalty = new Option<double?>("--penalty") { Description = "PELT penalty per boundary (exploratory; default: from the smooth null)" };
        var minSize = new Option<int>("--min-size") { Description = "Minimum segment length in layers", DefaultValueFactory = _ => 2 };
        var weights = new Option<string?>("--weights") { Description = "Weights, e.g. attn_distance=0.5,mi_gaussian=0.5 (signals not named get 0); default: equal weight per family of redundant signals" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };

        var cmd = new Command("boundaries", "Find scale boundaries (change points) in per-layer signals, with K chosen by tests against smooth nulls");
        var threads = CliCommon.ThreadsOption();
        foreach (var o in new Option[] { input, k, bootstrap, nullReplicates, alpha, maxEdf, seed, maxK, penalty, minSize, weights, json, threads }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            CliCommon.ApplyThreads(parse, threads);
            string path = parse.GetValue(input)!;
            var table = LayerSignalCsv.Read(path);
            int? resamples = parse.GetValue(bootstrap);
            if (resamples < 0) throw new MspgtException("--bootstrap", $"must be >= 0, got {resamples}");
            if (table.PerDocument is null && resamples > 0)
                throw new MspgtException("--bootstrap", $"needs per-document data: {path} is a wide CSV; use the long format document,layer,signal,value");
            var options = new BoundaryOptions
            {
                ForcedK = parse.GetValue(k),
                Penalty = parse.GetValue(penalty),
                MinSegmentLength = parse.GetValue(minSize),
                MaxK = parse.GetValue(maxK),
                Alpha = parse.GetValue(alpha),
                NullReplicates = parse.GetValue(nullReplicates),
                MaxEdf = parse.GetValue(maxEdf),
                Bootstrap = resamples ?? BoundaryBootstrap.DefaultResamples,
                Seed = parse.GetValue(seed),
                Weights = ParseWeights(parse.GetValue(weights)),
                Families = Signals.SignalNames.Families,
            };
            var report = table.PerDocument is { } docs
                ? BoundaryDetector.Detect(table.Signals, docs, options, path)
                : BoundaryDetector.Detect(table.Signals, table.Values, options, path);

            if (parse.GetValue(json))
                CliCommon.PrintJson(report);
            else
                PrintTable(report, path);
            return 0;
        });
        return cmd;
    }

    /// <summary>"a=0.5,b=0.5" → dictionary; malformed entries throw for --weights.</summary>
    internal static Dictionary<string, double>? ParseWeights(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.LastIndexOf('=');
            if (eq <= 0 || !double.TryParse(part[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
                throw new MspgtException("--weights", $"'{part}' is not name=number");
            string name = part[..eq].Trim();
            if (!result.TryAdd(name, w)) throw new MspgtException("--weights", $"'{name}' is given twice");
        }
        return result;
    }

    private static void PrintTable(BoundaryReport r, string path)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var text = Console.Out; // plain lines go straight out: Spectre would wrap them at the console width
        string Fmt(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        string P(double? p) => p is double v ? (v < 0.001 ? "< 0.001" : v.ToString("0.000", CultureInfo.InvariantCulture)) : "-";
        string Ranges(int[][] segs) => string.Join("  ", segs.Select(s => $"[{s[0]}, {s[1]}]"));
        string Ci(int[][]? ci, int i) => ci is null ? "" : $" (95% CI {ci[i][0]}–{ci[i][1]})";

        text.WriteLine($"{path}: {r.NLayers} layers, {r.NDocuments} document(s), {r.Signals.Length} signals ({string.Join(", ", r.Signals)})");
        text.WriteLine($"K = {r.KSelected} selected by sequential tests against smooth nulls at α = {Fmt(r.Null.Alpha)} (K ≤ {r.KMax} with segments of ≥ {r.MinSegmentLength} layers)");
        text.WriteLine($"boundaries: {(r.Boundaries.Length == 0 ? "none" : string.Join(", ", r.Boundaries.Select((b, i) => $"{b}{Ci(r.BoundaryCi, i)} (depth {Fmt(r.DepthFractions[i])})")))}");
        text.WriteLine($"segments:   {Ranges(r.Segments)}");

        var tests = new Table().AddColumns("K", "null", "statistic", "p");
        foreach (var t in r.KTests)
            tests.AddRow(t.K.ToString(CultureInfo.InvariantCulture), Markup.Escape(t.Null), Markup.Escape($"{Fmt(t.Statistic)}: {t.StatisticName}"), P(t.PValue));
        console.Write(tests);

        foreach (var f in new[] { r.ForcedK2, r.Forced })
        {
            if (f is null) continue;
            text.WriteLine($"best K = {f.K} fit (segments ≥ {f.MinSegmentLength}): boundaries {string.Join(", ", f.Boundaries.Select((b, i) => $"{b}{Ci(f.BoundaryCi, i)}"))}; " +
                           $"against the smooth null: statistic {Fmt(f.StatisticVsSmooth ?? 0)}, p {P(f.PValueVsSmooth)}");
        }
        text.WriteLine($"PELT (exploratory, penalty {Fmt(r.Pelt.Penalty)}): {(r.Pelt.Boundaries.Length == 0 ? "none" : string.Join(", ", r.Pelt.Boundaries))}");
        text.WriteLine($"null: {r.Null.Description}; {r.Null.Resampling}; {r.Null.Replicates} replicates, seed {r.Null.Seed}");

        var signals = new Table().AddColumns("signal", "family", "weight", "noise sd", "noise from", "smooth edf");
        for (int s = 0; s < r.Signals.Length; s++)
            signals.AddRow(Markup.Escape(r.Signals[s]), Markup.Escape(r.Families[s]), Fmt(r.Weights[s]), Fmt(r.NoiseSd[s]), r.NoiseSource[s],
                r.Null.SmoothEdf[s] is double e ? Fmt(e) : "-");
        console.Write(signals);
    }
}
