using Mspgt.Numerics;
using Mspgt.Experiments;
using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;
using Mspgt.Models;
using Mspgt.Reporting;
using Mspgt.Tokenization;
using Mspgt.Corpora;
using Mspgt.Files;

namespace Mspgt.Interventions;

/// <summary>Where the model and corpus came from, for the manifest and the parquet "model" column.</summary>
public sealed record InterventionInputs(
    string ModelName, string ModelPath, string? ModelSha256, string? TokenizerDescription,
    string CorpusDescription, string? CorpusSha256, string Device = "cpu");

/// <summary>
/// Runs the scale-specific causal interventions of <c>mspgt intervene</c>: every intervention condition on every
/// named segment, on contiguous windows of the same width that do not overlap it (the controls) and a no-op,
/// measured against the clean model on each document's next-token distributions and on sampled continuations, then
/// summarised (InterventionSummary.cs) as paired effects, contrasts with the controls, Holm over the confirmatory
/// rows, and the dissociation matrix with its interval and permutation null.
/// <para>Determinism: every random choice (corpus sampling aside) is keyed by the seed: control draws, resample
/// donors, sampling seeds per (document, continuation), noise per (document, run, block, position), resampling in
/// the statistics. Documents run in parallel, but each writes only its own slot and every reduction is ordered, so
/// the result does not depend on the number of threads.</para>
/// </summary>
public sealed partial class InterventionExperiment
{
    private readonly IDecoder _model;
    private readonly ITokenizer _tokenizer;
    private readonly InterventionSettings _s;
    private readonly SentenceEmbedder _embedder;
    private readonly HashSet<int> _stop;
    private readonly ParallelOptions _parallel;
    private CleanActivationStatistics _stats = null!;
    private CleanDocument[] _clean = [];

    /// <summary>
    /// The clean final-norm rows of every document (CPU, clean logits not kept), on disk until each comparison reads its
    /// document's back: held in memory they grew with the corpus (3.7 MB a document at 1,024 tokens of the 0.5B shape;
    /// 4 documents held 15 MB, 64 would hold 235 MB), while everything else intervene holds is one document's.
    /// </summary>
    private SpillFile? _cleanRows;

    private float[]? _rowsBuffer;

    /// <summary>A buffer of at least <paramref name="length"/> floats for one document's rows, the last one given back
    /// when it is large enough (the CPU comparisons run one document at a time).</summary>
    private float[] TakeRows(int length)
    {
        var b = Interlocked.Exchange(ref _rowsBuffer, null);
        return b != null && b.Length >= length ? b : new float[length];
    }

    private void PutRows(float[] b) => Interlocked.Exchange(ref _rowsBuffer, b);
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
        /// <summary>On the CPU when the clean logits are not kept: where the clean final-norm rows lie in
        /// <see cref="_cleanRows"/> (−1: not there), beside what the comparison needs of each clean logit row in
        /// <see cref="Summary"/> (HeadDivergence remakes the clean logits from the rows a slice at a time).</summary>
        public long NormedAt { get; set; } = -1;
        public HeadDivergence.CleanRows? Summary { get; set; }
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

    private InterventionExperiment(IDecoder model, ITokenizer tokenizer, InterventionSettings settings)
    {
        _model = model;
        _tokenizer = tokenizer;
        _s = settings;
        _embedder = new SentenceEmbedder(model, tokenizer);
        _stop = StopTokens.For(model.Config, tokenizer);
        _parallel = Mspgt.Numerics.Parallelism.OptionsFor(settings.Threads ?? 0);
    }

