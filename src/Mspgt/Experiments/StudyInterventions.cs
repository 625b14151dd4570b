using System.Text.Json.Serialization;
using Mspgt.Interventions;
using Mspgt.Interventions.Outcomes;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Corpora;

namespace Mspgt.Experiments;

/// <summary>Next-token brittleness (KL(clean ‖ intervened), nats) of one segment under the study's primary condition.</summary>
/// <param name="Mean">The total over the segment's blocks (noise at every block adds up: compare per block across widths).</param>
/// <param name="PerDocument">The per-document values whose mean is <see cref="Mean"/> (resampled for P3's intervals).</param>
public sealed record SegmentBrittleness(
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("layers")] int[] Layers,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("ci")] double[]? Ci,
    [property: JsonPropertyName("per_document")] double[] PerDocument)
{
    [JsonPropertyName("width")] public int Width => Layers.Length == 2 ? Layers[1] - Layers[0] + 1 : 0;
    /// <summary>Mean ÷ width.</summary>
    [JsonPropertyName("mean_per_block")] public double? MeanPerBlock { get; init; }
    [JsonPropertyName("ci_per_block")] public double[]? CiPerBlock { get; init; }
    /// <summary>PerDocument ÷ width.</summary>
    [JsonPropertyName("per_document_per_block")] public double[]? PerDocumentPerBlock { get; init; }
    /// <summary>Against the width-matched control windows; null in outcomes written before it existed.</summary>
    [JsonPropertyName("vs_controls")] public StudyControlContrast? VsControls { get; init; }
}

/// <summary>A segment's brittleness against its control windows (see the intervene manifest's "vs_controls").</summary>
/// <param name="Mean">Mean over documents of (segment − mean of the windows) KL; null without windows.</param>
/// <param name="P">Two-sided sign-flip p of that mean = 0; <paramref name="PHolm"/> Holm over the run's confirmatory rows.</param>
/// <param name="ExceedanceP">One-sided p of the segment's mean among the windows' means, floor 1/(k+1).</param>
/// <param name="ControlWindows">[first, last] of each window; <paramref name="ControlEffects"/> their mean KL, same order.</param>
public sealed record StudyControlContrast(
    [property: JsonPropertyName("mean")] double? Mean,
    [property: JsonPropertyName("ci")] double[]? Ci,
    [property: JsonPropertyName("p")] double? P,
    [property: JsonPropertyName("p_holm")] double? PHolm,
    [property: JsonPropertyName("mean_per_block")] double? MeanPerBlock,
    [property: JsonPropertyName("ci_per_block")] double[]? CiPerBlock,
    [property: JsonPropertyName("exceedance_p")] double? ExceedanceP,
    [property: JsonPropertyName("control_windows")] int[][] ControlWindows,
    [property: JsonPropertyName("control_effects")] double?[] ControlEffects,
    [property: JsonPropertyName("note")] string? Note);

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
    [property: JsonPropertyName("dose_control")] DoseCurve? DoseControl)
{
    /// <summary>The diagonal dominance's bootstrap interval, permutation null mean and p; null (see
    /// <see cref="DominanceTestNote"/>) when the matrix lacks complete rows or in outcomes written before it existed.</summary>
    [JsonPropertyName("dominance_test")] public DominanceTestReport? DominanceTest { get; init; }
    [JsonPropertyName("dominance_test_note")] public string? DominanceTestNote { get; init; }
    /// <summary>The study cache key this outcome was computed for (analysis and intervene settings).</summary>
    [JsonPropertyName("cache_key")] public string? CacheKey { get; init; }
}

/// <summary>
/// The intervention step of a study, kept apart from the analysis step: it runs after a model's analysis, on the
/// same corpus, with the model's own K = 2 segments, and writes into its own sub-folder of the model's cache
/// folder (<see cref="FolderName"/>), so adding or changing interventions never recomputes an analysis.
/// </summary>
public static class StudyInterventions
{
    /// <summary>Sub-folder of a model's cache folder (keyed by the analysis and the
    /// intervene settings); holds the intervene outputs (effects.json, interventions.parquet) and <see cref="OutcomeFileName"/>,
    /// which the study writes last.</summary>
    public const string FolderName = "interventions";
    public const string OutcomeFileName = "study-outcome.json";

