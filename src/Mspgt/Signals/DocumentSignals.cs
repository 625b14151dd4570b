using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals.Estimators;

namespace Mspgt.Signals;

/// <summary>Settings of the per-document measurements.</summary>
public sealed record SignalSettings
{
    /// <summary>PCA components per side for the Gaussian MI estimate.</summary>
    public int PcaDims { get; init; } = 16;
    /// <summary>Neighbours for the KSG estimate.</summary>
    public int KsgNeighbors { get; init; } = 3;
    /// <summary>
    /// Most positions per document read through the logit lens (evenly spaced). Fewer are read when the lens over
    /// that many would cost more arithmetic than half the document's forward pass (<see cref="DocumentSignals.LensSampleSize"/>).
    /// </summary>
    public int LensPositions { get; init; } = 64;
    /// <summary>Read every position through the lens (exact lens_kl / lens_entropy; costs (layers+1)·vocab·dim per token).</summary>
    public bool ExactLens { get; init; }
    /// <summary>Token positions per document kept (at every layer) for the probes and the layer × layer CKA matrix.</summary>
    public int ProbeTokensPerDocument { get; init; } = 64;
    /// <summary>Token positions per document kept (at every layer) for the pooled Gaussian MI (evenly spaced).</summary>
    public int MiTokensPerDocument { get; init; } = 256;
    /// <summary>Representations wider than this are reduced by a fixed seeded Gaussian projection before pooling.</summary>
    public int PooledDims { get; init; } = 256;
    /// <summary>
    /// Whether position 0 (BOS, or the first token) enters the representation signals (MI, adjacent CKA, effective
    /// rank, TwoNN). Off by default: attention-sink rows there can carry 100× the norm of the others and dominate
    /// every covariance-based statistic. The probes never use it.
    /// </summary>
    public bool IncludeBos { get; init; }
    public int Seed { get; init; }
}

/// <summary>What one document contributes: its layer × signal values and samples of its token representations.</summary>
public sealed class DocumentMeasurement
{
    /// <summary>
    /// [layer, signal] in <see cref="DocumentSignals.PerDocumentSignals"/> order. The mi_gaussian and mi_delta columns
    /// are NaN here: they need every document and are filled by <see cref="PooledMutualInformation"/>.
    /// </summary>
    public required double[,] Values { get; init; }
    /// <summary>Sampled positions for the probes (same at every layer, never position 0).</summary>
    public required int[] Positions { get; init; }
    /// <summary>Pooled representations per representation index (0 = embedding, l+1 = resid_post of block l), [positions × dims].</summary>
    public required IReadOnlyList<float[]> Pooled { get; init; }
    /// <summary>Sampled positions for the pooled Gaussian MI (position 0 only with IncludeBos).</summary>
    public required int[] MiPositions { get; init; }
    /// <summary>Per representation index, the rows at <see cref="MiPositions"/> in the pooled space, [positions × dims].</summary>
    public required IReadOnlyList<float[]> MiRows { get; init; }
    /// <summary>Per block, the KSG estimate's result (its ceiling and whether it saturated).</summary>
    public required KsgMutualInformationResult[] Ksg { get; init; }
}

/// <summary>
/// One document's forward pass as the signals read it: its attention statistics per block and its representations
/// (index 0 the embedding, l+1 block l's output, each [T × dim]).
/// </summary>
public sealed record CapturedDocument(int[] Ids, AttentionStatistics Attention, float[][] Representations);

/// <summary>The per-document values of the representation signals of one block.</summary>
public sealed record RepresentationValues(KsgMutualInformationResult Ksg, double Cka, double EffectiveRank, double TwoNn);