    /// <param name="progress">(done, total, what is running) after each step; called on the calling thread.</param>
    public static InterventionResult Run(IDecoder model, ITokenizer tokenizer, IReadOnlyList<Document> documents,
        InterventionSettings settings, InterventionInputs inputs, Action<int, int, string>? progress = null)
    {
        settings.Validate(model.Config.Layers, model.Config.MaxSeq);
        var experiment = new InterventionExperiment(model, tokenizer, settings);
        try { return experiment.Execute(documents, inputs, progress); }
        finally { experiment._cleanRows?.Dispose(); }
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
        var draws = segments.Select((seg, si) => (Segment: seg, Set: ControlWindows.Choose(seg, c.Layers, _s.Controls, _s.Seed, si))).ToList();
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
            foreach (var (_, set) in draws)
                foreach (var (f, l) in set.Windows) Want(spec, f, l);
        }
        Want(InterventionSpec.Noop, 0, c.Layers - 1);

        // Every condition compares a document with its clean logits ([tokens × vocab] floats: 38 MB for 64 tokens of
        // a 150k vocabulary). On the CPU, unless a budget is set, none are kept: each document keeps its clean
        // final-norm rows (T × dim floats) and every comparison makes the clean logits again a slice of the vocabulary
        // at a time next to the intervened ones (HeadDivergence). That is one more pass of the head's arithmetic, but
        // the two sets share one decoding of the head and no kept array is read, and it measured no slower (0.95×
        // with a BF16 head, 0.83–0.95× Q8_0: `*HeadComparison*` in bench/). On a device, whose batches bring whole
        // logits, they are all kept when that is small beside the weights, else the documents go a batch at a time,
        // each one's clean logits computed once and dropped after its conditions. The order of the work changes,
        // not its results.
        long logitBytes = _clean.Sum(d => (long)(d.Ids.Length - 1) * c.Vocab * sizeof(float));
        int batch = DeviceBatch(_clean.Max(d => d.Ids.Length));
        bool cpu = batch == 1 && _model is Transformer;
        bool keepLogits = logitBytes <= (_s.CleanLogitsBudget ?? (cpu ? 0 : Math.Min(512L << 20, Math.Max(32L << 20, _model.Weights.StoredBytes / 8))));
        bool cleanFromNorm = !keepLogits && cpu;
        if (cleanFromNorm) _cleanRows = SpillFile.Create("the clean documents' final-norm rows");
        int groupSize = keepLogits || cleanFromNorm ? n : batch;
        var groups = Enumerable.Range(0, (n + groupSize - 1) / groupSize)
            .Select(g => (First: g * groupSize, Count: Math.Min(groupSize, n - g * groupSize))).ToList();
        int total = 1 + conditions.Count * groups.Count, done = 0;

        progress?.Invoke(done, total, "clean model");
        _stats = CleanActivationStatistics.Compute(_model, _clean.Select(d => d.Ids).ToList());
        // The clean passes: on the CPU and wherever their full logits are made only to be summarised and dropped (a
        // device without batches), one document at a time, the forward pass and the head spreading over the threads
        // themselves; elsewhere documents in parallel; a device batch at a time on a GPU. Then the clean
        // continuations, documents in parallel (token-by-token decoding spreads poorly; its memory is small).
        if (batch == 1) ForDocuments(0, n, cpu || !(keepLogits || cleanFromNorm), i => RunClean(i, keepLogits, cleanFromNorm));
        else InBatches(0, n, batch, chunk => CleanLogits(chunk), (i, logits) => RunClean(i, keepLogits, false, logits));
        if (_s.Continuations > 0) Parallel.For(0, n, _parallel, CleanContinuations);
        Garbage.Release();
        progress?.Invoke(++done, total, "clean model");

