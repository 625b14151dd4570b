using System.Text.Json.Serialization;
using Mspgt.Reporting;

namespace Mspgt.Interventions;

/// <summary>The segment's mean effect among the control windows' mean effects (<see cref="Statistics.ControlComparison"/>,
/// by magnitude): one-sided "this segment moves the metric more than a random window of its width".</summary>
public sealed record ExceedanceSummary(
    [property: JsonPropertyName("control_mean_magnitude")] double ControlMeanMagnitude,
    [property: JsonPropertyName("ratio")] double? Ratio,
    [property: JsonPropertyName("z")] double? Z,
    [property: JsonPropertyName("percentile")] double Percentile,
    [property: JsonPropertyName("p")] double P,
    [property: JsonPropertyName("p_floor")] double PFloor);

/// <summary>
/// A named segment's effect against its width-matched control windows (<see cref="Statistics.ControlContrast"/>):
/// per document c_d = segment effect − mean of the windows' effects. All statistics are null when the segment has
/// no control window (<see cref="Note"/> says why) or no document pairs.
/// </summary>
public sealed record ControlContrastReport
{
    /// <summary>Control windows k (the manifest's control_draws lists them).</summary>
    [JsonPropertyName("windows")] public int Windows { get; init; }
    /// <summary>Documents in the contrast.</summary>
    [JsonPropertyName("n")] public int N { get; init; }
    /// <summary>Mean over documents of c_d.</summary>
    [JsonPropertyName("mean")] public double? Mean { get; init; }
    /// <summary>Paired bootstrap 95% percentile interval of the mean c_d (documents resampled).</summary>
    [JsonPropertyName("ci")] public double[]? Ci { get; init; }
    /// <summary>Two-sided sign-flip permutation p of H0: E[c_d] = 0, uncorrected.</summary>
    [JsonPropertyName("p")] public double? P { get; init; }
    /// <summary>d_z of the c_d.</summary>
    [JsonPropertyName("cohens_d")] public double? CohensD { get; init; }
    /// <summary>For brittleness_kl and delta_nll: mean and interval ÷ the width (the windows share it).</summary>
    [JsonPropertyName("mean_per_block")] public double? MeanPerBlock { get; init; }
    [JsonPropertyName("ci_per_block")] public double[]? CiPerBlock { get; init; }
    /// <summary>Per window, in the manifest's order: its mean effect over the documents where it is defined.</summary>
    [JsonPropertyName("control_effects")] public double?[] ControlEffects { get; init; } = [];
    [JsonPropertyName("exceedance")] public ExceedanceSummary? Exceedance { get; init; }
    [JsonPropertyName("note")] public string? Note { get; init; }
}

/// <summary>
/// One line of the effect table: the paired effect (intervened − clean, over documents) of one intervention on
/// one segment on one metric. Null statistics mean no document had the metric defined on both sides (n = 0), or
/// (Cohen's d) that it is undefined.
/// </summary>
public sealed record InterventionEffect
{
    /// <summary>local / intermediate / global, "random" for the random-segment control, "none" for the no-op.</summary>
    [JsonPropertyName("segment")] public required string Segment { get; init; }
    /// <summary>[first, last] blocks for a named segment (all blocks for the no-op); null for random rows.</summary>
    [JsonPropertyName("layers")] public int[]? Layers { get; init; }
    /// <summary>Blocks intervened on (for random rows the width of each window).</summary>
    [JsonPropertyName("width")] public int Width { get; init; }
    /// <summary>For random rows: the named segment whose width the draws share.</summary>
    [JsonPropertyName("control_for")] public string? ControlFor { get; init; }
    [JsonPropertyName("intervention")] public required string Intervention { get; init; }
    [JsonPropertyName("component")] public required string Component { get; init; }
    [JsonPropertyName("alpha")] public double? Alpha { get; init; }
    [JsonPropertyName("metric")] public required string Metric { get; init; }
    [JsonPropertyName("family")] public required string Family { get; init; }
    /// <summary>The metric's sign is fixed (brittleness_kl ≥ 0, top1_agreement − 1 ≤ 0), so a test against 0
    /// cannot fail and is not reported.</summary>
    [JsonPropertyName("sign_constrained")] public bool SignConstrained { get; init; }
    /// <summary>Documents paired.</summary>
    [JsonPropertyName("n")] public int N { get; init; }
    /// <summary>Descriptive: mean over documents of intervened − clean.</summary>
    [JsonPropertyName("effect")] public double? Effect { get; init; }
    /// <summary>Paired bootstrap 95% percentile interval of the mean effect.</summary>
    [JsonPropertyName("ci")] public double[]? Ci { get; init; }
    /// <summary>For brittleness_kl and delta_nll: effect and interval ÷ width (noise at every block of a wider
    /// segment adds up, so totals of different widths are not comparable).</summary>
    [JsonPropertyName("effect_per_block")] public double? EffectPerBlock { get; init; }
    [JsonPropertyName("ci_per_block")] public double[]? CiPerBlock { get; init; }
    /// <summary>Exploratory: two-sided paired sign-flip p of "mean effect = 0", uncorrected; null for
    /// sign-constrained metrics.</summary>
    [JsonPropertyName("p_vs_zero")] public double? PVsZero { get; init; }
    /// <summary>Paired Cohen's d_z.</summary>
    [JsonPropertyName("cohens_d")] public double? CohensD { get; init; }
    /// <summary>Named rows only: the effect against the width-matched control windows.</summary>
    [JsonPropertyName("vs_controls")] public ControlContrastReport? VsControls { get; init; }
    /// <summary>A declared confirmatory row: named segment × intervention condition × brittleness_kl.</summary>
    [JsonPropertyName("confirmatory")] public bool Confirmatory { get; init; }
    /// <summary>Confirmatory rows only: <see cref="ControlContrastReport.P"/> Holm-adjusted over the confirmatory rows.</summary>
    [JsonPropertyName("p_holm")] public double? PHolm { get; init; }
    /// <summary>effect − the no-op run's effect on the same metric (the no-op's effect should be exactly 0).</summary>
    [JsonPropertyName("vs_noop")] public double? VsNoop { get; init; }
}