/// <summary>
/// Streams one document through the model with hooks and measures every per-document signal at every block.
/// Only this document's residual streams are held (T × dim per layer), never the corpus's; attention patterns are
/// reduced to entropy and distance as each layer hands them over. What is kept for the corpus-level stage is a
/// sample of rows per layer: <see cref="SignalSettings.MiTokensPerDocument"/> for the pooled MI and
/// <see cref="SignalSettings.ProbeTokensPerDocument"/> for the probes, in at most <see cref="SignalSettings.PooledDims"/>
/// dimensions (float32): (layers + 1) × (256 + 64) × 256 × 4 bytes ≈ 10 MB per document for a 32-layer wide model,
/// held by the <see cref="SampleStore"/> (analyze's is on disk, so memory does not grow with the corpus).
/// </summary>
public sealed partial class DocumentSignals
{
    /// <summary>Signals measured per document (probe signals are added later from the pooled sample).</summary>
    public static readonly string[] PerDocumentSignals =
    [
        SignalNames.AttnDistance, SignalNames.AttnEntropy, SignalNames.AttnEntropyNorm, SignalNames.MiGaussian,
        SignalNames.MiKsg, SignalNames.MiDelta, SignalNames.CkaAdjacent, SignalNames.LensKl, SignalNames.LensEntropy,
        SignalNames.EffectiveRank, SignalNames.TwoNn,
    ];

    /// <summary>Column of mi_gaussian and of mi_delta in <see cref="DocumentMeasurement.Values"/>.</summary>
    public static readonly int MiGaussianColumn = Array.IndexOf(PerDocumentSignals, SignalNames.MiGaussian),
        MiDeltaColumn = Array.IndexOf(PerDocumentSignals, SignalNames.MiDelta);

    /// <summary>
    /// Representation rows the per-document estimators need: KSG k + 2, TwoNN 3 distinct points, effective rank and
    /// CKA 2, and 3 probe tokens (so the global probe has a held-out token in the last 40%).
    /// </summary>
    public static int MinimumRepresentationRows(SignalSettings s) =>
        Math.Max(new KsgMutualInformation { Neighbors = s.KsgNeighbors }.MinimumSamples,
            Math.Max(TwoNnIntrinsicDimension.MinimumSamples, Math.Max(Math.Max(EffectiveRank.MinimumSamples, LinearCka.MinimumSamples), 3)));

    /// <summary>Fewest tokens a document needs: <see cref="MinimumRepresentationRows"/> plus position 0 unless it is included.</summary>
    public int MinimumTokens => MinimumRepresentationRows(_s) + (_s.IncludeBos ? 0 : 1);

    private void RequireMinimumTokens(int[] ids)
    {
        if (ids.Length < MinimumTokens)
            throw new MspgtException("signals", $"{ids.Length} tokens are too few: the per-document estimators need {MinimumTokens}");
    }

    private readonly IDecoder _model;
    private readonly long _weightBytes;   // the model's stored weights: what a window's memory is set against
    private readonly CenteredGram.GramProduct? _gramProduct;
    private readonly SignalSettings _s;
    private readonly LogitLens _lens;
    private readonly WeightMatrix? _projection; // pooledDims × dim (row q = the q-th random direction) when the model is wider than PooledDims
    private readonly SampleStore _samples;

    public int PooledDims { get; }

    /// <summary>The settings the signals are measured with.</summary>
    public SignalSettings Settings => _s;

    /// <param name="samples">Where each document's pooled samples wait for the corpus-level stage (default: in memory).</param>
    public DocumentSignals(IDecoder model, SignalSettings settings, SampleStore? samples = null)
    {
        _model = model;
        _weightBytes = model.Weights.StoredBytes;
        _s = settings;
        _samples = samples ?? SampleStore.InMemory();
        _lens = new LogitLens(model.Config, model.Weights, model as Models.Gpu.GpuTransformer);
        // With the model on a GPU, each representation's Gram matrix is formed there too (the estimators' largest product).
        if (model is Models.Gpu.GpuTransformer gpu) _gramProduct = gpu.CenteredGram;
        int d = model.Config.Dim;
        if (d > settings.PooledDims)
        {
            PooledDims = settings.PooledDims;
            var rng = new Random(settings.Seed ^ 0x5eed);
            var p = new float[d * PooledDims];   // drawn as [dim × pooledDims], stored transposed for the GEMM
            double scale = 1 / Math.Sqrt(PooledDims);
            for (int i = 0; i < p.Length; i++) p[(i % PooledDims) * d + i / PooledDims] = (float)(Gaussian(rng) * scale);
            _projection = WeightMatrix.FromFloats("pooled projection", PooledDims, d, p);
        }
        else PooledDims = d;
    }

