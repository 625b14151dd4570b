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
        var k = new Option<int?>("--k") { Description = "Force this many boundaries (dp only); default: K chosen by BIC over 0..4" };
        var bootstrap = new Option<int?>("--bootstrap") { Description = $"Bootstrap resamples over documents (long CSV only; default {BoundaryBootstrap.DefaultResamples} there, 0 = off)" };
        var seed = new Option<int>("--seed") { Description = "Seed of the bootstrap", DefaultValueFactory = _ => 0 };
        var method = new Option<string>("--method") { Description = "dp (exact, K forced or by BIC) or pelt (penalised)", DefaultValueFactory = _ => "dp" };
        method.AcceptOnlyFromAmong("dp", "pelt");
        var penalty = new Option<double?>("--penalty") { Description = "PELT penalty per boundary (default: BIC-style, sigma^2 (S+1) ln L)" };
        var minSize = new Option<int>("--min-size") { Description = "Minimum segment length in layers", DefaultValueFactory = _ => 1 };
        var weights = new Option<string?>("--weights") { Description = "Fusion weights, e.g. attn_dist=0.5,mi=0.5 (signals not named get 0)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };

        var cmd = new Command("boundaries", "Find scale boundaries (change points) in per-layer signals");
        foreach (var o in new Option[] { input, k, bootstrap, seed, method, penalty, minSize, weights, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(input)!;
            var table = LayerSignalCsv.Read(path);
            var options = new BoundaryOptions
            {
                ForcedK = parse.GetValue(k),
                Method = parse.GetValue(method) == "pelt" ? SearchMethod.Pelt : SearchMethod.Dp,
                Penalty = parse.GetValue(penalty),
                MinSegmentLength = parse.GetValue(minSize),
                Weights = ParseWeights(parse.GetValue(weights)),
            };
            int? resamples = parse.GetValue(bootstrap);
            if (resamples < 0) throw new MspgtException("--bootstrap", $"must be >= 0, got {resamples}");
            BoundaryReport report;
            if (table.PerDocument is { } docs)
                report = BoundaryDetector.Detect(table.Signals, docs, options, resamples ?? BoundaryBootstrap.DefaultResamples, parse.GetValue(seed), path);
            else
            {
                if (resamples > 0)
                    throw new MspgtException("--bootstrap", $"needs per-document data: {path} is a wide CSV; use the long format document,layer,signal,value");
                report = BoundaryDetector.Detect(table.Signals, table.Values, options, path);
            }

            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(report));
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
        string Ranges(int[][] segs) => string.Join("  ", segs.Select(s => $"[{s[0]}, {s[1]}]"));

        text.WriteLine($"{path}: {r.NLayers} layers, {r.Signals.Length} signals ({string.Join(", ", r.Signals)})");
        string how = r.Method == "pelt" ? $"PELT, penalty {Fmt(r.Penalty ?? 0)}" : r.KForced ? "dp, K forced" : "dp, K by BIC";
        text.WriteLine($"K = {r.KSelected} ({how}); BIC prefers K = {r.KBic}");
        text.WriteLine($"boundaries: {(r.Boundaries.Length == 0 ? "none" : string.Join(", ", r.Boundaries.Select((b, i) => $"{b} (depth {Fmt(r.DepthFractions[i])})")))}");
        text.WriteLine($"segments:   {Ranges(r.Segments)}");

        var perK = new Table().AddColumns("K", "cost", "BIC", "boundaries");
        foreach (var f in r.PerK)
            perK.AddRow(f.K.ToString(CultureInfo.InvariantCulture), Fmt(f.Cost), Fmt(f.Bic), Markup.Escape(string.Join(", ", f.Boundaries)));
        console.Write(perK);

        if (r.ForcedK2 is { } k2)
        {
            var t = new Table().AddColumns("K = 2 boundary", "layer", "depth", "bootstrap mode", "95% interval");
            for (int i = 0; i < 2; i++)
            {
                string mode = r.Bootstrap is { } b ? b.BoundaryMode[i].ToString(CultureInfo.InvariantCulture) : "-";
                string ci = r.BoundaryCi is { } c ? Markup.Escape($"[{c[i][0]}, {c[i][1]}]") : "-";
                t.AddRow($"b{i + 1}", k2.Boundaries[i].ToString(CultureInfo.InvariantCulture), Fmt(k2.DepthFractions[i]), mode, ci);
            }
            console.Write(t);
            text.WriteLine($"K = 2 segments: {Ranges(k2.Segments)}");
        }
        if (r.Bootstrap is { } boot)
            text.WriteLine($"bootstrap: {boot.Resamples} resamples of {boot.Documents} documents, seed {boot.Seed}; BIC-selected K counts: " +
                string.Join(", ", boot.KCounts.Select((c, kk) => $"K={kk}: {c}")));

        var layers = new Table().AddColumns("layer", "fused");
        for (int i = 0; i < r.NLayers; i++) layers.AddRow(i.ToString(CultureInfo.InvariantCulture), Fmt(r.Fused[i]));
        console.Write(layers);
    }
}