/// <summary>The diagonal dominance with its document-bootstrap interval and label-permutation null
/// (<see cref="DissociationTest"/>).</summary>
public sealed record DominanceTestReport
{
    [JsonPropertyName("diagonal_dominance")] public double DiagonalDominance { get; init; }
    /// <summary>Bootstrap 95% percentile interval (documents resampled).</summary>
    [JsonPropertyName("ci")] public double[]? Ci { get; init; }
    [JsonPropertyName("bootstrap_resamples")] public int BootstrapResamples { get; init; }
    /// <summary>Resamples with three complete rows, the ones the interval is taken over.</summary>
    [JsonPropertyName("bootstrap_used")] public int BootstrapUsed { get; init; }
    /// <summary>Mean score under per-document permutation of the segment labels.</summary>
    [JsonPropertyName("null_mean")] public double? NullMean { get; init; }
    /// <summary>One-sided permutation p of H0 "the three segments are exchangeable within each document".</summary>
    [JsonPropertyName("p_value")] public double PValue { get; init; }
    [JsonPropertyName("permutations")] public int Permutations { get; init; }
    [JsonPropertyName("permutations_used")] public int PermutationsUsed { get; init; }
    [JsonPropertyName("documents")] public int Documents { get; init; }
}

/// <summary>The segment × metric-family dissociation matrix of one intervention condition, as reported.</summary>
public sealed record DissociationReport
{
    [JsonPropertyName("intervention")] public required string Intervention { get; init; }
    [JsonPropertyName("component")] public required string Component { get; init; }
    [JsonPropertyName("alpha")] public double? Alpha { get; init; }
    [JsonPropertyName("rows")] public required string[] Rows { get; init; }
    [JsonPropertyName("columns")] public required string[] Columns { get; init; }
    /// <summary>matrix[row][column] = mean |Cohen's d_z| of the column family's metrics for the row's segment.</summary>
    [JsonPropertyName("matrix")] public required double?[][] Matrix { get; init; }
    [JsonPropertyName("counts")] public required int[][] Counts { get; init; }
    [JsonPropertyName("row_margins")] public required double?[] RowMargins { get; init; }
    [JsonPropertyName("diagonal_dominance")] public double? DiagonalDominance { get; init; }
    [JsonPropertyName("row_max_fraction")] public double? RowMaxFraction { get; init; }
    [JsonPropertyName("column_max_fraction")] public double? ColumnMaxFraction { get; init; }
    /// <summary>Interval and permutation null of the diagonal dominance; null when not all three named segments
    /// have complete rows (<see cref="DominanceTestNote"/> says why).</summary>
    [JsonPropertyName("dominance_test")] public DominanceTestReport? DominanceTest { get; init; }
    [JsonPropertyName("dominance_test_note")] public string? DominanceTestNote { get; init; }
    /// <summary>Only on the top-level (primary) report: the matrix of every intervention condition.</summary>
    [JsonPropertyName("by_condition")] public IReadOnlyList<DissociationReport>? ByCondition { get; init; }
}

/// <summary>The control windows of one named segment.</summary>
/// <param name="Candidates">Windows of this width that do not overlap the segment.</param>
/// <param name="ExceedancePFloor">1/(k+1) for the k windows used; null without windows.</param>
/// <param name="Note">Why fewer windows than requested were used, or null.</param>
public sealed record ControlDraws(
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("layers")] int[][] Layers,
    [property: JsonPropertyName("candidates")] int Candidates,
    [property: JsonPropertyName("requested")] int Requested,
    [property: JsonPropertyName("exceedance_p_floor")] double? ExceedancePFloor,
    [property: JsonPropertyName("note")] string? Note);

