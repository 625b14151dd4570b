using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Models;

/// <summary>Which positions get logits: all (scoring, analysis), only the last (generation) or none.</summary>
public enum LogitRows
{
    All,
    Last,
    None,
}

/// <summary>
/// The decoder forward pass (Llama / Qwen2 / Qwen3) as straight-line code over config, weights and per-call
/// buffers, in the manner of llama2.c's run.c, with TransformerLens-style hook points between the ops.
/// One call processes T new tokens after the positions already in the KV cache.
/// </summary>
public sealed class Transformer : IDecoder
{
    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    private readonly Rope _rope;
    private Workspace? _spare;

    public Transformer(ModelConfig config, ModelWeights weights)
    {
        Config = config;
        Weights = weights;
        _rope = new Rope(config, weights.RopeFreqFactors);
    }

    public string Device => "cpu";

    public KvCache NewCache(int capacity) => new(Config, capacity);

    public void ReleaseBuffers() => Volatile.Write(ref _spare, null);

    /// <summary>
    /// Runs T tokens starting at position cache.Length (0 without a cache) and returns logits, row-major
    /// [rows, vocab] where rows = T (All), 1 (Last) or 0 (None).
    /// </summary>
    public float[] Forward(ReadOnlySpan<int> ids, KvCache? cache = null, Hooks? hooks = null, LogitRows logitRows = LogitRows.All) =>
        Forward(ids, cache, hooks, logitRows, null);

    /// <inheritdoc cref="IDecoder.Forward(ReadOnlySpan{int}, KvCache?, Hooks?, LogitRows, float[]?)"/>
    public float[] Forward(ReadOnlySpan<int> ids, KvCache? cache, Hooks? hooks, LogitRows logitRows, float[]? logitsBuffer)
    {
        var c = Config;
        int T = ids.Length;
        if (T == 0) throw new MspgtException("input", "no tokens to run");
        int start = cache?.Length ?? 0;
        CheckInput(c, ids, start, cache?.Capacity ?? Math.Min(c.MaxSeq, T));

        var fire = new Fire(hooks?.Resolve(c.Layers), start);
        // Buffers are kept for the next call of the same length (hooks may only use them during the call); a
        // concurrent second caller simply gets its own.
        var ws = Interlocked.Exchange(ref _spare, null);
        if (ws == null || ws.Tokens != T) ws = new Workspace(c, T, ws?.Attention);
        cache ??= ws.OneCallCache(c);
        try { return Run(ids, cache, ws, fire, logitRows, logitsBuffer); }
        finally { Volatile.Write(ref _spare, ws); }
    }

    /// <summary>The checks every device makes before running: the sequence fits the cache and the context, ids the vocabulary.</summary>
    internal static void CheckInput(ModelConfig c, ReadOnlySpan<int> ids, int start, int capacity)
    {
        int T = ids.Length;
        if (start + T > capacity)
            throw new MspgtException("input", start + T > c.MaxSeq
                ? $"sequence of {start + T} tokens is longer than the model's context of {c.MaxSeq}"
                : $"sequence of {start + T} tokens does not fit the KV cache of {capacity}");
        for (int t = 0; t < T; t++)
            if ((uint)ids[t] >= (uint)c.Vocab)
                throw new MspgtException("input", $"token id {ids[t]} at position {start + t} is outside the vocabulary (0..{c.Vocab - 1})");
    }

    /// <summary>
    /// A forward pass that also returns copies of the activations at <paramref name="points"/> and only those
    /// (TransformerLens's <c>run_with_cache(names_filter=…)</c>). <paramref name="hooks"/> run first, so the cache
    /// holds what editors left. A point the pass does not reach (logits with <see cref="LogitRows.None"/>) is absent.
    /// </summary>
    public (float[] Logits, ActivationCache Cache) RunWithCache(ReadOnlySpan<int> ids, IEnumerable<HookPoint> points,
        Hooks? hooks = null, LogitRows logitRows = LogitRows.All) => CachedRun.Run(this, ids, points, hooks, logitRows);