        var results = conditions.ToDictionary(x => x.Key, _ => new DocOutcome[n]);
        foreach (var (first, count) in groups)
        {
            string docs = groups.Count == 1 ? "" : $" (documents {first + 1}–{first + count} of {n})";
            if (!keepLogits && !cleanFromNorm && batch == 1)
                Parallel.For(first, first + count, _parallel, i => _clean[i].Logits = _model.Forward(_clean[i].Ids, null, null, LogitRows.All));
            else if (!keepLogits && !cleanFromNorm)
                InBatches(first, count, batch, chunk => CleanLogits(chunk), (i, logits) => _clean[i].Logits = logits);
            foreach (var (key, spec) in conditions)
            {
                string label = $"{spec.Label} on blocks {key.First}-{key.Last}{docs}";
                progress?.Invoke(done, total, label);
                var outcomes = results[key];
                if (batch == 1) ForDocuments(first, count, cpu, i => outcomes[i] = NextTokenOutcomes(spec, key.First, key.Last, i));
                else InBatches(first, count, batch, chunk => IntervenedLogits(spec, key.First, key.Last, chunk),
                    (i, logits) => outcomes[i] = NextTokenOutcomes(spec, key.First, key.Last, i, logits));
                if (_s.Continuations > 0) Parallel.For(first, first + count, _parallel, i => AddContinuations(outcomes[i], spec, key.First, key.Last, i));
                Garbage.Release(); // this condition's logits, before the next condition's
                progress?.Invoke(++done, total, label);
            }
            if (!keepLogits && !cleanFromNorm)
                for (int i = first; i < first + count; i++) _clean[i].Logits = null;
        }

