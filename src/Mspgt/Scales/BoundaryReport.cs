using System.Text.Json.Serialization;

namespace Mspgt.Scales;

/// <summary>One segmentation in report form (boundaries, their depth fractions, inclusive segments, cost).</summary>
public sealed record SegmentationSummary(
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("depth_fractions")] double[] DepthFractions,
    [property: JsonPropertyName("segments")] int[][] Segments,
    [property: JsonPropertyName("cost")] double Cost)
{
    public static SegmentationSummary From(Segmentation s) => new(s.Boundaries, s.DepthFractions(), s.Segments(), s.Cost);
}

/// <summary>
/// Bootstrap over documents of the forced K = 2 fit. Per boundary: its distribution over layers
/// (<see cref="BoundaryCounts"/>[i][layer], layer 0..L−1), the mode (ties to the shallower layer), the
/// percentile interval at <see cref="Confidence"/> and the mode's depth fraction; plus the distribution of the
/// BIC-selected K (<see cref="KCounts"/>[K]).
/// </summary>
public sealed record BootstrapSummary(
    [property: JsonPropertyName("resamples")] int Resamples,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("documents")] int Documents,
    [property: JsonPropertyName("confidence")] double Confidence,
    [property: JsonPropertyName("boundary_mode")] int[] BoundaryMode,
    [property: JsonPropertyName("boundary_ci")] int[][] BoundaryCi,
    [property: JsonPropertyName("mode_depth_fractions")] double[] ModeDepthFractions,
    [property: JsonPropertyName("boundary_counts")] int[][] BoundaryCounts,
    [property: JsonPropertyName("k_counts")] int[] KCounts);

/// <summary>
/// Result of boundary detection. <see cref="KSelected"/> / <see cref="Boundaries"/> / <see cref="DepthFractions"/> /
/// <see cref="Segments"/> describe the chosen fit (forced --k, else BIC for dp, else PELT's own count);
/// <see cref="BoundaryCi"/> is the bootstrap interval of the two boundaries of the forced K = 2 fit
/// (<see cref="ForcedK2"/>), null without per-document data. <see cref="PerK"/> lists the exact optimal fit and BIC
/// for K = 0..max. Boundary convention: see <see cref="Segmentation"/>.
/// </summary>
public sealed record BoundaryReport(
    [property: JsonPropertyName("n_layers")] int NLayers,
    [property: JsonPropertyName("signals")] string[] Signals,
    [property: JsonPropertyName("weights")] double[] Weights,
    [property: JsonPropertyName("fused")] double[] Fused,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("min_segment_length")] int MinSegmentLength,
    [property: JsonPropertyName("penalty")] double? Penalty,
    [property: JsonPropertyName("k_forced")] bool KForced,
    [property: JsonPropertyName("k_bic")] int KBic,
    [property: JsonPropertyName("k_selected")] int KSelected,
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("boundary_ci")] int[][]? BoundaryCi,
    [property: JsonPropertyName("depth_fractions")] double[] DepthFractions,
    [property: JsonPropertyName("segments")] int[][] Segments,
    [property: JsonPropertyName("cost")] double Cost,
    [property: JsonPropertyName("per_k")] KFit[] PerK,
    [property: JsonPropertyName("forced_k2")] SegmentationSummary? ForcedK2,
    [property: JsonPropertyName("bootstrap")] BootstrapSummary? Bootstrap);
