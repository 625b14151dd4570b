using Mspgt.Interventions.Outcomes;
using System.Text.Json.Serialization;
using Mspgt.Files;

namespace Mspgt.Interventions;

/// <summary>Brittleness against noise strength α for one segment (or the random-segment control).</summary>
public sealed record DoseCurve(
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("alphas")] double[] Alphas,
    [property: JsonPropertyName("values")] double[] Values,
    [property: JsonPropertyName("lower")] double[]? Lower,
    [property: JsonPropertyName("upper")] double[]? Upper);

/// <summary>Every named segment's noise dose-response curve and the random control's.</summary>
public sealed record DoseResponse(IReadOnlyList<DoseCurve> Segments, DoseCurve? Control);

/// <summary>Writes the data files of an intervention run into one folder, each atomically (figures: Reporting).</summary>
public static class InterventionOutputs
{
    public const string EffectsFileName = "effects.json";
    public const string DissociationFileName = "dissociation.png";
    public const string DoseResponseFileName = "dose_response.png";

    /// <summary>interventions.parquet and effects.json. Returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string directory, InterventionResult result)
    {
        if (File.Exists(directory)) throw new MspgtException(directory, "the output must be a folder, not a file");
        Directory.CreateDirectory(directory);
        string parquet = Path.Combine(directory, InterventionTable.FileName);
        InterventionTable.Table(result.Rows).Write(parquet);
        string effects = Path.Combine(directory, EffectsFileName);
        JsonOutput.WriteFile(effects, result.Report);
        return [parquet, effects];
    }

    /// <summary>Brittleness (mean KL) against noise α, one curve per named segment with its bootstrap interval,
    /// plus the random control (the mean over named segments of their random-row effects). Null without noise.</summary>
    public static DoseResponse? DoseResponse(InterventionReport report)
    {
        var noise = report.Effects.Where(e => e.Intervention == "noise" && e.Metric == OutcomeMetrics.BrittlenessKl && e.Effect is not null).ToList();
        if (noise.Count == 0) return null;
        var segments = new List<DoseCurve>();
        foreach (var name in report.Manifest.Segments.Keys.OrderBy(n => report.Manifest.Segments[n][0]))
        {
            var pts = noise.Where(e => e.Segment == name && e.ControlFor is null).OrderBy(e => e.Alpha).ToList();
            if (pts.Count == 0) continue;
            var seg = report.Manifest.Segments[name];
            segments.Add(new DoseCurve($"{name} ({seg[0]}-{seg[1]})", pts.Select(e => e.Alpha!.Value).ToArray(),
                pts.Select(e => e.Effect!.Value).ToArray(), pts.Select(e => e.Ci![0]).ToArray(), pts.Select(e => e.Ci![1]).ToArray()));
        }
        if (segments.Count == 0) return null;
        var control = noise.Where(e => e.Segment == "random").GroupBy(e => e.Alpha!.Value).OrderBy(g => g.Key).ToList();
        DoseCurve? controlCurve = control.Count == 0 ? null
            : new DoseCurve("random segments (mean)", control.Select(g => g.Key).ToArray(), control.Select(g => g.Average(e => e.Effect!.Value)).ToArray(), null, null);
        return new DoseResponse(segments, controlCurve);
    }
}
