using System.Globalization;
using Mspgt.Interventions;

namespace Mspgt.Reporting;

/// <summary>The figures of an intervention run: dissociation.png and, when noise ran, dose_response.png.</summary>
public static class InterventionFigures
{
    /// <summary>Writes the figures of <paramref name="report"/> into <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string directory, InterventionReport report)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        if (report.Dissociation is { } dis)
        {
            string png = Path.Combine(directory, InterventionOutputs.DissociationFileName);
            HeatmapPlot.Create(DissociationHeatmap(dis, report.Manifest)).SavePng(png);
            written.Add(png);
        }
        if (InterventionOutputs.DoseResponse(report) is { } dose)
        {
            string png = Path.Combine(directory, InterventionOutputs.DoseResponseFileName);
            DoseResponsePlot.Create(DoseResponse(dose, $"{ModelName(report.Manifest)}: brittleness under residual noise")).SavePng(png);
            written.Add(png);
        }
        return written;
    }

    /// <summary>The primary dissociation matrix, rows limited to the segments that were run; undefined cells (no
    /// metric of the family had a defined d) shown as "n/a". <paramref name="max"/> fixes the top of the colour scale,
    /// so several models' matrices read on one scale.</summary>
    public static HeatmapData DissociationHeatmap(DissociationReport d, InterventionManifest manifest, double? max = null)
    {
        var present = Enumerable.Range(0, d.Rows.Length).Where(r => manifest.Segments.ContainsKey(d.Rows[r])).ToArray();
        if (present.Length == 0) present = Enumerable.Range(0, d.Rows.Length).ToArray();
        var values = new double[present.Length, d.Columns.Length];
        var undefined = new bool[present.Length, d.Columns.Length];
        for (int i = 0; i < present.Length; i++)
            for (int c = 0; c < d.Columns.Length; c++)
            {
                if (d.Matrix[present[i]][c] is double v) values[i, c] = v;
                else undefined[i, c] = true;
            }
        string dominance = d.DiagonalDominance is double dd ? dd.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";
        if (d.DominanceTest is { } t)
            dominance += FormattableString.Invariant($" {(t.Ci is { } ci ? $"[{ci[0]:0.000}, {ci[1]:0.000}]" : "")}, p {t.PValue:0.000}"); // 95% CI, permutation p
        string title = $"{ModelName(manifest)}: dissociation, {manifest.PrimaryCondition}; dominance {dominance}";
        return new HeatmapData(title, values, present.Select(r => d.Rows[r]).ToArray(), d.Columns,
            "mean |Cohen's d_z|", HeatmapScale.Sequential, ValueFormat: "0.000", XLabel: "metric family", YLabel: "segment intervened on",
            Min: 0, Max: max, Undefined: undefined);
    }

    /// <summary>The model's name for titles: the file or folder name of its path.</summary>
    public static string ModelName(InterventionManifest manifest) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(manifest.Model)) is { Length: > 0 } n ? n : manifest.Model;

    /// <summary>The dose-response curves as a plot's data.</summary>
    public static DoseResponseData DoseResponse(DoseResponse dose, string title = "Brittleness under residual noise") =>
        new(title, dose.Segments.Select(Series).ToList(), dose.Control is { } c ? Series(c) : null,
            YLabel: "mean KL(clean ‖ intervened), nats", XLabel: "noise strength α (× mean residual norm)");

    public static DoseResponseSeries Series(DoseCurve c) => new(c.Segment, c.Alphas, c.Values, c.Lower, c.Upper);
}
