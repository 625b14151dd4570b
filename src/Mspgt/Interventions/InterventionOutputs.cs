using System.Globalization;
using Mspgt.Interventions.Outcomes;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Interventions;

/// <summary>Writes the files of an intervention run into one folder, each atomically.</summary>
public static class InterventionOutputs
{
    public const string EffectsFileName = "effects.json";
    public const string DissociationFileName = "dissociation.png";
    public const string DoseResponseFileName = "dose_response.png";

    /// <summary>
    /// interventions.parquet, effects.json, dissociation.png and, when noise is among the interventions,
    /// dose_response.png. Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, InterventionResult result)
    {
        if (File.Exists(directory)) throw new MspgtException(directory, "the output must be a folder, not a file");
        Directory.CreateDirectory(directory);
        var written = new List<string>();

        string parquet = Path.Combine(directory, InterventionTable.FileName);
        Table(result.Rows).Write(parquet);
        written.Add(parquet);

        string effects = Path.Combine(directory, EffectsFileName);
        JsonOutput.WriteFile(effects, result.Report);
        written.Add(effects);

        if (result.Report.Dissociation is { } dis)
        {
            string png = Path.Combine(directory, DissociationFileName);
            HeatmapPlot.Create(DissociationHeatmap(dis, result.Report.Manifest)).SavePng(png);
            written.Add(png);
        }

        if (DoseResponse(result.Report) is { } dose)
        {
            string png = Path.Combine(directory, DoseResponseFileName);
            DoseResponsePlot.Create(dose).SavePng(png);
            written.Add(png);
        }
        return written;
    }

    /// <summary>The standard interventions table plus first_layer, last_layer, draw and control_for.</summary>
    public static ParquetTable Table(IReadOnlyList<InterventionTableRow> rows) =>
        InterventionTable.Table(rows.Select(r => r.Row).ToArray())
            .AddInts("first_layer", rows.Select(r => r.FirstLayer).ToArray())
            .AddInts("last_layer", rows.Select(r => r.LastLayer).ToArray())
            .AddInts("draw", rows.Select(r => r.Draw).ToArray())
            .AddStrings("control_for", rows.Select(r => r.ControlFor).ToArray());

    /// <summary>The primary dissociation matrix, rows limited to the segments that were run. Undefined cells (no
    /// metric of the family had a defined d) are drawn as 0 and named in the title.</summary>
    public static HeatmapData DissociationHeatmap(DissociationReport d, InterventionManifest manifest)
    {
        var present = Enumerable.Range(0, d.Rows.Length).Where(r => manifest.Segments.ContainsKey(d.Rows[r])).ToArray();
        if (present.Length == 0) present = Enumerable.Range(0, d.Rows.Length).ToArray();
        var values = new double[present.Length, d.Columns.Length];
        int empty = 0;
        for (int i = 0; i < present.Length; i++)
            for (int c = 0; c < d.Columns.Length; c++)
            {
                if (d.Matrix[present[i]][c] is double v) values[i, c] = v;
                else empty++;
            }
        string condition = manifest.PrimaryCondition;
        string dominance = d.DiagonalDominance is double dd ? dd.ToString("0.00", CultureInfo.InvariantCulture) : "undefined";
        if (d.DominanceTest is { } t)
            dominance += FormattableString.Invariant($" {(t.Ci is { } ci ? $"[{ci[0]:0.00}, {ci[1]:0.00}]" : "")}, p {t.PValue:0.000}"); // 95% CI, permutation p
        string title = $"Dissociation, {condition}: dominance {dominance}" + (empty > 0 ? $" ({empty} empty cell(s) shown as 0)" : "");
        return new HeatmapData(title, values, present.Select(r => d.Rows[r]).ToArray(), d.Columns,
            "mean |Cohen's d_z|", HeatmapScale.Sequential, XLabel: "metric family", YLabel: "segment intervened on", Min: 0);
    }

    /// <summary>Brittleness (mean KL) against noise α, one series per named segment with its bootstrap interval,
    /// plus the random control (the mean over named segments of their random-row effects). Null without noise.</summary>
    public static DoseResponseData? DoseResponse(InterventionReport report)
    {
        var noise = report.Effects.Where(e => e.Intervention == "noise" && e.Metric == OutcomeMetrics.BrittlenessKl && e.Effect is not null).ToList();
        if (noise.Count == 0) return null;
        var segments = new List<DoseResponseSeries>();
        foreach (var name in report.Manifest.Segments.Keys.OrderBy(n => report.Manifest.Segments[n][0]))
        {
            var pts = noise.Where(e => e.Segment == name && e.ControlFor is null).OrderBy(e => e.Alpha).ToList();
            if (pts.Count == 0) continue;
            var seg = report.Manifest.Segments[name];
            segments.Add(new DoseResponseSeries($"{name} ({seg[0]}-{seg[1]})", pts.Select(e => e.Alpha!.Value).ToArray(),
                pts.Select(e => e.Effect!.Value).ToArray(), pts.Select(e => e.Ci![0]).ToArray(), pts.Select(e => e.Ci![1]).ToArray()));
        }
        if (segments.Count == 0) return null;
        var control = noise.Where(e => e.Segment == "random").GroupBy(e => e.Alpha!.Value).OrderBy(g => g.Key).ToList();
        DoseResponseSeries? controlSeries = control.Count == 0 ? null
            : new DoseResponseSeries("random segments (mean)", control.Select(g => g.Key).ToArray(), control.Select(g => g.Average(e => e.Effect!.Value)).ToArray());
        return new DoseResponseData("Brittleness under residual noise", segments, controlSeries,
            YLabel: "mean KL(clean ‖ intervened), nats", XLabel: "noise strength α (× mean residual norm)");
    }
}