    private float[] Run(ReadOnlySpan<int> ids, KvCache cache, Workspace ws, Fire fire, LogitRows logitRows, float[]? logitsBuffer)
    {
        var c = Config;
        int T = ids.Length, dim = c.Dim, H = c.Heads, kvH = c.KvHeads, hd = c.HeadDim, start = cache.Length;
        var (x, h, q, k, v, z) = (ws.X, ws.H, ws.Q, ws.K, ws.V, ws.Z);
        var (attnOut, mlpOut) = (ws.AttnOut, ws.MlpOut);

        // Token embeddings into the residual stream x [T, dim].
        var idArray = ids.ToArray();
        Rows(T, dim, (t0, t1) => { for (int t = t0; t < t1; t++) Weights.Embedding.DecodeRow(idArray[t], x.AsSpan(t * dim, dim)); });
        fire.At(HookPoint.Embed, x, T, dim);
        var (cos, sin) = _rope.KeptTables(start, T);

        for (int l = 0; l < c.Layers; l++)
        {
            var L = Weights.Layers[l];
            fire.At(HookPoint.ResidPre(l), x, T, dim);

            // Attention: RMSNorm, then the q, k, v projections (+ bias, Qwen2).
            RmsNorm(x, T, L.AttnNorm, c.NormEps, h);
            MatMul.Multiply(h, T, [L.Q, L.K, L.V], [q, k, v]);
            AddBias(q, T, L.QBias);
            AddBias(k, T, L.KBias);
            AddBias(v, T, L.VBias);
            // Per-head RMSNorm of q and k (Qwen3).
            if (L.QNorm != null) RmsNorm(q, T, L.QNorm, c.NormEps, q, H);
            if (L.KNorm != null) RmsNorm(k, T, L.KNorm, c.NormEps, k, kvH);
            fire.At(HookPoint.AttnQ(l), q, T, H, hd);
            fire.At(HookPoint.AttnK(l), k, T, kvH, hd);
            fire.At(HookPoint.AttnV(l), v, T, kvH, hd);
            // Rotary position embeddings on q and k; the keys and values join the cache.
            RotateIntoCache(l, start, T, q, H, k, v, kvH, hd, cos, sin, cache);
            // Causal attention of the T queries over every cached position: z [T, heads, head_dim].
            Attend(l, new AttentionShape(T, start, H, kvH, hd, c.AttentionWindow(l)), cache, ws, fire);
            fire.At(HookPoint.AttnZ(l), z, T, H, hd);
            // Output projection, added to the residual stream.
            Kernels.Linear(z, T, L.O, default, attnOut);
            fire.At(HookPoint.AttnOut(l), attnOut, T, dim);
            Add(x, attnOut, T, dim);
            fire.At(HookPoint.ResidMid(l), x, T, dim);

            // SwiGLU MLP: RMSNorm, hidden silu(gate)·up, down projection, added to the residual stream. The hidden
            // rows go a block of tokens at a time unless a hook reads them whole (MlpChunks).
            RmsNorm(x, T, L.FfnNorm, c.NormEps, h);
            int ffn = c.Ffn, chunks = fire.Has(HookPoint.MlpPost(l)) ? 1 : MlpChunks(T);
            for (int b = 0; b < chunks; b++)
            {
                int t0 = (int)((long)b * T / chunks), blockRows = (int)((long)(b + 1) * T / chunks) - t0;
                var (gate, up) = ws.Hidden(blockRows);
                MatMul.Multiply(h.AsSpan(t0 * dim, blockRows * dim), blockRows, [L.Gate, L.Up], [gate, up]);
                Rows(blockRows, ffn, (r0, r1) => Kernels.SwiGlu(gate.AsSpan(r0 * ffn, (r1 - r0) * ffn), up.AsSpan(r0 * ffn, (r1 - r0) * ffn), gate.AsSpan(r0 * ffn, (r1 - r0) * ffn)));
                fire.At(HookPoint.MlpPost(l), gate, T, c.Ffn);   // only ever whole: a hook there makes one chunk
                Kernels.Linear(gate.AsSpan(0, blockRows * ffn), blockRows, L.Down, default, mlpOut.AsSpan(t0 * dim, blockRows * dim));
            }
            fire.At(HookPoint.MlpOut(l), mlpOut, T, dim);
            Add(x, mlpOut, T, dim);
            fire.At(HookPoint.ResidPost(l), x, T, dim);
        }
        cache.Length = start + T;

        // Final RMSNorm (skipped when nothing reads it), then the unembedding of the rows asked for.
        int rows = logitRows switch { LogitRows.All => T, LogitRows.Last => 1, _ => 0 };
        if (rows == 0 && !fire.Has(HookPoint.FinalNorm) && !fire.Has(HookPoint.Logits)) return [];
        RmsNorm(x, T, Weights.FinalNorm, c.NormEps, h);
        fire.At(HookPoint.FinalNorm, h, T, dim);
        if (rows == 0) return [];
        // Uninitialised: the product writes every element, and zeroing 33 MB (256 tokens × 32k vocabulary) was 1.5-2 ms
        // on one core before the head's parallel region, the largest serial step left in a prefill.
        long n = (long)rows * c.Vocab;
        var logits = logitsBuffer != null && logitsBuffer.Length == n ? logitsBuffer : GC.AllocateUninitializedArray<float>(checked((int)n));
        MatMul.Multiply(h.AsSpan((T - rows) * dim, rows * dim), rows, Weights.Output, logits);
        fire.At(HookPoint.Logits, logits, rows, c.Vocab, firstRow: T - rows);
        return logits;
    }