    /// <summary>
    /// Runs the study's interventions for one model into <paramref name="dir"/> (the intervene outputs, with
    /// interventions.parquet) and returns what the predictions need; the caller caches the outcome. The segments are
    /// the analysis' K = 2 scales (<see cref="AnalysisSummary.Segments"/>), the documents the analysis corpus.
    /// </summary>
    public static StudyInterventionOutcome Run(LoadedModel model, Corpus corpus, AnalysisSummary analysis,
        StudyInterventionSettings settings, string dir, Action<int, int>? progress = null)
    {
        var run = InterventionRun.Prepare(model, RunSettings(settings, LayerSegments.FromScales(analysis.Segments)), corpus, settings.Documents);
        var result = run.Run(progress: (done, total, _) => progress?.Invoke(done, total), name: analysis.Model);
        InterventionOutputs.Write(dir, result);
        return FromResult(result);
    }

    /// <summary>The intervene settings of a study as a run's settings, on <paramref name="segments"/>.</summary>
    public static InterventionSettings RunSettings(StudyInterventionSettings settings, IReadOnlyList<LayerSegment> segments) => new()
    {
        Segments = segments,
        SegmentsSource = "study: the model's K = 2 scales from its analysis",
        Interventions = InterventionSpec.Expand(settings.Interventions, settings.Components, settings.Alpha),
        Controls = settings.Controls,
        Continuations = settings.Continuations,
        GenTokens = settings.GenTokens,
        PromptTokens = settings.PromptTokens,
        Temperature = (float)settings.Temperature,
        TopP = (float)settings.TopP,
        Seed = settings.Seed,
        BootstrapResamples = settings.Bootstrap,
        PermutationResamples = settings.Permutations,
    };

    /// <summary>
    /// The study's view of an intervention run. The condition is the run's primary one (the first intervention;
    /// for noise the α closest to 0.5): brittleness per named segment = its brittleness_kl effect with interval and
    /// the per-document values (continuation −1 rows), each also per block, and its contrast with the control
    /// windows; the dissociation matrix of that condition with its interval and permutation test; the noise
    /// dose-response curves when noise ran.
    /// </summary>
    public static StudyInterventionOutcome FromResult(InterventionResult result)
    {
        var report = result.Report;
        var d = report.Dissociation ?? throw new MspgtException("intervene", "the intervention run has no dissociation report");
        string kind = d.Intervention, component = d.Component;
        double? alpha = d.Alpha;
        bool Primary(string i, string c, double? a) => i == kind && c == component && Nullable.Equals(a, alpha);

        var brittleness = new List<SegmentBrittleness>();
        foreach (var (name, layers) in report.Manifest.Segments.OrderBy(kv => kv.Value[0]))
        {
            var e = report.Effects.FirstOrDefault(x => x.Segment == name && x.ControlFor is null && x.Metric == OutcomeMetrics.BrittlenessKl
                                                       && Primary(x.Intervention, x.Component, x.Alpha));
            if (e?.Effect is not double mean) continue;
            var perDoc = result.Rows.Select(r => r.Row)
                .Where(r => r.Segment == name && r.Continuation is null && r.Metric == OutcomeMetrics.BrittlenessKl
                            && Primary(r.Intervention, r.Component, alpha is null ? null : r.Alpha))
                .OrderBy(r => r.Document).Select(r => r.Effect).ToArray();
            int w = layers[1] - layers[0] + 1;
            var vs = e.VsControls is not { } v ? null : new StudyControlContrast(v.Mean, v.Ci, v.P, e.PHolm, v.MeanPerBlock, v.CiPerBlock,
                v.Exceedance?.P, report.Manifest.ControlDraws.FirstOrDefault(x => x.Segment == name)?.Layers ?? [], v.ControlEffects, v.Note);
            brittleness.Add(new SegmentBrittleness(name, layers, mean, e.Ci, perDoc)
            {
                MeanPerBlock = mean / w,
                CiPerBlock = e.Ci?.Select(x => x / w).ToArray(),
                PerDocumentPerBlock = perDoc.Select(x => x / w).ToArray(),
                VsControls = vs,
            });
        }
        var random = report.Effects.Where(x => x.Segment == "random" && x.Metric == OutcomeMetrics.BrittlenessKl
                                               && Primary(x.Intervention, x.Component, x.Alpha) && x.Effect is not null).ToList();

        IReadOnlyList<DoseCurve> curves = [];
        DoseCurve? control = null;
        if (InterventionOutputs.DoseResponse(report) is { } dose) (curves, control) = (dose.Segments, dose.Control);
        string condition = alpha is double av ? $"{kind} α={av.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : $"{kind} {component}";
        return new StudyInterventionOutcome(condition, brittleness, random.Count == 0 ? null : random.Average(x => x.Effect!.Value),
            d.Rows, d.Columns, d.Matrix, d.RowMargins, d.DiagonalDominance, d.RowMaxFraction, curves, control)
        {
            DominanceTest = d.DominanceTest,
            DominanceTestNote = d.DominanceTestNote,
        };
    }
}
