using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;
using Mspgt.Reporting;

namespace Mspgt.Interventions;

// The summary of a run: effect rows, contrasts with the control windows, Holm over the confirmatory rows, the
// dissociation matrices with their tests, the parquet rows and the manifest.
public sealed partial class InterventionExperiment
{
    /// <summary>Metrics whose sign is fixed: brittleness_kl ≥ 0 and top1_agreement − 1 ≤ 0 in every document.</summary>
    internal static bool IsSignConstrained(string metric) => metric is OutcomeMetrics.BrittlenessKl or OutcomeMetrics.Top1Agreement;

    /// <summary>Metrics that add up over the blocks of a segment, reported also ÷ width.</summary>
    internal static bool HasPerBlock(string metric) => metric is OutcomeMetrics.BrittlenessKl or OutcomeMetrics.DeltaNll;

    /// <summary>The declared confirmatory family: the primary metric on a named segment under a condition that
    /// perturbs something (noise at α = 0 is the clean model by construction: a check, not a hypothesis).</summary>
    internal static bool IsConfirmatory(InterventionSpec spec, string segment, string metric) =>
        metric == OutcomeMetrics.BrittlenessKl && LayerSegments.ScaleOf(segment) is not null
        && !(spec.Kind == InterventionKind.Noise && spec.Alpha == 0);