    /// <summary>
    /// Most tokens whose MLP hidden rows (gate and up, tokens × ffn floats each) are held at once: a longer prefill
    /// runs its MLP in <see cref="MlpChunks"/> blocks of at most this many tokens, so those buffers, and the GEMM's
    /// packed copy of the down projection's input, stay the size of a 256-token pass (at 1,024 tokens of the 0.5B
    /// shape about 45 MB less, of the 8B shape about 130 MB). Every output element of a GEMM is the same chain of fused
    /// multiply-adds whatever the rows around it, so the blocks change no bit (a test compares a pass whose MLP
    /// hook forces one block).
    /// </summary>
    public const int MlpTokens = 256;

    /// <summary>Blocks of nearly equal size (at least <see cref="MlpTokens"/> / 2 tokens each, so never the few-row
    /// matrix-vector path) that a <paramref name="tokens"/>-token MLP runs in.</summary>
    public static int MlpChunks(int tokens) => Math.Max(1, (tokens + MlpTokens - 1) / MlpTokens);

    /// <summary>Tokens per work item of the row-wise steps (norms, RoPE, biases, SwiGLU, residual adds): 32 items
    /// for a 256-token prefill. Fixed, so results do not depend on the thread count.</summary>
    public const int RowChunk = 8;

    /// <summary>body(t0, t1) over fixed chunks of <see cref="RowChunk"/> tokens, in parallel when the step touches
    /// enough values (<see cref="Parallelism.ForChunks"/>), so no step of a prefill runs on one core alone.</summary>
    private static void Rows(int tokens, int width, Action<int, int> body) =>
        Parallelism.ForChunks(tokens, RowChunk, (long)tokens * width, body);

    /// <summary>RMSNorm of every row of width w.Length of tokens × <paramref name="perToken"/> rows (per head for
    /// Qwen3's q/k norms); chunks are whole tokens.</summary>
    private static void RmsNorm(float[] x, int tokens, float[] w, float eps, float[] dst, int perToken = 1)
    {
        int d = w.Length * perToken;
        Rows(tokens, d, (t0, t1) => Kernels.RmsNormRows(x.AsSpan(t0 * d, (t1 - t0) * d), (t1 - t0) * perToken, w, eps, dst.AsSpan(t0 * d, (t1 - t0) * d)));
    }

    /// <summary>A projection's bias (Qwen2's q, k, v) added to each of the tokens' rows of y.</summary>
    private static void AddBias(float[] y, int tokens, float[]? bias)
    {
        if (bias == null || bias.Length == 0) return;
        int n = bias.Length;
        Rows(tokens, n, (t0, t1) => { for (int t = t0; t < t1; t++) TensorPrimitives.Add(y.AsSpan(t * n, n), bias, y.AsSpan(t * n, n)); });
    }

    /// <summary>RoPE on q and k, and k and v written to layer l's cache at <paramref name="start"/>: one parallel
    /// region over token chunks instead of two rotations and a serial copy (a 110M layer's copy alone was 0.1 ms).</summary>
    private static void RotateIntoCache(int l, int start, int tokens, float[] q, int heads, float[] k, float[] v, int kvHeads,
        int hd, ReadOnlyMemory<float> cos, ReadOnlyMemory<float> sin, KvCache cache)
    {
        int half = hd / 2, qw = heads * hd, kw = kvHeads * hd;
        Rows(tokens, qw + 2 * kw, (t0, t1) =>
        {
            int n = t1 - t0;
            var c = cos.Span.Slice(t0 * half, n * half);
            var s = sin.Span.Slice(t0 * half, n * half);
            Rope.Rotate(q.AsSpan(t0 * qw, n * qw), n, heads, hd, c, s);
            Rope.Rotate(k.AsSpan(t0 * kw, n * kw), n, kvHeads, hd, c, s);
            cache.Write(l, start + t0, k.AsSpan(t0 * kw, n * kw), v.AsSpan(t0 * kw, n * kw));
        });
    }

