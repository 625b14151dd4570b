using System.Text.Json.Serialization;
using Mspgt.Checkpoints;

namespace Mspgt.Experiments;

/// <summary>Next-token brittleness (KL(clean ‖ intervened), nats) of one segment under the study's primary condition.</summary>
/// <param name="PerDocument">The per-document values whose mean is <see cref="Mean"/> (resampled for P3's intervals).</param>
public sealed record SegmentBrittleness(
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("layers")] int[] Layers,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("ci")] double[]? Ci,
    [property: JsonPropertyName("per_document")] double[] PerDocument);

/// <summary>Brittleness against noise strength α for one segment (or the random-segment control).</summary>
public sealed record DoseCurve(
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("alphas")] double[] Alphas,
    [property: JsonPropertyName("values")] double[] Values,
    [property: JsonPropertyName("lower")] double[]? Lower,
    [property: JsonPropertyName("upper")] double[]? Upper);

/// <summary>
/// What the study needs from one model's intervention run: the brittleness of each named segment (P3), the
/// segment × metric-family dissociation matrix with its diagonal dominance (P4), and the dose-response curves
/// for the report. Built from an <c>mspgt intervene</c> result by <see cref="StudyInterventions"/>.
/// </summary>
public sealed record StudyInterventionOutcome(
    [property: JsonPropertyName("condition")] string Condition,
    [property: JsonPropertyName("brittleness")] IReadOnlyList<SegmentBrittleness> Brittleness,
    [property: JsonPropertyName("random_control_brittleness")] double? RandomControlBrittleness,
    [property: JsonPropertyName("dissociation_rows")] string[] DissociationRows,
    [property: JsonPropertyName("dissociation_columns")] string[] DissociationColumns,
    [property: JsonPropertyName("dissociation")] double?[][] Dissociation,
    [property: JsonPropertyName("row_margins")] double?[] RowMargins,
    [property: JsonPropertyName("diagonal_dominance")] double? DiagonalDominance,
    [property: JsonPropertyName("row_max_fraction")] double? RowMaxFraction,
    [property: JsonPropertyName("dose_response")] IReadOnlyList<DoseCurve> DoseResponse,
    [property: JsonPropertyName("dose_control")] DoseCurve? DoseControl);

/// <summary>
/// The intervention step of a study, kept apart from the analysis step: it runs after a model's analysis, on the
/// same corpus, with the model's own K = 2 segments, and writes into its own sub-folder of the model's cache
/// folder (<see cref="FolderName"/>), so adding or changing interventions never recomputes an analysis.
/// </summary>
public static class StudyInterventions
{
    /// <summary>Sub-folder of a model's cache folder (named FolderName-&lt;key12&gt;, keyed by the analysis and the
    /// intervene settings); holds the intervene outputs (effects.json, interventions.parquet) and <see cref="OutcomeFileName"/>,
    /// which the study writes last.</summary>
    public const string FolderName = "interventions";
    public const string OutcomeFileName = "study-outcome.json";

    /// <summary>Whether this build can run interventions inside a study (the `mspgt intervene` runner is wired in).</summary>
    public static bool Available => false;

    public const string NotAvailableMessage =
        "the intervention runner (mspgt intervene) is not wired into studies in this build; remove the \"intervene\" section to run the analysis-only study";

    /// <summary>
    /// Runs the study's interventions for one model into <paramref name="dir"/> (the intervene outputs, with
    /// interventions.parquet) and returns what the predictions need; the caller caches the outcome. The segments are
    /// the analysis' K = 2 scales (<see cref="AnalysisSummary.Segments"/>), the documents the analysis corpus.
    /// Not available in this build: see <see cref="Available"/>.
    /// </summary>
    public static StudyInterventionOutcome Run(LoadedModel model, Corpus corpus, AnalysisSummary analysis,
        StudyInterventionSettings settings, string dir, Action<int, int>? progress = null) =>
        throw new MspgtException("intervene", NotAvailableMessage);
}