    private InterventionResult Summarise(Dictionary<ConditionKey, DocOutcome[]> results,
        List<(LayerSegment Segment, ControlWindowSet Set)> draws, int conditionsRun, InterventionInputs inputs)
    {
        var c = _model.Config;
        var metrics = OutcomeMetrics.All.Where(m => _s.Continuations > 0 || m.Family == MetricFamily.NextToken).ToList();
        var effects = new List<InterventionEffect>();
        var rows = new List<InterventionTableRow>();
        var noopOutcomes = results[KeyOf(InterventionSpec.Noop, 0, c.Layers - 1)];
        var noopEffects = new Dictionary<string, double?>(StringComparer.Ordinal);
        var noopRows = new List<InterventionEffect>();
        foreach (var m in metrics)
        {
            var e = MakeEffect("none", [0, c.Layers - 1], null, c.Layers, InterventionSpec.Noop, m, Differences(noopOutcomes, m.Name), null);
            noopEffects[m.Name] = e.Effect;
            noopRows.Add(e);
        }

        foreach (var spec in _s.Interventions)
        {
            foreach (var (seg, set) in draws)
            {
                var own = results[KeyOf(spec, seg.First, seg.Last)];
                var controls = set.Windows.Select(w => results[KeyOf(spec, w.First, w.Last)]).ToArray();
                foreach (var m in metrics)
                {
                    var e = MakeEffect(seg.Name, [seg.First, seg.Last], null, seg.Width, spec, m, Differences(own, m.Name), noopEffects[m.Name]);
                    effects.Add(e with { VsControls = Contrast(seg, set, m.Name, own, controls), Confirmatory = IsConfirmatory(spec, seg.Name, m.Name) });
                }
                AddRows(rows, inputs.ModelName, seg.Name, seg.First, seg.Last, null, null, spec, own);
            }
            foreach (var (seg, set) in draws)
            {
                if (set.Windows.Count == 0) continue; // no window avoids the segment: no random row (the manifest says so)
                var controls = set.Windows.Select(w => results[KeyOf(spec, w.First, w.Last)]).ToArray();
                foreach (var m in metrics)
                    effects.Add(MakeEffect("random", null, seg.Name, seg.Width, spec, m, PooledDifferences(controls, m.Name), noopEffects[m.Name]));
                for (int j = 0; j < controls.Length; j++)
                    AddRows(rows, inputs.ModelName, "random", set.Windows[j].First, set.Windows[j].Last, j, seg.Name, spec, controls[j]);
            }
        }
        effects.AddRange(noopRows);
        AddRows(rows, inputs.ModelName, "none", 0, c.Layers - 1, null, null, InterventionSpec.Noop, noopOutcomes);

        // Holm over the confirmatory rows that have a contrast p; every other row is exploratory.
        var family = Enumerable.Range(0, effects.Count).Where(k => effects[k].Confirmatory && effects[k].VsControls?.P is not null).ToArray();
        var adjusted = HolmBonferroni.Adjust(family.Select(k => effects[k].VsControls!.P!.Value).ToArray());
        for (int t = 0; t < family.Length; t++) effects[family[t]] = effects[family[t]] with { PHolm = adjusted[t] };

        var byCondition = _s.Interventions.Select((spec, i) => Dissociation(spec, i, effects, results, draws)).ToList();
        var primary = PrimarySpec();
        var primaryReport = byCondition[_s.Interventions.ToList().IndexOf(primary)] with { ByCondition = byCondition };

        var noopAbs = noopEffects.Values.Where(v => v is not null).Select(v => Math.Abs(v!.Value)).ToList();
        var manifest = new InterventionManifest
        {
            Model = inputs.ModelPath,
            ModelSha256 = inputs.ModelSha256,
            Device = inputs.Device,
            NLayers = c.Layers,
            Tokenizer = inputs.TokenizerDescription,
            Corpus = inputs.CorpusDescription,
            CorpusSha256 = inputs.CorpusSha256,
            Documents = _clean.Length,
            DocumentsSkipped = _skipped,
            TokensPerDocument = _clean.Select(d => d.Ids.Length).ToArray(),
            Seed = _s.Seed,
            Segments = _s.Segments.ToDictionary(s => s.Name, s => new[] { s.First, s.Last }),
            SegmentsSource = _s.SegmentsSource,
            ControlDraws = draws.Select(d => new ControlDraws(d.Segment.Name, d.Segment.Width,
                d.Set.Windows.Select(w => new[] { w.First, w.Last }).ToArray(), d.Set.Candidates, d.Set.Requested,
                d.Set.ExceedancePFloor, d.Set.Note)).ToList(),
            Interventions = _s.Interventions.Select(s => s.Label).ToArray(),
            Continuations = _s.Continuations,
            GenTokens = _s.GenTokens,
            PromptTokens = _s.PromptTokens,
            Temperature = _s.Temperature,
            TopP = _s.TopP,
            BootstrapResamples = _s.BootstrapResamples,
            PermutationResamples = _s.PermutationResamples,
            ResampleDonorShift = _donorShift,
            MeanResidNorm = _stats.MeanResidNorm,
            NoopMaxAbsEffect = noopAbs.Count == 0 ? null : noopAbs.Max(),
            ConditionsRun = conditionsRun + 1,
            HolmFamilySize = family.Length,
            PrimaryCondition = primary.Label,
            Definitions = InterventionDefinitions.All(),
        };
        return new InterventionResult(new InterventionReport(effects, primaryReport, manifest), rows);
    }

    /// <summary>The condition whose matrix is reported at the top: the first intervention given; for noise, the α
    /// closest to 0.5 (the default strength), the first one on a tie.</summary>
    private InterventionSpec PrimarySpec()
    {
        var first = _s.Interventions[0];
        if (first.Kind != InterventionKind.Noise) return first;
        return _s.Interventions.Where(s => s.Kind == InterventionKind.Noise)
            .OrderBy(s => Math.Abs(s.Alpha!.Value - 0.5)).First();
    }