    private static void Add(float[] x, float[] y, int tokens, int dim) =>
        Rows(tokens, dim, (t0, t1) => TensorPrimitives.Add(x.AsSpan(t0 * dim, (t1 - t0) * dim), y.AsSpan(t0 * dim, (t1 - t0) * dim), x.AsSpan(t0 * dim, (t1 - t0) * dim)));

    /// <summary>
    /// The independent work items of each stage of a <paramref name="tokens"/>-token prefill (no KV cache) at
    /// <paramref name="threads"/> threads: what the loops above cut the work into (1 = the stage runs serially).
    /// A structural check that the work can spread, not a timing.
    /// </summary>
    public static IReadOnlyList<(string Stage, int Items)> WorkItems(ModelConfig c, int tokens, int threads)
    {
        int rows(int width) => Parallelism.Chunks(tokens, RowChunk, (long)tokens * width);
        var list = new List<(string, int)>
        {
            ("embed", rows(c.Dim)),
            ("rms_norm", rows(c.Dim)),
            ("qkv_proj", MatMul.GemmWorkItems(tokens, [c.QDim, c.KvDim, c.KvDim], c.Dim, threads)),   // one call
            // Each GEMM call packs its activations first, in a loop of its own; the narrowest are the dim-wide ones.
            ("pack_activations", MatMul.PackingWorkItems(tokens, c.QDim + 2 * c.KvDim, c.Dim)),
        };
        if (c.QkvBias) list.Add(("qkv_bias", rows(c.KvDim)));
        if (c.QkNorm) list.Add(("qk_norm", rows(c.KvDim)));
        list.Add(("rope_kv_cache", rows(c.QDim + 2 * c.KvDim)));
        for (int l = 0; l < c.Layers; l++)
            list.Add(($"attention.{l}", Attention.WorkItems(new AttentionShape(tokens, 0, c.Heads, c.KvHeads, c.HeadDim, c.AttentionWindow(l)), threads)));
        list.Add(("o_proj", MatMul.GemmWorkItems(tokens, c.Dim, c.QDim, threads)));
        list.Add(("residual_add", rows(c.Dim)));
        list.Add(("gate_up_proj", MatMul.GemmWorkItems(tokens, [c.Ffn, c.Ffn], c.Dim, threads)));
        list.Add(("swiglu", rows(c.Ffn)));
        list.Add(("down_proj", MatMul.GemmWorkItems(tokens, c.Dim, c.Ffn, threads)));
        list.Add(("lm_head", MatMul.GemmWorkItems(tokens, c.Vocab, c.Dim, threads)));
        return list;
    }

    /// <summary>
    /// Layer l's attention into ws.Z. Without hooks on its scores or pattern, one fused kernel call; with them,
    /// scores, softmax and mixing as separate steps with the hooks between them (an edit is what the next step reads).
    /// </summary>
    private static void Attend(int l, AttentionShape s, KvCache cache, Workspace ws, Fire fire)
    {
        var (K, V, attention) = (cache.K[l], cache.V[l], ws.Attention);
        bool scores = fire.Has(HookPoint.AttnScores(l)), pattern = fire.HasTensorHooks(HookPoint.AttnPattern(l));
        if (!scores && !pattern)
        {
            // Attention-rows observers alone (the analysis' entropy and distance) take their values inside the fused
            // kernel, from each block of probabilities while it is in cache: the same numbers as from the pattern,
            // without writing 4·heads·T² bytes and reading them twice (one 110M layer: 2.0 → 1.9 ms at 1 thread, 1.4 →
            // 1.1-1.3 ms at 2).
            if (!fire.HasRows(HookPoint.AttnPattern(l))) { attention.Forward(ws.Q, K, V, s, ws.Z); return; }
            var rows = ws.RowStatistics(s.Heads * s.Tokens);
            attention.Forward(ws.Q, K, V, s, ws.Z, rows);
            fire.Rows(HookPoint.AttnPattern(l), rows, s);
            return;
        }
        var p = ws.Pattern(s.PatternLength);
        if (scores)
        {
            attention.Scores(ws.Q, K, s, p);
            fire.At(HookPoint.AttnScores(l), p, s.Heads, s.Tokens, s.Keys);
            Attention.Softmax(p, s);
        }
        else attention.Probabilities(ws.Q, K, s, p);
        fire.At(HookPoint.AttnPattern(l), p, s.Heads, s.Tokens, s.Keys);
        fire.Rows(HookPoint.AttnPattern(l), p, s);
        attention.Mix(p, V, s, ws.Z);
    }