/// <summary>What was run, on what, with which settings: enough to reproduce the table.</summary>
public sealed record InterventionManifest
{
    [JsonPropertyName("tool")] public string Tool { get; init; } = "mspgt intervene";
    [JsonPropertyName("version")] public string Version { get; init; } = ProgramInfo.Version;
    /// <summary>Worker threads the run used (-t/--threads); results do not depend on it.</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = Mspgt.Numerics.Parallelism.Threads;
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>Where the forward pass ran: "cpu" or e.g. "cuda:0 (NVIDIA H200)".</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";
    [JsonPropertyName("model_sha256")] public string? ModelSha256 { get; init; }
    [JsonPropertyName("n_layers")] public int NLayers { get; init; }
    [JsonPropertyName("tokenizer")] public string? Tokenizer { get; init; }
    [JsonPropertyName("corpus")] public required string Corpus { get; init; }
    [JsonPropertyName("corpus_sha256")] public string? CorpusSha256 { get; init; }
    [JsonPropertyName("documents")] public int Documents { get; init; }
    [JsonPropertyName("documents_skipped")] public int DocumentsSkipped { get; init; }
    [JsonPropertyName("tokens_per_document")] public int[] TokensPerDocument { get; init; } = [];
    [JsonPropertyName("seed")] public int Seed { get; init; }
    [JsonPropertyName("segments")] public required Dictionary<string, int[]> Segments { get; init; }
    [JsonPropertyName("segments_source")] public required string SegmentsSource { get; init; }
    [JsonPropertyName("control_draws")] public required IReadOnlyList<ControlDraws> ControlDraws { get; init; }
    [JsonPropertyName("interventions")] public required string[] Interventions { get; init; }
    [JsonPropertyName("continuations")] public int Continuations { get; init; }
    [JsonPropertyName("gen_tokens")] public int GenTokens { get; init; }
    [JsonPropertyName("prompt_tokens")] public int PromptTokens { get; init; }
    [JsonPropertyName("temperature")] public double Temperature { get; init; }
    [JsonPropertyName("top_p")] public double TopP { get; init; }
    [JsonPropertyName("bootstrap_resamples")] public int BootstrapResamples { get; init; }
    [JsonPropertyName("permutation_resamples")] public int PermutationResamples { get; init; }
    /// <summary>Resample donors: document i takes its donor activations from document (i + shift) mod n.</summary>
    [JsonPropertyName("resample_donor_shift")] public int ResampleDonorShift { get; init; }
    /// <summary>Per block: mean ‖resid_post‖ on the clean corpus (the noise scale at α = 1).</summary>
    [JsonPropertyName("mean_resid_norm")] public double[] MeanResidNorm { get; init; } = [];
    /// <summary>Largest |effect| of the no-op run over all metrics: 0 when hooking alone changes nothing.</summary>
    [JsonPropertyName("noop_max_abs_effect")] public double? NoopMaxAbsEffect { get; init; }
    /// <summary>Distinct (intervention, blocks) conditions actually run (control draws repeat segments).</summary>
    [JsonPropertyName("conditions_run")] public int ConditionsRun { get; init; }
    /// <summary>Confirmatory rows with a contrast p: the size of the Holm family.</summary>
    [JsonPropertyName("holm_family_size")] public int HolmFamilySize { get; init; }
    /// <summary>The condition whose matrix is the top-level dissociation.</summary>
    [JsonPropertyName("primary_condition")] public required string PrimaryCondition { get; init; }
    [JsonPropertyName("definitions")] public required IReadOnlyDictionary<string, string> Definitions { get; init; }
}

/// <summary>effects.json and what <c>mspgt intervene --json</c> prints.</summary>
public sealed record InterventionReport(
    [property: JsonPropertyName("effects")] IReadOnlyList<InterventionEffect> Effects,
    [property: JsonPropertyName("dissociation")] DissociationReport? Dissociation,
    [property: JsonPropertyName("manifest")] InterventionManifest Manifest);

/// <summary>One row of interventions.parquet plus the columns the standard row lacks.</summary>
/// <param name="Draw">Control draw index for random rows, null otherwise.</param>
/// <param name="ControlFor">For random rows the named segment they control; null otherwise.</param>
public sealed record InterventionTableRow(InterventionRow Row, int FirstLayer, int LastLayer, int? Draw, string? ControlFor);

/// <summary>Everything an intervention run produced.</summary>
public sealed record InterventionResult(InterventionReport Report, IReadOnlyList<InterventionTableRow> Rows);