    /// <summary>The named segment's effect on one metric against its control windows, document by document.</summary>
    private ControlContrastReport Contrast(LayerSegment seg, ControlWindowSet set, string metric, DocOutcome[] own, DocOutcome[][] controls)
    {
        if (controls.Length == 0) return new ControlContrastReport { Windows = 0, Note = set.Note };
        var r = ControlContrast.Compare(PerDocument(own, metric), controls.Select(o => PerDocument(o, metric)).ToArray(),
            _s.Seed, _s.BootstrapResamples, _s.PermutationResamples);
        var iv = r.Paired?.Interval;
        bool perBlock = HasPerBlock(metric) && iv is not null;
        return new ControlContrastReport
        {
            Windows = controls.Length,
            N = r.Differences.Length,
            Mean = iv?.Mean,
            Ci = iv is null ? null : [iv.Low, iv.High],
            P = r.Paired?.Permutation.PValue,
            CohensD = r.Paired?.CohensDz,
            MeanPerBlock = perBlock ? iv!.Mean / seg.Width : null,
            CiPerBlock = perBlock ? [iv!.Low / seg.Width, iv.High / seg.Width] : null,
            ControlEffects = r.ControlEffects,
            Exceedance = r.Exceedance is { } x
                ? new ExceedanceSummary(x.ControlMeanMagnitude, x.Ratio, x.Z, x.Percentile, x.ExceedanceP, 1.0 / (x.Controls + 1))
                : null,
            Note = set.Note ?? (r.Paired is null ? "no document has the metric defined for the segment and a control window" : null),
        };
    }

    private DissociationReport Dissociation(InterventionSpec spec, int index, IReadOnlyList<InterventionEffect> effects,
        Dictionary<ConditionKey, DocOutcome[]> results, List<(LayerSegment Segment, ControlWindowSet Set)> draws)
    {
        var cells = effects.Where(e => e.ControlFor is null && e.Intervention == spec.KindName && e.Component == spec.ComponentName
                                       && e.Alpha == spec.Alpha && LayerSegments.ScaleOf(e.Segment) is not null)
            .Select(e => new SegmentMetricEffect(LayerSegments.ScaleOf(e.Segment)!.Value, e.Metric, e.CohensD));
        var m = DissociationMatrix.Build(cells);

        // The test works on the per-document differences of all three named segments.
        DominanceTestReport? test = null;
        string? note;
        var bySegment = DissociationMatrix.Rows.Select(r => draws.Select(d => d.Segment).FirstOrDefault(s => s.Scale == r)).ToArray();
        if (bySegment.Any(s => s is null)) note = "the test needs all three named segments (local, intermediate, global)";
        else
        {
            var text = OutcomeMetrics.All.Where(x => x.Family != MetricFamily.NextToken).Select(x => x.Name).ToList();
            var values = bySegment.Select(s => text.Select(metric => PerDocument(results[KeyOf(spec, s!.First, s.Last)], metric)).ToArray()).ToArray();
            var (t, reason) = DissociationTest.Run(text, values, _s.Seed, (ulong)index, _s.BootstrapResamples, _s.PermutationResamples);
            note = reason;
            if (t is not null)
                test = new DominanceTestReport
                {
                    DiagonalDominance = t.Observed,
                    Ci = t.Low is double lo && t.High is double hi ? [lo, hi] : null,
                    BootstrapResamples = t.BootstrapResamples,
                    BootstrapUsed = t.BootstrapUsed,
                    NullMean = t.NullMean,
                    PValue = t.PValue,
                    Permutations = t.Permutations,
                    PermutationsUsed = t.PermutationsUsed,
                    Documents = t.Documents,
                };
            if (t is not null && t.Low is null) note = $"only {t.BootstrapUsed} of {t.BootstrapResamples} resamples had three complete rows: no interval";
        }
        return new DissociationReport
        {
            Intervention = spec.KindName,
            Component = spec.ComponentName,
            Alpha = spec.Alpha,
            Rows = DissociationMatrix.Rows.Select(r => LayerSegments.Names[(int)r]).ToArray(),
            Columns = DissociationMatrix.Columns.Select(f => f.ToString().ToLowerInvariant()).ToArray(),
            Matrix = m.Cells,
            Counts = m.Counts,
            RowMargins = m.RowMargins,
            DiagonalDominance = m.DiagonalDominance,
            RowMaxFraction = m.RowMaxFraction,
            ColumnMaxFraction = m.ColumnMaxFraction,
            DominanceTest = test,
            DominanceTestNote = note,
        };
    }

