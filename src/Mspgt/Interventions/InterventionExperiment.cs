using Mspgt.Numerics;
using Mspgt.Experiments;
using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;
using Mspgt.Models;
using Mspgt.Reporting;
using Mspgt.Tokenization;

namespace Mspgt.Interventions;

/// <summary>Where the model and corpus came from, for the manifest and the parquet "model" column.</summary>
public sealed record InterventionInputs(
    string ModelName, string ModelPath, string? ModelSha256, string? TokenizerDescription,
    string CorpusDescription, string? CorpusSha256);

/// <summary>
/// Runs the scale-specific causal interventions of <c>mspgt intervene</c>: every intervention condition on every
/// named segment, on random contiguous segments of the same width (the control) and a no-op, measured against the
/// clean model on each document's next-token distributions and on sampled continuations, then summarised as paired
/// effects with bootstrap intervals, permutation p-values (Holm across the table), Cohen's d_z, the comparison
/// with the random control and the dissociation matrix.
/// <para>Determinism: every random choice (corpus sampling aside) is keyed by the seed: control draws, resample
/// donors, sampling seeds per (document, continuation), noise per (document, run, block, position), resampling in
/// the statistics. Documents run in parallel, but each writes only its own slot and every reduction is ordered, so
/// the result does not depend on the number of threads.</para>
/// </summary>
public sealed class InterventionExperiment
{
    private readonly Transformer _model;
    private readonly ITokenizer _tokenizer;
    private readonly InterventionSettings _s;
    private readonly SentenceEmbedder _embedder;
    private readonly HashSet<int> _stop = [];
    private readonly ParallelOptions _parallel;
    private CleanActivationStatistics _stats = null!;
    private CleanDocument[] _clean = [];
    private int _donorShift;
    private int _skipped;

    private sealed record Continuation(int[] Ids, double[] LogProbs, string Text);

    private sealed class CleanDocument
    {
        public required Document Source { get; init; }
        public required int[] Ids { get; init; }
        public required int[] Prompt { get; init; }
        public required string PromptText { get; init; }
        public float[]? Logits { get; set; }
        public double Nll { get; set; }
        public Continuation[] Continuations { get; set; } = [];
        public IReadOnlyDictionary<string, double?> Text { get; set; } = new Dictionary<string, double?>();
        public IReadOnlyDictionary<string, double?>[] TextPerContinuation { get; set; } = [];
    }

    /// <summary>One metric on one document: <see cref="Value"/> = the paired difference intervened − clean
    /// (for brittleness_kl the KL itself, whose clean value is 0), with the raw sides where they exist.</summary>
    private readonly record struct Pair(double Value, double? Clean, double? Intervened);

    private sealed class DocOutcome
    {
        public Dictionary<string, Pair> Document { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Pair>[] PerContinuation { get; init; } = [];
    }

    private readonly record struct ConditionKey(InterventionKind Kind, InterventionComponent Component, double? Alpha, int First, int Last);

    private InterventionExperiment(Transformer model, ITokenizer tokenizer, InterventionSettings settings)
    {
        _model = model;
        _tokenizer = tokenizer;
        _s = settings;
        _embedder = new SentenceEmbedder(model, tokenizer);
        if ((tokenizer.EosId ?? model.Config.EosId) is int eos) _stop.Add(eos);
        if ((tokenizer.BosId ?? model.Config.BosId) is int bos) _stop.Add(bos);
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = settings.Threads ?? Environment.ProcessorCount };
    }

    /// <param name="progress">(done, total, what is running) after each step; called on the calling thread.</param>
    public static InterventionResult Run(Transformer model, ITokenizer tokenizer, IReadOnlyList<Document> documents,
        InterventionSettings settings, InterventionInputs inputs, Action<int, int, string>? progress = null)
    {
        settings.Validate(model.Config.Layers, model.Config.MaxSeq);
        return new InterventionExperiment(model, tokenizer, settings).Execute(documents, inputs, progress);
    }