    /// <summary>Calls the hooks registered at a point, if any, with a view of the buffer.</summary>
    private readonly struct Fire(HookTable? table, int start)
    {
        public bool Has(HookPoint p) => table != null && table.Has(p);

        public bool HasTensorHooks(HookPoint p) => table != null && table.HasTensorHooks(p);

        public bool HasRows(HookPoint p) => table != null && table.HasRows(p);

        /// <summary>Per-row entropy and distance of a pattern, for attention-rows observers at <paramref name="p"/>.</summary>
        public void Rows(HookPoint p, float[] pattern, AttentionShape s)
        {
            if (!HasRows(p)) return;
            var (entropy, distance) = (new double[s.Heads * s.Tokens], new double[s.Heads * s.Tokens]);
            AttentionRows.Compute(pattern, s.Heads, s.Tokens, s.Keys, start, entropy, distance);
            Rows(p, (entropy, distance), s);
        }

        /// <summary>Row values already computed (by the fused attention kernel) to the attention-rows observers at <paramref name="p"/>.</summary>
        public void Rows(HookPoint p, (double[] Entropy, double[] Distance) rows, AttentionShape s) =>
            table!.FireRows(p, new AttentionRowValues(rows.Entropy, rows.Distance, s.Heads, s.Tokens, start));

        public void At(HookPoint p, float[] buffer, int d0, int d1, int d2 = 0, int firstRow = 0)
        {
            if (table == null || !table.Has(p)) return;
            ReadOnlySpan<int> shape = d2 == 0 ? [d0, d1] : [d0, d1, d2];
            table.Fire(p, buffer.AsSpan(0, d0 * d1 * Math.Max(d2, 1)), shape, start + firstRow);
        }
    }

    /// <summary>
    /// One call's buffers: activations [T, width], the attention kernel with its packing buffers (kept across
    /// lengths) and the scores/pattern buffer of hooked layers (reallocated when the number of keys changes).
    /// </summary>
    private sealed class Workspace(ModelConfig c, int tokens, Attention? attention)
    {
        public readonly int Tokens = tokens;
        public readonly float[] X = new float[tokens * c.Dim], H = new float[tokens * c.Dim];
        public readonly float[] Q = new float[tokens * c.QDim], Z = new float[tokens * c.QDim];
        public readonly float[] K = new float[tokens * c.KvDim], V = new float[tokens * c.KvDim];
        public readonly float[] AttnOut = new float[tokens * c.Dim], MlpOut = new float[tokens * c.Dim];
        private float[]? _gate, _up;
        public readonly Attention Attention = attention ?? new Attention();
        private float[]? _pattern;
        private KvCache? _oneCall;
        private (double[], double[]) _rows;

        /// <summary>The KV cache of a call given none (<see cref="KvCache.ForOneCall"/>), kept for the next such call
        /// rather than allocated and zeroed per call (1.5 MB at 256 tokens of the 110M shape, before the first
        /// parallel region); emptied each time.</summary>
        public KvCache OneCallCache(ModelConfig c)
        {
            _oneCall ??= KvCache.ForOneCall(c, Tokens);
            _oneCall.Length = 0;
            return _oneCall;
        }

        /// <summary>Per-row attention entropy and distance of one layer, [heads·T] each, kept from layer to layer
        /// (observers see them as spans during the call only): two new arrays per layer first touched fresh memory,
        /// tens of microseconds a layer on one thread between parallel regions.</summary>
        public (double[] Entropy, double[] Distance) RowStatistics(int n)
        {
            if (_rows.Item1?.Length != n) _rows = (new double[n], new double[n]);
            return _rows;
        }

        /// <summary>The MLP's gate and up buffers for <paramref name="rows"/> tokens (kept, grown when a call needs more).</summary>
        public (float[] Gate, float[] Up) Hidden(int rows)
        {
            long n = (long)rows * c.Ffn;
            if (_gate == null || _gate.Length < n) (_gate, _up) = (new float[n], new float[n]);
            return (_gate, _up!);
        }

        public float[] Pattern(long n)
        {
            if (_pattern == null || _pattern.Length != n) _pattern = new float[n];
            return _pattern;
        }
    }
}