    /// <summary>
    /// The lens's share of the forward pass's arithmetic when sampled: half, so that the lens and the other
    /// estimators together can stay within one forward pass (issue 13).
    /// </summary>
    public const double LensShareOfForward = 0.5;

    /// <summary>
    /// Fewest positions the lens reads when it is sampled. Low enough that the share above governs the 150k-vocabulary
    /// shapes too (13 positions of 256 for Qwen2.5-0.5B, 12 for Qwen3-0.6B; a floor of 16 made their lens alone
    /// 0.57–0.64× the forward pass); the standard error of a document's mean grows as 1/√n, and the document
    /// bootstrap carries it.
    /// </summary>
    public const int MinimumLensPositions = 8;

    /// <summary>
    /// Positions the lens reads in a <paramref name="tokens"/>-token document: all of them with
    /// <see cref="SignalSettings.ExactLens"/>; otherwise at most <see cref="SignalSettings.LensPositions"/>, and no more
    /// than keeps the lens's multiply-adds ((layers + 1) · vocab · dim per position) within
    /// <see cref="LensShareOfForward"/> of the forward pass the signals run (every block's weight matrices once per
    /// token; that pass computes no logits), but never under <see cref="MinimumLensPositions"/>. Lens values are then
    /// means over an evenly spaced sample of positions: their standard error is about sd/√n · √(1 − n/T).
    /// </summary>
    public static int LensSampleSize(ModelConfig c, int tokens, SignalSettings s)
    {
        if (s.ExactLens) return tokens;
        double q = (double)c.Heads * c.HeadDim, kv = (double)c.KvHeads * c.HeadDim;
        double perToken = c.Layers * (c.Dim * (2 * q + 2 * kv) + 3.0 * c.Dim * c.Ffn);
        double perLensPosition = (c.Layers + 1.0) * c.Vocab * c.Dim;
        int budget = (int)Math.Min(int.MaxValue, Math.Floor(LensShareOfForward * tokens * perToken / perLensPosition));
        return Math.Min(tokens, Math.Min(s.LensPositions, Math.Max(MinimumLensPositions, budget)));
    }

    /// <summary>
    /// The share of the weights' stored bytes that the representations a window of the per-document estimators
    /// (<see cref="DocumentMeasurer"/>) prepares at once may take: an eighth of the 0.3× above the weights that issue
    /// 13's memory bound leaves for everything else (activations, caches, the runtime). The window holds as many blocks
    /// as fit (<see cref="PreparationBytes"/> each), but never fewer than 2 nor more than 2 per thread, so its memory
    /// is set by the model and the document's length rather than by the thread count: at 256 tokens of the 0.5B shape
    /// (about 4.1 MB each) a Q8_0 file (530 MB) takes 4 blocks at a time on 2 threads or 16, a BF16 one 9 on 16 threads;
    /// the 8B shape in BF16 2 per thread. Until 2026-12-08 a fixed 64 MB let 16 threads prepare 11 blocks at once at
    /// the 0.5B shape, 1.32–1.35× the Q8_0 file against 1.25× on 2 threads.
    /// </summary>
    public const double WindowShareOfWeights = 0.3 / 8;

    /// <summary>The least a window may take whatever the weights (tiny models): 16 MB.</summary>
    public const long MinimumWindowBytes = 16L << 20;