    private InterventionResult Execute(IReadOnlyList<Document> documents, InterventionInputs inputs, Action<int, int, string>? progress)
    {
        var c = _model.Config;
        int maxSeq = c.MaxSeq;
        var usable = documents.Where(d => d.Ids.Length >= 2).ToList();
        _skipped = documents.Count - usable.Count;
        if (usable.Count < 2)
            throw new MspgtException("corpus", $"{usable.Count} document(s) with at least 2 tokens; paired statistics and resampling need at least 2");
        foreach (var d in usable)
            foreach (int id in d.Ids)
                if ((uint)id >= (uint)c.Vocab) throw new MspgtException("corpus", $"document {d.Index} has token id {id} outside the model's vocabulary of {c.Vocab}");

        _clean = usable.Select(d =>
        {
            var ids = d.Ids.Length > maxSeq ? d.Ids[..maxSeq] : d.Ids;
            var prompt = ids[..Math.Min(_s.PromptTokens, ids.Length)];
            return new CleanDocument { Source = d, Ids = ids, Prompt = prompt, PromptText = _tokenizer.Decode(prompt) };
        }).ToArray();
        int n = _clean.Length;

        // Control draws and conditions, decided up front so progress knows the total.
        var segments = _s.Segments;
        var draws = new List<(LayerSegment Segment, (int First, int Last)[] Windows)>();
        for (int si = 0; si < segments.Count; si++)
        {
            var seg = segments[si];
            var rng = new SplitMix64(NoiseKey.Mix(NoiseKey.Mix((ulong)(uint)_s.Seed ^ 0x636F6E74726F6CUL) ^ (ulong)si));
            var windows = new (int, int)[_s.Controls];
            for (int j = 0; j < windows.Length; j++)
            {
                int start = rng.NextInt(c.Layers - seg.Width + 1);
                windows[j] = (start, start + seg.Width - 1);
            }
            draws.Add((seg, windows));
        }
        var donorRng = new SplitMix64(NoiseKey.Mix((ulong)(uint)_s.Seed ^ 0x646F6E6F72UL));
        _donorShift = 1 + donorRng.NextInt(n - 1);

        var conditions = new List<(ConditionKey Key, InterventionSpec Spec)>();
        var seen = new HashSet<ConditionKey>();
        void Want(InterventionSpec spec, int first, int last)
        {
            var key = KeyOf(spec, first, last);
            if (seen.Add(key)) conditions.Add((key, spec));
        }
        foreach (var spec in _s.Interventions)
        {
            foreach (var seg in segments) Want(spec, seg.First, seg.Last);
            foreach (var (_, windows) in draws)
                foreach (var (f, l) in windows) Want(spec, f, l);
        }
        Want(InterventionSpec.Noop, 0, c.Layers - 1);
        int total = 1 + conditions.Count, done = 0;

        progress?.Invoke(done, total, "clean model");
        _stats = CleanActivationStatistics.Compute(_model, _clean.Select(d => d.Ids).ToList());
        long logitBytes = _clean.Sum(d => (long)(d.Ids.Length - 1) * c.Vocab * sizeof(float));
        bool keepLogits = logitBytes <= 512L << 20; // else recompute the clean logits per condition
        Parallel.For(0, n, _parallel, i => RunClean(i, keepLogits));
        progress?.Invoke(++done, total, "clean model");

        var results = new Dictionary<ConditionKey, DocOutcome[]>();
        foreach (var (key, spec) in conditions)
        {
            string label = $"{spec.Label} on blocks {key.First}-{key.Last}";
            progress?.Invoke(done, total, label);
            var outcomes = new DocOutcome[n];
            Parallel.For(0, n, _parallel, i => outcomes[i] = RunDocument(spec, key.First, key.Last, i));
            results[key] = outcomes;
            progress?.Invoke(++done, total, label);
        }

        return Summarise(results, draws, conditions.Count, inputs);
    }

    private static ConditionKey KeyOf(InterventionSpec spec, int first, int last) => spec.Kind == InterventionKind.Skip
        ? new ConditionKey(InterventionKind.Zero, InterventionComponent.Both, null, first, last) // identical editors
        : new ConditionKey(spec.Kind, spec.Component, spec.Alpha, first, last);