    /// <summary>Per-document paired differences of one metric, over the documents where it is defined on both sides.</summary>
    private static double[] Differences(DocOutcome[] outcomes, string metric) =>
        outcomes.Where(o => o.Document.ContainsKey(metric)).Select(o => o.Document[metric].Value).ToArray();

    /// <summary>Per-document paired differences of one metric for every document, null where undefined.</summary>
    private static double?[] PerDocument(DocOutcome[] outcomes, string metric) =>
        outcomes.Select(o => o.Document.TryGetValue(metric, out var p) ? p.Value : (double?)null).ToArray();

    /// <summary>The random control as one paired effect: per document, the mean difference over the windows where
    /// the metric is defined; documents with no defined window are left out.</summary>
    private static double[] PooledDifferences(DocOutcome[][] draws, string metric)
    {
        var result = new List<double>();
        for (int i = 0; i < draws[0].Length; i++)
        {
            double sum = 0;
            int count = 0;
            foreach (var outcomes in draws)
                if (outcomes[i].Document.TryGetValue(metric, out var p)) { sum += p.Value; count++; }
            if (count > 0) result.Add(sum / count);
        }
        return result.ToArray();
    }

    private InterventionEffect MakeEffect(string segment, int[]? layers, string? controlFor, int width, InterventionSpec spec,
        OutcomeMetric metric, double[] differences, double? noopEffect)
    {
        var effect = new InterventionEffect
        {
            Segment = segment,
            Layers = layers,
            Width = width,
            ControlFor = controlFor,
            Intervention = spec.KindName,
            Component = spec.ComponentName,
            Alpha = spec.Alpha,
            Metric = metric.Name,
            Family = FamilyName(metric.Family),
            SignConstrained = IsSignConstrained(metric.Name),
            N = differences.Length,
        };
        if (differences.Length == 0) return effect;
        var pe = PairedStatistics.AnalyzeDifferences(differences, _s.Seed, _s.BootstrapResamples, _s.PermutationResamples);
        var iv = pe.Interval;
        bool perBlock = HasPerBlock(metric.Name);
        return effect with
        {
            Effect = iv.Mean,
            Ci = [iv.Low, iv.High],
            EffectPerBlock = perBlock ? iv.Mean / width : null,
            CiPerBlock = perBlock ? [iv.Low / width, iv.High / width] : null,
            // A fixed-sign metric "differs from 0" whenever anything changed: that test cannot fail, so it is not given.
            PVsZero = effect.SignConstrained ? null : pe.Permutation.PValue,
            CohensD = pe.CohensDz,
            VsNoop = noopEffect is double z ? iv.Mean - z : null,
        };
    }

    internal static string FamilyName(MetricFamily f) => f switch
    {
        MetricFamily.NextToken => "next_token",
        _ => f.ToString().ToLowerInvariant(),
    };

    private void AddRows(List<InterventionTableRow> rows, string model, string segment, int first, int last, int? draw, string? controlFor,
        InterventionSpec spec, DocOutcome[] outcomes)
    {
        for (int i = 0; i < outcomes.Length; i++)
        {
            int doc = _clean[i].Source.Index;
            void Add(int? continuation, string metric, Pair p) => rows.Add(new InterventionTableRow(
                new InterventionRow(model, doc, continuation, segment, spec.KindName, spec.ComponentName, spec.Alpha,
                    metric, p.Value, p.Clean, p.Intervened), first, last, draw, controlFor));
            foreach (var m in OutcomeMetrics.All)
                if (outcomes[i].Document.TryGetValue(m.Name, out var p)) Add(null, m.Name, p);
            for (int c = 0; c < outcomes[i].PerContinuation.Length; c++)
                foreach (var m in OutcomeMetrics.All)
                    if (outcomes[i].PerContinuation[c].TryGetValue(m.Name, out var p)) Add(c, m.Name, p);
        }
    }
}
