using System.Text.Json.Serialization;

namespace Mspgt.Scales;

/// <summary>
/// The three scales as inclusive layer ranges, with how the local end was decided:
/// "attention+probe" (both signals agree), "attention" (no probe curve, or the probe tied), "probe" (attention tied),
/// "depth-order: tie" (both tied or missing) or "depth-order: conflict" (the signals disagree).
/// </summary>
public sealed record ScaleAssignment(
    [property: JsonPropertyName(ScaleNames.Local)] int[] Local,
    [property: JsonPropertyName(ScaleNames.Intermediate)] int[] Intermediate,
    [property: JsonPropertyName(ScaleNames.Global)] int[] Global,
    [property: JsonPropertyName("decided_by")] string DecidedBy);

/// <summary>
/// Names the three segments of a K = 2 fit from data rather than assuming depth order. The local scale is the end
/// segment (first or last) with the shorter mean attention distance and the lower global-probe accuracy; the
/// middle segment is always intermediate and the other end global.
/// <para>Tie-breaking: the two ends' segment means are compared with a relative tolerance of 1e-9. If attention
/// distance separates them it decides unless the probe separates them the other way; a probe curve that ties (or is
/// absent) leaves the decision to attention, attention that ties leaves it to the probe. When both tie, or the
/// two signals point to different ends, the paper's depth order is used: the first segment is local.</para>
/// </summary>
public static class ScaleNaming
{
    private const double RelativeTolerance = 1e-9;

    public static ScaleAssignment Assign(IReadOnlyList<int> boundaries, int nLayers,
        IReadOnlyList<double> meanAttentionDistance, IReadOnlyList<double>? globalProbeAccuracy = null,
        string source = "scale naming")
    {
        if (boundaries.Count != 2) throw new MspgtException(source, $"naming scales needs exactly 2 boundaries, got {boundaries.Count}");
        try { Segmentation.Validate(boundaries, nLayers); }
        catch (ArgumentException e) { throw new MspgtException(source, e.Message); }
        CheckCurve(meanAttentionDistance, nLayers, "mean attention distance", source);
        if (globalProbeAccuracy is not null) CheckCurve(globalProbeAccuracy, nLayers, "global-probe accuracy", source);

        var segments = Segmentation.SegmentsOf(boundaries, nLayers);
        int[] first = segments[0], middle = segments[1], last = segments[2];

        // +1: the first segment is more local; −1: the last segment is; 0: tie / no information.
        int attention = Compare(Mean(meanAttentionDistance, last), Mean(meanAttentionDistance, first));
        int probe = globalProbeAccuracy is null ? 0 : Compare(Mean(globalProbeAccuracy, last), Mean(globalProbeAccuracy, first));

        bool firstIsLocal;
        string decidedBy;
        if (attention != 0 && probe != 0 && attention != probe) { firstIsLocal = true; decidedBy = "depth-order: conflict"; }
        else if (attention != 0 && probe != 0) { firstIsLocal = attention > 0; decidedBy = "attention+probe"; }
        else if (attention != 0) { firstIsLocal = attention > 0; decidedBy = "attention"; }
        else if (probe != 0) { firstIsLocal = probe > 0; decidedBy = "probe"; }
        else { firstIsLocal = true; decidedBy = "depth-order: tie"; }

        return firstIsLocal
            ? new ScaleAssignment(first, middle, last, decidedBy)
            : new ScaleAssignment(last, middle, first, decidedBy);
    }

    /// <summary>+1 if a &gt; b, −1 if a &lt; b, 0 if equal within the relative tolerance.</summary>
    private static int Compare(double a, double b)
    {
        double scale = Math.Max(Math.Abs(a), Math.Abs(b));
        if (Math.Abs(a - b) <= RelativeTolerance * scale) return 0;
        return a > b ? 1 : -1;
    }

    private static double Mean(IReadOnlyList<double> curve, int[] segment)
    {
        double sum = 0;
        for (int i = segment[0]; i <= segment[1]; i++) sum += curve[i];
        return sum / (segment[1] - segment[0] + 1);
    }

    private static void CheckCurve(IReadOnlyList<double> curve, int nLayers, string what, string source)
    {
        if (curve.Count != nLayers) throw new MspgtException(source, $"{what} has {curve.Count} values for {nLayers} layers");
        for (int i = 0; i < curve.Count; i++)
            if (!double.IsFinite(curve[i])) throw new MspgtException(source, $"{what} at layer {i} is not a finite number");
    }
}