    private int SamplingSeed(int document, int continuation) =>
        (int)(NoiseKey.Mix(NoiseKey.Mix(NoiseKey.Mix((ulong)(uint)_s.Seed ^ 0x73616D706C65UL) ^ (ulong)(uint)document) ^ (ulong)(uint)continuation) & 0x7FFFFFFF);

    private void RunClean(int i, bool keepLogits)
    {
        var d = _clean[i];
        var logits = _model.Forward(d.Ids, null, null, LogitRows.All);
        int V = _model.Config.Vocab, rows = d.Ids.Length - 1;
        double nll = 0;
        for (int r = 0; r < rows; r++) nll += NextTokenDivergence.Nll(logits.AsSpan(r * V, V), d.Ids[r + 1]);
        d.Nll = nll / rows;
        if (keepLogits) d.Logits = logits;
        if (_s.Continuations == 0) return;
        d.Continuations = Enumerable.Range(0, _s.Continuations).Select(c => Generate(d.Prompt, SamplingSeed(i, c), new Hooks())).ToArray();
        d.Text = MeasureText(d.PromptText, d.Continuations);
        d.TextPerContinuation = d.Continuations.Select(c => MeasureText(d.PromptText, [c])).ToArray();
    }

    private IReadOnlyDictionary<string, double?> MeasureText(string prompt, IReadOnlyList<Continuation> samples) =>
        TextOutcomes.Measure(prompt, samples.Select(s => new GeneratedSample(s.Text, s.LogProbs)).ToList(), _embedder.Embed);

    /// <summary>Samples one continuation with <paramref name="hooks"/> active on the prompt and every new position,
    /// recording the log-probability the (possibly intervened) model gave each sampled token.</summary>
    private Continuation Generate(int[] prompt, int samplingSeed, Hooks hooks)
    {
        float[]? last = null;
        hooks.Observe("logits", t => last = t.Row(t.Shape[0] - 1).ToArray());
        var logProbs = new List<double>();
        int budget = Math.Min(_s.GenTokens, _model.Config.MaxSeq - prompt.Length);
        var sampling = new SamplingOptions(_s.Temperature, 0, _s.TopP, samplingSeed);
        var ids = Generator.Generate(_model, prompt, budget, sampling, _stop, hooks,
            token => logProbs.Add(-NextTokenDivergence.Nll(last!, token)));
        return new Continuation(ids, logProbs.ToArray(), _tokenizer.Decode(ids));
    }

    private DocOutcome RunDocument(InterventionSpec spec, int first, int last, int i)
    {
        var d = _clean[i];
        var donorDoc = _clean[(i + _donorShift) % _clean.Length];
        bool resample = spec.Kind == InterventionKind.Resample;

        var donor = resample ? DonorActivations.Capture(_model, donorDoc.Ids, first, last) : null;
        var hooks = InterventionEditors.Create(spec, first, last, _stats, new NoiseKey(_s.Seed, i, -1), donor);
        var logits = _model.Forward(d.Ids, null, hooks, LogitRows.All);
        var cleanLogits = d.Logits ?? _model.Forward(d.Ids, null, null, LogitRows.All);
        int V = _model.Config.Vocab, rows = d.Ids.Length - 1;
        var next = NextTokenDivergence.MeasureRows(cleanLogits.AsSpan(0, rows * V), logits.AsSpan(0, rows * V), V, d.Ids.AsSpan(1));
        double kl = next[OutcomeMetrics.BrittlenessKl]!.Value, dNll = next[OutcomeMetrics.DeltaNll]!.Value;
        double agree = next[OutcomeMetrics.Top1Agreement]!.Value;

        var outcome = new DocOutcome { PerContinuation = new Dictionary<string, Pair>[_s.Continuations] };
        outcome.Document[OutcomeMetrics.BrittlenessKl] = new Pair(kl, null, null);
        outcome.Document[OutcomeMetrics.DeltaNll] = new Pair(dNll, d.Nll, d.Nll + dNll);
        outcome.Document[OutcomeMetrics.Top1Agreement] = new Pair(agree - 1, 1, agree);
        if (_s.Continuations == 0) return outcome;

        var samples = new Continuation[_s.Continuations];
        for (int c = 0; c < samples.Length; c++)
        {
            // The donor for a continuation is the donor document's prompt plus its own clean continuation with the
            // same index, so generated positions have donor activations too (up to the donor's length).
            var donorC = resample ? DonorActivations.Capture(_model, [.. donorDoc.Prompt, .. donorDoc.Continuations[c].Ids], first, last) : null;
            var hooksC = InterventionEditors.Create(spec, first, last, _stats, new NoiseKey(_s.Seed, i, c), donorC);
            samples[c] = Generate(d.Prompt, SamplingSeed(i, c), hooksC);
            outcome.PerContinuation[c] = Pairs(d.TextPerContinuation[c], MeasureText(d.PromptText, [samples[c]]));
        }
        foreach (var (k, v) in Pairs(d.Text, MeasureText(d.PromptText, samples))) outcome.Document[k] = v;
        return outcome;
    }