    /// <summary>What a window's preparations may take beside weights of <paramref name="weightBytes"/>.</summary>
    internal static long WindowBudget(long weightBytes) => Math.Max(MinimumWindowBytes, (long)(weightBytes * WindowShareOfWeights));

    /// <summary>
    /// The memory one representation of a <paramref name="tokens"/>-token document takes while it is prepared: its
    /// float rows as the pass handed them, the centred float64 rows, the Gram matrix of the smaller side (and the
    /// sample Gram beside a feature Gram when n ≤ 2d), the eigen-decomposition's working copy, the Householder vectors
    /// (m²/2) and inverse iteration's tridiagonal copy, factors and vectors (about 24m values for KSG's 8 components),
    /// with m = min(n, d).
    /// </summary>
    internal static long PreparationBytes(int tokens, int d)
    {
        long n = Math.Max(1, tokens - 1), m = Math.Min(n, d);
        long sample = n >= d && n <= 2L * d ? 8 * n * n : 0;
        return 4L * tokens * d + 8 * n * d + 8 * m * m + sample + 8 * m * m + 8 * 24 * m + 4 * m * m;
    }

    /// <summary>Blocks per window of the per-document estimators: as many as <see cref="WindowBudget"/> holds of
    /// <see cref="PreparationBytes"/>, at least 2 and at most 2 per thread.</summary>
    internal static int WindowBlocks(int tokens, int d, int threads, long weightBytes)
    {
        int most = Math.Max(1, 2 * threads);
        long fit = WindowBudget(weightBytes) / Math.Max(1, PreparationBytes(tokens, d));
        return (int)Math.Min(most, Math.Max(2, fit));
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    /// <summary>Every per-document signal of one document: streamed through one forward pass on the CPU
    /// (<see cref="CaptureAndMeasure"/>), captured and then measured on a device.</summary>
    public DocumentMeasurement Measure(int[] ids) => Streams ? CaptureAndMeasure(ids, out _) : Measure(Capture([ids])[0]);

    /// <summary>Whether <see cref="CaptureAndMeasure"/> serves this model: a forward pass on the CPU, whose hooks run
    /// where it runs. A device's pass goes through <see cref="Capture"/> (batched, each representation copied back once).</summary>
    public bool Streams => _model is not Models.Gpu.GpuTransformer;

    /// <summary>
    /// Documents of up to <paramref name="tokens"/> tokens that one <see cref="Capture"/> should take: the model's
    /// batch size (1 on the CPU), no more than keeps their captured representations within a quarter of the
    /// memory the process may still use.
    /// </summary>
    public int BatchSize(int tokens)
    {
        var c = _model.Config;
        long perDocument = (c.Layers + 1L) * Math.Max(tokens, 1) * c.Dim * sizeof(float);
        long host = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;
        return (int)Math.Clamp(Math.Min(_model.BatchSize(tokens), host / perDocument), 1, int.MaxValue);
    }

    /// <summary>
    /// What the model hands over for each document's measurement: its attention entropy and distance per block and
    /// its representations (the embedding, then each block's output), from one <see cref="IDecoder.ForwardBatch"/>
    /// over all <paramref name="documents"/> (a batched launch on a GPU, one by one on the CPU).
    /// </summary>
    public CapturedDocument[] Capture(IReadOnlyList<int[]> documents)
    {
        var c = _model.Config;
        int L = c.Layers;
        foreach (var ids in documents) RequireMinimumTokens(ids);
        var hooks = new Hooks?[documents.Count];
        var attention = new AttentionStatistics[documents.Count];
        for (int i = 0; i < documents.Count; i++) attention[i] = AttentionStatistics.Observe((hooks[i] = new Hooks())!, L);
        // Representations: the embedding, then each block's output.
        var points = Enumerable.Range(0, L).Select(HookPoint.ResidPost).Prepend(HookPoint.Embed).ToArray();
        var (_, caches) = _model.RunWithCacheBatch(documents, points, hooks, LogitRows.None);
        _model.ReleaseBuffers();   // the next document differs in length; meanwhile its measurement needs the room
        return documents.Select((ids, i) => new CapturedDocument(ids, attention[i], points.Select(p => caches[i][p].Data).ToArray())).ToArray();
    }

    /// <summary>
    /// One document's forward pass and every per-document signal of it, the representations measured as the pass
    /// hands them over: each block's output is copied when the pass reaches it and prepared with its window of blocks
    /// as soon as the window is complete (<see cref="DocumentMeasurer"/>), so memory holds a window's representations
    /// beside the pass's own buffers, never the document's L + 1 (92 MB at 1,024 tokens of the 0.5B shape). The
    /// values are <see cref="Measure(CapturedDocument)"/>'s on the same document, bit for bit: the same windows and the
    /// same arithmetic, only sooner.
    /// </summary>
    /// <param name="signals">The time spent measuring (inside the pass's hooks and after it); the rest of the call is
    /// the forward pass.</param>
    public DocumentMeasurement CaptureAndMeasure(int[] ids, out TimeSpan signals)
    {
        int L = _model.Config.Layers;
        RequireMinimumTokens(ids);
        var hooks = new Hooks();
        var attention = AttentionStatistics.Observe(hooks, L);
        var measurer = new DocumentMeasurer(this, ids);
        hooks.Observe(HookPoint.Embed, t => measurer.Add(0, t.Data));
        for (int l = 0; l < L; l++)
        {
            int r = l + 1;
            hooks.Observe(HookPoint.ResidPost(l), t => measurer.Add(r, t.Data));
        }
        _model.Forward(ids, null, hooks, LogitRows.None);
        _model.ReleaseBuffers();   // the next document differs in length; meanwhile the lens needs the room
        var result = measurer.Finish(attention);
        signals = measurer.Elapsed;
        return result;
    }

    /// <summary>
    /// Every per-document signal of one captured document. It consumes the capture: each representation is dropped
    /// as soon as it is prepared, so a document holds a window's float64 copies, not all L + 1 float ones besides.
    /// </summary>
    public DocumentMeasurement Measure(CapturedDocument captured)
    {
        var reps = captured.Representations;
        var measurer = new DocumentMeasurer(this, captured.Ids);
        for (int r = 0; r < reps.Length; r++)
        {
            measurer.Add(r, reps[r]);
            reps[r] = null!;   // the measurer holds it until its window is prepared
        }
        return measurer.Finish(captured.Attention);
    }

    /// <summary>n positions spread evenly over [0, T) (or [1, T) when skipFirst: BOS carries no content).</summary>
    public static int[] EvenlySpaced(int T, int n, bool skipFirst)
    {
        int lo = skipFirst ? 1 : 0;
        int span = T - lo;
        if (n <= 0 || span <= 0) return [];
        n = Math.Min(n, span);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = lo + (int)((long)i * span / n);
        return p;
    }

    /// <summary>The rows at <paramref name="positions"/> into the front of <paramref name="into"/>.</summary>
    private static ReadOnlySpan<float> Gather(ReadOnlySpan<float> rows, int d, int[] positions, float[] into)
    {
        for (int i = 0; i < positions.Length; i++) rows.Slice(positions[i] * d, d).CopyTo(into.AsSpan(i * d, d));
        return into.AsSpan(0, positions.Length * d);
    }

    /// <summary>n gathered rows in the pooled space: the rows themselves, or their projection into the front of <paramref name="into"/>.</summary>
    private ReadOnlySpan<float> Project(ReadOnlySpan<float> rows, int n, int d, float[]? into)
    {
        if (_projection == null) return rows;
        var outp = into.AsSpan(0, n * PooledDims);
        MatMul.Multiply(rows, n, _projection, outp);   // the model's own GEMM: fixed order, any thread count
        return outp;
    }
}
