using System.Text.Json.Serialization;
using Mspgt.Reporting;

namespace Mspgt.Interventions;

/// <summary>How a segment's effect compares with the same intervention on random segments of the same width
/// (<see cref="Statistics.ControlComparison"/> over the per-draw mean effects, by magnitude).</summary>
public sealed record ControlSummary(
    [property: JsonPropertyName("draws")] int Draws,
    [property: JsonPropertyName("control_mean_magnitude")] double ControlMeanMagnitude,
    [property: JsonPropertyName("ratio")] double? Ratio,
    [property: JsonPropertyName("z")] double? Z,
    [property: JsonPropertyName("percentile")] double Percentile,
    [property: JsonPropertyName("exceedance_p")] double ExceedanceP);

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
    /// <summary>For random rows: the named segment whose width the draws share.</summary>
    [JsonPropertyName("control_for")] public string? ControlFor { get; init; }
    [JsonPropertyName("intervention")] public required string Intervention { get; init; }
    [JsonPropertyName("component")] public required string Component { get; init; }
    [JsonPropertyName("alpha")] public double? Alpha { get; init; }
    [JsonPropertyName("metric")] public required string Metric { get; init; }
    [JsonPropertyName("family")] public required string Family { get; init; }
    /// <summary>Documents paired.</summary>
    [JsonPropertyName("n")] public int N { get; init; }
    [JsonPropertyName("effect")] public double? Effect { get; init; }
    /// <summary>Paired bootstrap 95% percentile interval of the mean effect.</summary>
    [JsonPropertyName("ci")] public double[]? Ci { get; init; }
    /// <summary>Two-sided paired sign-flip permutation p-value, uncorrected.</summary>
    [JsonPropertyName("p")] public double? P { get; init; }
    /// <summary>Holm-adjusted over every row of the table that has a p-value.</summary>
    [JsonPropertyName("p_holm")] public double? PHolm { get; init; }
    /// <summary>Paired Cohen's d_z.</summary>
    [JsonPropertyName("cohens_d")] public double? CohensD { get; init; }
    /// <summary>Named rows only: the effect against the random-segment draws.</summary>
    [JsonPropertyName("vs_random_control")] public ControlSummary? VsRandomControl { get; init; }
    /// <summary>effect − the no-op run's effect on the same metric (the no-op's effect should be exactly 0).</summary>
    [JsonPropertyName("vs_noop")] public double? VsNoop { get; init; }
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
    /// <summary>Only on the top-level (primary) report: the matrix of every intervention condition.</summary>
    [JsonPropertyName("by_condition")] public IReadOnlyList<DissociationReport>? ByCondition { get; init; }
}

public sealed record ControlDraws(
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("layers")] int[][] Layers);

/// <summary>What was run, on what, with which settings: enough to reproduce the table.</summary>
public sealed record InterventionManifest
{
    [JsonPropertyName("tool")] public string Tool { get; init; } = "mspgt intervene";
    [JsonPropertyName("version")] public string Version { get; init; } = ProgramInfo.Version;
    [JsonPropertyName("model")] public required string Model { get; init; }
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
/// <param name="Draw">Control draw index for random rows, −1 otherwise.</param>
/// <param name="ControlFor">For random rows the named segment they control; "" otherwise.</param>
public sealed record InterventionTableRow(InterventionRow Row, int FirstLayer, int LastLayer, int Draw, string ControlFor);

/// <summary>Everything an intervention run produced.</summary>
public sealed record InterventionResult(InterventionReport Report, IReadOnlyList<InterventionTableRow> Rows);