    private static Dictionary<string, Pair> Pairs(IReadOnlyDictionary<string, double?> clean, IReadOnlyDictionary<string, double?> intervened)
    {
        var result = new Dictionary<string, Pair>(StringComparer.Ordinal);
        foreach (var (metric, cv) in clean)
            if (cv is double a && intervened.TryGetValue(metric, out var iv) && iv is double b)
                result[metric] = new Pair(b - a, a, b);
        return result;
    }

    // ---------------------------------------------------------------- summary

    private InterventionResult Summarise(Dictionary<ConditionKey, DocOutcome[]> results,
        List<(LayerSegment Segment, (int First, int Last)[] Windows)> draws, int conditionsRun, InterventionInputs inputs)
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
            var e = MakeEffect("none", [0, c.Layers - 1], null, InterventionSpec.Noop, m, Differences(noopOutcomes, m.Name), null, null);
            noopEffects[m.Name] = e.Effect;
            noopRows.Add(e);
        }

        foreach (var spec in _s.Interventions)
        {
            foreach (var (seg, windows) in draws)
            {
                var own = results[KeyOf(spec, seg.First, seg.Last)];
                var controls = windows.Select(w => results[KeyOf(spec, w.First, w.Last)]).ToArray();
                foreach (var m in metrics)
                {
                    var controlMeans = controls.Select(o => Differences(o, m.Name)).Where(dd => dd.Length > 0).Select(dd => PairedStatistics.Mean(dd)).ToArray();
                    effects.Add(MakeEffect(seg.Name, [seg.First, seg.Last], null, spec, m, Differences(own, m.Name), controlMeans, noopEffects[m.Name]));
                }
                AddRows(rows, inputs.ModelName, seg.Name, seg.First, seg.Last, -1, "", spec, own);
            }
            foreach (var (seg, windows) in draws)
            {
                var controls = windows.Select(w => results[KeyOf(spec, w.First, w.Last)]).ToArray();
                foreach (var m in metrics)
                    effects.Add(MakeEffect("random", null, seg.Name, spec, m, PooledDifferences(controls, m.Name), null, noopEffects[m.Name]));
                for (int j = 0; j < windows.Length; j++)
                    AddRows(rows, inputs.ModelName, "random", windows[j].First, windows[j].Last, j, seg.Name, spec, controls[j]);
            }
        }
        effects.AddRange(noopRows);
        AddRows(rows, inputs.ModelName, "none", 0, c.Layers - 1, -1, "", InterventionSpec.Noop, noopOutcomes);

        // Holm over every row of the table that has a p-value.
        var tested = Enumerable.Range(0, effects.Count).Where(k => effects[k].P is not null).ToArray();
        var adjusted = HolmBonferroni.Adjust(tested.Select(k => effects[k].P!.Value).ToArray());
        for (int t = 0; t < tested.Length; t++) effects[tested[t]] = effects[tested[t]] with { PHolm = adjusted[t] };

        var byCondition = _s.Interventions.Select(spec => Dissociation(spec, effects)).ToList();
        var primary = PrimarySpec();
        var primaryReport = byCondition[_s.Interventions.ToList().IndexOf(primary)] with { ByCondition = byCondition };

        var noopAbs = noopEffects.Values.Where(v => v is not null).Select(v => Math.Abs(v!.Value)).ToList();
        var manifest = new InterventionManifest
        {
            Model = inputs.ModelPath,
            ModelSha256 = inputs.ModelSha256,
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
            ControlDraws = draws.Select(d => new ControlDraws(d.Segment.Name, d.Segment.Width, d.Windows.Select(w => new[] { w.First, w.Last }).ToArray())).ToList(),
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
            PrimaryCondition = primary.Label,
            Definitions = Definitions(),
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

    private DissociationReport Dissociation(InterventionSpec spec, IReadOnlyList<InterventionEffect> effects)
    {
        var cells = effects.Where(e => e.ControlFor is null && e.Intervention == spec.KindName && e.Component == spec.ComponentName
                                       && e.Alpha == spec.Alpha && LayerSegments.ScaleOf(e.Segment) is not null)
            .Select(e => new SegmentMetricEffect(LayerSegments.ScaleOf(e.Segment)!.Value, e.Metric, e.CohensD));
        var m = DissociationMatrix.Build(cells);
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
        };
    }

    /// <summary>Per-document paired differences of one metric, over the documents where it is defined on both sides.</summary>
    private static double[] Differences(DocOutcome[] outcomes, string metric) =>
        outcomes.Where(o => o.Document.ContainsKey(metric)).Select(o => o.Document[metric].Value).ToArray();

    /// <summary>The random control as one paired effect: per document, the mean difference over the draws where
    /// the metric is defined; documents with no defined draw are left out.</summary>
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

    private InterventionEffect MakeEffect(string segment, int[]? layers, string? controlFor, InterventionSpec spec, OutcomeMetric metric,
        double[] differences, double[]? controlMeans, double? noopEffect)
    {
        var effect = new InterventionEffect
        {
            Segment = segment,
            Layers = layers,
            ControlFor = controlFor,
            Intervention = spec.KindName,
            Component = spec.ComponentName,
            Alpha = spec.Alpha,
            Metric = metric.Name,
            Family = FamilyName(metric.Family),
            N = differences.Length,
        };
        if (differences.Length == 0) return effect;
        var pe = PairedStatistics.AnalyzeDifferences(differences, _s.Seed, _s.BootstrapResamples, _s.PermutationResamples);
        ControlSummary? vs = null;
        if (controlMeans is { Length: > 0 })
        {
            var cc = ControlComparison.Compare(pe.Interval.Mean, controlMeans);
            vs = new ControlSummary(cc.Controls, cc.ControlMeanMagnitude, cc.Ratio, cc.Z, cc.Percentile, cc.ExceedanceP);
        }
        return effect with
        {
            Effect = pe.Interval.Mean,
            Ci = [pe.Interval.Low, pe.Interval.High],
            P = pe.Permutation.PValue,
            CohensD = pe.CohensDz,
            VsRandomControl = vs,
            VsNoop = noopEffect is double z ? pe.Interval.Mean - z : null,
        };
    }

    internal static string FamilyName(MetricFamily f) => f switch
    {
        MetricFamily.NextToken => "next_token",
        _ => f.ToString().ToLowerInvariant(),
    };

    private void AddRows(List<InterventionTableRow> rows, string model, string segment, int first, int last, int draw, string controlFor,
        InterventionSpec spec, DocOutcome[] outcomes)
    {
        for (int i = 0; i < outcomes.Length; i++)
        {
            int doc = _clean[i].Source.Index;
            void Add(int continuation, string metric, Pair p) => rows.Add(new InterventionTableRow(
                new InterventionRow(model, doc, continuation, segment, spec.KindName, spec.ComponentName, spec.Alpha ?? 0,
                    metric, p.Value, p.Clean, p.Intervened), first, last, draw, controlFor));
            foreach (var m in OutcomeMetrics.All)
                if (outcomes[i].Document.TryGetValue(m.Name, out var p)) Add(-1, m.Name, p);
            for (int c = 0; c < outcomes[i].PerContinuation.Length; c++)
                foreach (var m in OutcomeMetrics.All)
                    if (outcomes[i].PerContinuation[c].TryGetValue(m.Name, out var p)) Add(c, m.Name, p);
        }
    }

    private static IReadOnlyDictionary<string, string> Definitions()
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["noise"] = "Gaussian noise added to blocks.l.resid_post at every position for each block l of the segment; per coordinate σ = α·mean‖resid_post_l‖/√d_model, so the noise vector's RMS length is α × the block's mean residual norm on the clean corpus. The noise depends only on (seed, document, run, block, position).",
            ["zero"] = "The component's output (attn.out, mlp.out or both) set to 0 at every block of the segment.",
            ["mean"] = "The component's output replaced by its mean over all clean corpus positions (BOS included), per block, the same vector at every position.",
            ["resample"] = "Cross-document resample ablation: at every block of the segment the component's output is replaced by the clean output of another document at the same position (document i takes document (i + resample_donor_shift) mod n; for a continuation, the donor's prompt plus its own clean continuation with the same index). With component both this replaces the segment's whole update to the residual stream, i.e. resid_post(last) = resid_pre(first) + the donor's resid_post(last) − resid_pre(first). The literal alternative, overwriting resid_post of the segment's last block with the donor's, would also overwrite everything upstream, so its effect would depend only on where the segment ends; patching the segment's own writes keeps the intervention specific to the segment. Positions beyond the donor's length are not patched.",
            ["skip"] = "attn.out and mlp.out of every block of the segment set to 0: the residual stream passes the blocks unchanged (identical to zero with component both).",
            ["noop"] = "Identity editors on blocks.l.resid_post of every block: checks that hooking alone changes nothing; segment \"none\".",
            ["random"] = "The same intervention on random contiguous segments of the same width (start uniform over all positions, the named segment included, drawn with replacement, seeded). The random row's effect pairs, per document, the mean over the draws with the clean value. vs_random_control compares |effect| with the per-draw mean effects.",
            ["effect"] = "Mean over documents of intervened − clean. Next-token metrics are averaged over the positions of the document that have a next token; brittleness_kl has clean value 0 and top1_agreement clean value 1 (so its effect is agreement − 1). Text metrics are measured on the continuations of the document's prompt (distinct-n pooled over the continuations, the others averaged), sampled with identical seeds clean and intervened, with the intervention active during generation; a document enters a text metric's pair only when the metric is defined on both sides.",
            ["statistics"] = "ci: paired bootstrap 95% percentile interval of the mean (documents resampled); p: two-sided paired sign-flip permutation test (exact for n ≤ 16); p_holm: Holm over every row with a p; cohens_d: paired d_z = mean/sd of the differences.",
            ["dissociation"] = "Cell(segment, family) = mean |d_z| over the family's text metrics for that segment under one condition; diagonal_dominance = mean over complete rows of diagonal − mean of the two off-diagonal cells; row/column_max_fraction = fraction of rows/columns whose diagonal is the strict maximum. Next-token metrics are not in the matrix.",
            ["coherence_embedding"] = "Each sentence tokenized alone and run through the clean model; mean of the final block's resid_post over its tokens (BOS excluded).",
            ["parquet"] = "interventions.parquet: one row per document, continuation (−1 = the document-level value the statistics pair; c ≥ 0 = continuation c measured alone), segment, intervention, component, alpha (0 for interventions without a dose), metric; value = intervened − clean (the KL itself for brittleness_kl); first_layer/last_layer = the blocks intervened on; draw = control draw (−1 otherwise); control_for = the named segment a random row controls. Rows where a metric is undefined on either side are left out.",
        };
        foreach (var m in OutcomeMetrics.All) d[$"metric.{m.Name}"] = m.Definition;
        return d;
    }
}