        return Summarise(results, draws, conditions.Count, inputs);
    }

    /// <summary>
    /// Documents per forward pass: 1 where the model runs one at a time (the CPU; documents then run in parallel),
    /// else the device's batch size, no more than keeps a batch's intervened and clean logits within a quarter of
    /// the memory the process may still use.
    /// </summary>
    private int DeviceBatch(int tokens)
    {
        int device = _model.BatchSize(tokens);
        if (device <= 1) return 1;
        long perDocument = 2L * tokens * _model.Config.Vocab * sizeof(float);
        long host = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;
        return (int)Math.Clamp(Math.Min(device, host / perDocument), 1, int.MaxValue);
    }

    /// <summary>
    /// body(i) for documents first..first+count−1: <paramref name="oneAtATime"/> on the CPU, where each full-document
    /// forward pass and head comparison spreads over the threads itself, so that one pass's buffers are in memory
    /// (in parallel, each document's pass held its own, and its thread a GEMM packing buffer: 4 documents of 1,024
    /// tokens at the 0.5B shape, Q8_0, peaked at 907 MiB against 751 one at a time); else in parallel. Each document
    /// writes only its own slot.
    /// </summary>
    private void ForDocuments(int first, int count, bool oneAtATime, Action<int> body)
    {
        if (!oneAtATime) Parallel.For(first, first + count, _parallel, body);
        else for (int i = first; i < first + count; i++) body(i);
    }

    /// <summary>
    /// Documents first..first+count−1 in chunks of <paramref name="batch"/>: <paramref name="run"/> gives a chunk's
    /// logits from batched passes, then <paramref name="finish"/> takes each document's in parallel (its metrics
    /// and continuations). Each document writes only its own slot, so the result does not depend on the chunking.
    /// </summary>
    private void InBatches(int first, int count, int batch, Func<int[], IReadOnlyList<float[]>> run, Action<int, float[]> finish)
    {
        for (int start = first; start < first + count; start += batch)
        {
            var chunk = Enumerable.Range(start, Math.Min(batch, first + count - start)).ToArray();
            var logits = run(chunk);
            Parallel.For(0, chunk.Length, _parallel, k => finish(chunk[k], logits[k]));
        }
    }

    private IReadOnlyList<float[]> CleanLogits(int[] documents) =>
        _model.ForwardBatch(documents.Select(i => _clean[i].Ids).ToArray(), null, LogitRows.All);

    /// <summary>The intervened logits of <paramref name="documents"/>, with the editors <see cref="RunDocument"/> would make, in one batch.</summary>
    private IReadOnlyList<float[]> IntervenedLogits(InterventionSpec spec, int first, int last, int[] documents)
    {
        var donors = spec.Kind == InterventionKind.Resample
            ? DonorActivations.CaptureBatch(_model, documents.Select(i => _clean[(i + _donorShift) % _clean.Length].Ids).ToArray(), first, last)
            : null;
        var hooks = documents.Select((i, k) => (Hooks?)InterventionEditors.Create(spec, first, last, _stats, new NoiseKey(_s.Seed, i, -1), donors?[k])).ToArray();
        return _model.ForwardBatch(documents.Select(i => _clean[i].Ids).ToArray(), hooks, LogitRows.All);
    }

    private static ConditionKey KeyOf(InterventionSpec spec, int first, int last) => spec.Kind == InterventionKind.Skip
        ? new ConditionKey(InterventionKind.Zero, InterventionComponent.Both, null, first, last) // identical editors
        : new ConditionKey(spec.Kind, spec.Component, spec.Alpha, first, last);

    private int SamplingSeed(int document, int continuation) =>
        (int)(NoiseKey.Mix(NoiseKey.Mix(NoiseKey.Mix((ulong)(uint)_s.Seed ^ 0x73616D706C65UL) ^ (ulong)(uint)document) ^ (ulong)(uint)continuation) & 0x7FFFFFFF);

    /// <param name="fromNorm">Keep the clean final-norm rows and the logits' summary instead of the logits.</param>
    private void RunClean(int i, bool keepLogits, bool fromNorm, float[]? batchLogits = null)
    {
        var d = _clean[i];
        int V = _model.Config.Vocab, rows = d.Ids.Length - 1, T = d.Ids.Length, dim = _model.Config.Dim;
        // The clean NLL is the summary's (log Z by the sliced running sum every comparison uses), whichever way the
        // clean logits are held, so keeping them or not changes no number.
        if (fromNorm)
        {
            // No [tokens × vocab] array even here: the clean pass stops at the final norm and the head is read a
            // vocabulary slice at a time.
            var normed = TakeRows(T * dim);
            var hooks = new Hooks();
            hooks.Observe(HookPoint.FinalNorm, t => t.Data[..(T * dim)].CopyTo(normed));
            _model.Forward(d.Ids, null, hooks, LogitRows.None);
            d.Summary = HeadDivergence.SummariseClean(normed, T, ((Transformer)_model).Weights.Output, rows, d.Ids.AsSpan(1));
            d.NormedAt = _cleanRows!.Write(normed.AsSpan(0, T * dim));
            PutRows(normed);
        }
        else
        {
            var logits = batchLogits ?? _model.Forward(d.Ids, null, null, LogitRows.All);
            d.Summary = HeadDivergence.SummariseClean(logits.AsSpan(0, rows * V), T, V, rows, d.Ids.AsSpan(1));
            if (keepLogits) d.Logits = logits;
        }
        d.Nll = d.Summary.MeanNll();
    }

    /// <summary>The clean document's sampled continuations and their text outcomes.</summary>
    private void CleanContinuations(int i)
    {
        var d = _clean[i];
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
        hooks.Observe(HookPoint.Logits, t => last = t.Row(t.Shape[0] - 1).ToArray());
        var logProbs = new List<double>();
        int budget = Math.Min(_s.GenTokens, _model.Config.MaxSeq - prompt.Length);
        var sampling = new SamplingOptions(_s.Temperature, 0, _s.TopP, samplingSeed);
        var ids = Generator.Generate(_model, prompt, budget, sampling, _stop, hooks,
            token => logProbs.Add(-NextTokenDivergence.Nll(last!, token)));
        return new Continuation(ids, logProbs.ToArray(), _tokenizer.Decode(ids));
    }

    /// <summary>One document's next-token outcomes under one condition (its continuations come after, <see cref="AddContinuations"/>).</summary>
    /// <param name="batchLogits">The intervened logits when a batched pass made them (<see cref="IntervenedLogits"/>).</param>
    private DocOutcome NextTokenOutcomes(InterventionSpec spec, int first, int last, int i, float[]? batchLogits = null)
    {
        var d = _clean[i];
        var donorDoc = _clean[(i + _donorShift) % _clean.Length];
        bool resample = spec.Kind == InterventionKind.Resample;

        int V = _model.Config.Vocab, rows = d.Ids.Length - 1, T = d.Ids.Length, dim = _model.Config.Dim;
        var logits = batchLogits;
        // The CPU model, when this document is not part of a device batch (which brings its logits whole).
        var cpu = batchLogits == null ? _model as Transformer : null;
        float[]? normed = null;
        if (logits == null)
        {
            var donor = resample ? DonorActivations.Capture(_model, donorDoc.Ids, first, last) : null;
            var hooks = InterventionEditors.Create(spec, first, last, _stats, new NoiseKey(_s.Seed, i, -1), donor);
            if (cpu != null)
            {
                // On the CPU the intervened logits are never whole: the final-norm rows go through the head a slice
                // of the vocabulary at a time (HeadDivergence), 38 MB less per document at a 152k vocabulary.
                normed = new float[T * dim];
                hooks.Observe(HookPoint.FinalNorm, t => t.Data[..(T * dim)].CopyTo(normed));
                _model.Forward(d.Ids, null, hooks, LogitRows.None);
            }
            else logits = _model.Forward(d.Ids, null, hooks, LogitRows.All);
        }
        IReadOnlyDictionary<string, double?> next;
        if (cpu != null && d.Logits == null && d.NormedAt >= 0)
        {
            var cleanNormed = TakeRows(T * dim);
            _cleanRows!.ReadInto(d.NormedAt, cleanNormed.AsSpan(0, T * dim));
            next = HeadDivergence.MeasureRows(cleanNormed, d.Summary!, normed!, T, cpu.Weights.Output, rows, d.Ids.AsSpan(1));
            PutRows(cleanNormed);
        }
        else
        {
            var cleanLogits = d.Logits ?? _model.Forward(d.Ids, null, null, LogitRows.All);
            next = cpu != null
                ? HeadDivergence.MeasureRows(cleanLogits.AsMemory(0, rows * V), normed!, T, cpu.Weights.Output, rows, d.Ids.AsSpan(1))
                : NextTokenDivergence.MeasureRows(cleanLogits.AsSpan(0, rows * V), logits!.AsSpan(0, rows * V), V, d.Ids.AsSpan(1));
        }
        double kl = next[OutcomeMetrics.BrittlenessKl]!.Value, dNll = next[OutcomeMetrics.DeltaNll]!.Value;
        double agree = next[OutcomeMetrics.Top1Agreement]!.Value;

        var outcome = new DocOutcome { PerContinuation = new Dictionary<string, Pair>[_s.Continuations] };
        outcome.Document[OutcomeMetrics.BrittlenessKl] = new Pair(kl, null, null);
        outcome.Document[OutcomeMetrics.DeltaNll] = new Pair(dNll, d.Nll, d.Nll + dNll);
        outcome.Document[OutcomeMetrics.Top1Agreement] = new Pair(agree - 1, 1, agree);
        return outcome;
    }

    /// <summary>Samples the condition's continuations of document <paramref name="i"/> and adds their paired text outcomes to <paramref name="outcome"/>.</summary>
    private void AddContinuations(DocOutcome outcome, InterventionSpec spec, int first, int last, int i)
    {
        var d = _clean[i];
        var donorDoc = _clean[(i + _donorShift) % _clean.Length];
        bool resample = spec.Kind == InterventionKind.Resample;
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
    }

    private static Dictionary<string, Pair> Pairs(IReadOnlyDictionary<string, double?> clean, IReadOnlyDictionary<string, double?> intervened)
    {
        var result = new Dictionary<string, Pair>(StringComparer.Ordinal);
        foreach (var (metric, cv) in clean)
            if (cv is double a && intervened.TryGetValue(metric, out var iv) && iv is double b)
                result[metric] = new Pair(b - a, a, b);
        return result;
    }
}
