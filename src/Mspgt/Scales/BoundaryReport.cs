using System.Text.Json.Serialization;

namespace Mspgt.Scales;

/// <summary>One fit with exactly K boundaries in report form.</summary>
/// <param name="BoundaryCi">95% bootstrap interval over documents per boundary; null without documents.</param>
/// <param name="StatisticVsSmooth">RSS(smooth null) − RSS(this fit), squared standard errors (weighted).</param>
/// <param name="PValueVsSmooth">Parametric-bootstrap p-value of that statistic under the smooth null.</param>
public sealed record FitSummary(
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("min_segment_length")] int MinSegmentLength,
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("boundary_ci")] int[][]? BoundaryCi,
    [property: JsonPropertyName("depth_fractions")] double[] DepthFractions,
    [property: JsonPropertyName("segments")] int[][] Segments,
    [property: JsonPropertyName("cost")] double Cost,
    [property: JsonPropertyName("statistic_vs_smooth")] double? StatisticVsSmooth,
    [property: JsonPropertyName("p_value_vs_smooth")] double? PValueVsSmooth,
    [property: JsonPropertyName("bootstrap_mode")] int[]? BootstrapMode,
    [property: JsonPropertyName("bootstrap_counts")] int[][]? BootstrapCounts,
    [property: JsonPropertyName("bootstrap_draws")] int[][]? BootstrapDraws = null);

/// <summary>How the null distributions were made (the statsmodels habit: every test says what it assumed).</summary>
public sealed record NullSummary(
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("resampling")] string Resampling,
    [property: JsonPropertyName("replicates")] int Replicates,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("max_edf")] double MaxEdf,
    [property: JsonPropertyName("smooth_edf")] double?[] SmoothEdf);

/// <summary>PELT with the linear-trend cost (exploratory; the calibrated choice is <c>k_selected</c>).</summary>
public sealed record PeltSummary(
    [property: JsonPropertyName("penalty")] double Penalty,
    [property: JsonPropertyName("penalty_source")] string PenaltySource,
    [property: JsonPropertyName("boundaries")] int[] Boundaries);

/// <summary>Settings of the document bootstrap behind the intervals.</summary>
public sealed record BootstrapSettings(
    [property: JsonPropertyName("resamples")] int Resamples,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("documents")] int Documents,
    [property: JsonPropertyName("confidence")] double Confidence);

/// <summary>
/// Result of boundary detection (what <c>mspgt boundaries --json</c> prints). <see cref="KSelected"/> is the
/// calibrated choice of <see cref="CalibratedSelection"/> (0 is a possible answer) and <see cref="Boundaries"/>,
/// <see cref="BoundaryCi"/>, <see cref="DepthFractions"/>, <see cref="Segments"/> belong to it;
/// <see cref="KTests"/> lists the sequential tests; <see cref="ForcedK2"/> is the best two-boundary fit whatever K
/// was selected, with its p-value against the smooth null (the same as the selected fit when K = 2 was selected);
/// <see cref="Forced"/> the fit of a user-forced K other than 2. Boundary convention: see <see cref="Segmentation"/>.
/// </summary>
public sealed record BoundaryReport(
    [property: JsonPropertyName("n_layers")] int NLayers,
    [property: JsonPropertyName("n_documents")] int NDocuments,
    [property: JsonPropertyName("signals")] string[] Signals,
    [property: JsonPropertyName("families")] string[] Families,
    [property: JsonPropertyName("weights")] double[] Weights,
    [property: JsonPropertyName("noise_sd")] double[] NoiseSd,
    [property: JsonPropertyName("noise_source")] string[] NoiseSource,
    [property: JsonPropertyName("fused")] double[] Fused,
    [property: JsonPropertyName("min_segment_length")] int MinSegmentLength,
    [property: JsonPropertyName("k_max")] int KMax,
    [property: JsonPropertyName("k_selected")] int KSelected,
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("boundary_ci")] int[][]? BoundaryCi,
    [property: JsonPropertyName("depth_fractions")] double[] DepthFractions,
    [property: JsonPropertyName("segments")] int[][] Segments,
    [property: JsonPropertyName("k_tests")] IReadOnlyList<KTest> KTests,
    [property: JsonPropertyName("per_k")] IReadOnlyList<KFitTest> PerK,
    [property: JsonPropertyName("forced_k2")] FitSummary ForcedK2,
    [property: JsonPropertyName("forced")] FitSummary? Forced,
    [property: JsonPropertyName("pelt")] PeltSummary Pelt,
    [property: JsonPropertyName("null")] NullSummary Null,
    [property: JsonPropertyName("bootstrap")] BootstrapSettings? Bootstrap);
