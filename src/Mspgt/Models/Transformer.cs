using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Models;

/// <summary>Which positions get logits: all (scoring, analysis) or only the last (generation).</summary>
public enum LogitRows
{
    All,
    Last,
    None,
}

/// <summary>
/// The decoder forward pass (Llama / Qwen2 / Qwen3), written as straight-line code over config, weights and
/// per-call buffers in the manner of llama2.c's run.c, with TransformerLens-style hook points between the ops.
/// One call processes T new tokens after the positions already in the KV cache.
/// </summary>
public sealed class Transformer
{
    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    private readonly Rope _rope;

    public Transformer(ModelConfig config, ModelWeights weights)
    {
        Config = config;
        Weights = weights;
        _rope = new Rope(config, weights.RopeFreqFactors);
    }

    public KvCache NewCache(int capacity) => new(Config, capacity);

    /// <summary>
    /// Runs T tokens starting at position cache.Length (0 without a cache) and returns logits, row-major
    /// [rows, vocab] where rows = T (All), 1 (Last) or 0 (None).
    /// </summary>
    public float[] Forward(ReadOnlySpan<int> ids, KvCache? cache = null, Hooks? hooks = null, LogitRows logitRows = LogitRows.All)
    {
        var c = Config;
        int T = ids.Length;
        if (T == 0) throw new MspgtException("input", "no tokens to run");
        cache ??= new KvCache(c, Math.Min(c.MaxSeq, T));
        int start = cache.Length;
        if (start + T > cache.Capacity)
            throw new MspgtException("input", start + T > c.MaxSeq
                ? $"sequence of {start + T} tokens is longer than the model's context of {c.MaxSeq}"
                : $"sequence of {start + T} tokens does not fit the KV cache of {cache.Capacity}");
        for (int t = 0; t < T; t++)
            if ((uint)ids[t] >= (uint)c.Vocab)
                throw new MspgtException("input", $"token id {ids[t]} at position {start + t} is outside the vocabulary (0..{c.Vocab - 1})");

        var fire = new HookDispatcher(hooks?.Resolve(c.Layers), start);
        // Activation buffers are kept between calls of the same length (hooks may only use them during the call);
        // a concurrent second caller simply gets its own.
        var ws = Interlocked.Exchange(ref _spare, null);
        if (ws == null || ws.Tokens != T) ws = new Workspace(c, T);
        try { return Run(ids, cache, start, T, ws, fire, logitRows); }
        finally { Volatile.Write(ref _spare, ws); }
    }

    /// <summary>Per-call activations [T, width], reused by the next call with the same T.</summary>
    private sealed class Workspace(ModelConfig c, int tokens)
    {
        public readonly int Tokens = tokens;
        public readonly float[] X = new float[tokens * c.Dim], H = new float[tokens * c.Dim];
        public readonly float[] Q = new float[tokens * c.QDim], Z = new float[tokens * c.QDim];
        public readonly float[] K = new float[tokens * c.KvDim], V = new float[tokens * c.KvDim];
        public readonly float[] AttnOut = new float[tokens * c.Dim], MlpOut = new float[tokens * c.Dim];
        public readonly float[] Gate = new float[tokens * c.Ffn], Up = new float[tokens * c.Ffn];
        /// <summary>Attention pattern [heads, T, keys] for layers with a pattern hook (reallocated when keys change).</summary>
        public float[]? Pattern;
    }

    private Workspace? _spare;

    private float[] Run(ReadOnlySpan<int> ids, KvCache cache, int start, int T, Workspace ws, HookDispatcher fire, LogitRows logitRows)
    {
        var c = Config;
        int dim = c.Dim, qDim = c.QDim, kvDim = c.KvDim, hd = c.HeadDim;
        var x = ws.X;
        for (int t = 0; t < T; t++) Weights.Embedding.DecodeRow(ids[t], x.AsSpan(t * dim, dim));
        fire.Call(HookKind.Embed, -1, x, [T, dim]);

        var (h, q, k, v, z) = (ws.H, ws.Q, ws.K, ws.V, ws.Z);
        var (attnOut, gate, up, mlpOut) = (ws.AttnOut, ws.Gate, ws.Up, ws.MlpOut);
        var (cos, sin) = _rope.Tables(start, T);

        for (int l = 0; l < c.Layers; l++)
        {
            var L = Weights.Layers[l];
            fire.Call(HookKind.ResidPre, l, x, [T, dim]);

            // Attention.
            Kernels.RmsNormRows(x, T, L.AttnNorm, c.NormEps, h);
            MatMul.Multiply(h, T, L.Q, q);
            MatMul.Multiply(h, T, L.K, k);
            MatMul.Multiply(h, T, L.V, v);
            if (L.QBias != null) AddBiasRows(q, T, L.QBias);
            if (L.KBias != null) AddBiasRows(k, T, L.KBias);
            if (L.VBias != null) AddBiasRows(v, T, L.VBias);
            if (L.QNorm != null) Kernels.RmsNormRows(q, T * c.Heads, L.QNorm, c.NormEps, q);
            if (L.KNorm != null) Kernels.RmsNormRows(k, T * c.KvHeads, L.KNorm, c.NormEps, k);
            fire.Call(HookKind.AttnQ, l, q, [T, c.Heads, hd]);
            fire.Call(HookKind.AttnK, l, k, [T, c.KvHeads, hd]);
            fire.Call(HookKind.AttnV, l, v, [T, c.KvHeads, hd]);
            _rope.Apply(q, T, c.Heads, cos, sin);
            _rope.Apply(k, T, c.KvHeads, cos, sin);
            Array.Copy(k, 0, cache.K[l], (long)start * kvDim, T * kvDim);
            Array.Copy(v, 0, cache.V[l], (long)start * kvDim, T * kvDim);
            Attention(l, q, cache, start, T, z, fire, ref ws.Pattern);
            fire.Call(HookKind.AttnZ, l, z, [T, c.Heads, hd]);
            MatMul.Multiply(z, T, L.O, attnOut);
            fire.Call(HookKind.AttnOut, l, attnOut, [T, dim]);
            TensorPrimitives.Add(x, attnOut, x);
            fire.Call(HookKind.ResidMid, l, x, [T, dim]);

            // SwiGLU MLP.
            Kernels.RmsNormRows(x, T, L.FfnNorm, c.NormEps, h);
            MatMul.Multiply(h, T, L.Gate, gate);
            MatMul.Multiply(h, T, L.Up, up);
            Kernels.SwiGlu(gate, up);
            MatMul.Multiply(gate, T, L.Down, mlpOut);
            fire.Call(HookKind.MlpOut, l, mlpOut, [T, dim]);
            TensorPrimitives.Add(x, mlpOut, x);
            fire.Call(HookKind.ResidPost, l, x, [T, dim]);
        }
        cache.Length = start + T;

        int rows = logitRows switch { LogitRows.All => T, LogitRows.Last => 1, _ => 0 };
        bool wantNorm = rows > 0 || fire.Has(HookKind.FinalNorm, -1) || fire.Has(HookKind.Logits, -1);
        if (!wantNorm) return [];
        Kernels.RmsNormRows(x, T, Weights.FinalNorm, c.NormEps, h);
        fire.Call(HookKind.FinalNorm, -1, h, [T, dim]);
        if (rows == 0) return [];
        var logits = new float[(long)rows * c.Vocab];
        MatMul.Multiply(h.AsSpan((T - rows) * dim, rows * dim), rows, Weights.Output, logits);
        fire.Call(HookKind.Logits, -1, logits, [rows, c.Vocab], startOffset: T - rows);
        return logits;
    }

    private static void AddBiasRows(Span<float> m, int rows, float[] bias)
    {
        int w = bias.Length;
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(m.Slice(r * w, w), bias, m.Slice(r * w, w));
    }

    /// <summary>
    /// Causal grouped-query attention over the cached keys: query head j uses KV head j / (heads / kv_heads).
    /// The full pattern [heads, T, keys] is materialised only when a hook wants it (into <paramref name="patternBuffer"/>,
    /// reused across layers); an editing hook's entries after a query's own position are ignored (causal mask).
    /// </summary>
    private void Attention(int layer, float[] q, KvCache cache, int start, int T, float[] z, HookDispatcher fire, ref float[]? patternBuffer)
    {
        var c = Config;
        int H = c.Heads, keys = start + T;
        bool materialise = fire.Has(HookKind.AttnPattern, layer);
        float[]? pattern = null;
        if (materialise)
        {
            long n = checked((long)H * T * keys);
            if (patternBuffer == null || patternBuffer.Length != n) patternBuffer = new float[n];
            pattern = patternBuffer;
        }
        var heads = new AttentionHeads(this, layer, q, cache.K[layer], cache.V[layer], start, T, z, pattern);
        bool parallel = (double)H * T * keys * c.HeadDim > 100_000;
        if (pattern == null)
        {
            if (parallel) Parallel.For(0, H, heads.ScoresAndMix); else for (int h = 0; h < H; h++) heads.ScoresAndMix(h);
        }
        else
        {
            if (parallel) Parallel.For(0, H, heads.Scores); else for (int h = 0; h < H; h++) heads.Scores(h);
            fire.Call(HookKind.AttnPattern, layer, pattern, [H, T, keys]);
            if (parallel) Parallel.For(0, H, heads.Mix); else for (int h = 0; h < H; h++) heads.Mix(h);
        }
    }

    /// <summary>
    /// The per-head work of one attention call. With at least <see cref="GemmKernel.Mr"/> queries, scores (Q·Kᵀ)
    /// and mixing (P·V) run as small GEMMs on <see cref="GemmKernel"/> tiles over K and V packed per head, skipping
    /// tiles wholly above the causal diagonal; a few queries (decoding) use plain dot products.
    /// </summary>
    private sealed unsafe class AttentionHeads(Transformer tf, int layer, float[] q, float[] K, float[] V, int start, int T, float[] z, float[]? pattern)
    {
        private readonly int _H = tf.Config.Heads, _hd = tf.Config.HeadDim, _kvDim = tf.Config.KvDim;
        private readonly int _group = tf.Config.Heads / tf.Config.KvHeads;
        private readonly int _keys = start + T;
        private readonly float _scale = 1f / MathF.Sqrt(tf.Config.HeadDim);
        private readonly int _window = tf.Config.SlidingWindow is int w && layer >= tf.Config.SlidingWindowFromLayer ? w : int.MaxValue;
        private readonly bool _gemm = T >= GemmKernel.Mr && GemmKernel.IsSupported;

        /// <summary>Queries per block when no pattern is kept: bounds the per-thread score buffer.</summary>
        private const int QueryBlock = 16 * GemmKernel.Mr;

        private int Lo(int pos) => _window == int.MaxValue ? 0 : Math.Max(0, pos - _window + 1);

        public void ScoresAndMix(int head)
        {
            if (!_gemm)
            {
                var row = Scratch.Get(2, _keys).AsSpan(0, _keys);
                for (int t = 0; t < T; t++) { ProbsDot(head, t, row); MixDot(head, t, row); }
                return;
            }
            int block = Math.Min(QueryBlock, T);
            float[] s = Scratch.Get(2, (long)block * _keys);
            fixed (float* ps = s)
            {
                for (int t0 = 0; t0 < T; t0 += block)
                {
                    int n = Math.Min(block, T - t0);
                    ScoresGemm(head, t0, n, ps, _keys);
                    MixGemm(head, t0, n, ps, _keys);
                }
            }
        }

        public void Scores(int head)
        {
            if (!_gemm)
            {
                for (int t = 0; t < T; t++) ProbsDot(head, t, pattern.AsSpan((head * T + t) * _keys, _keys));
                return;
            }
            fixed (float* pp = pattern) ScoresGemm(head, 0, T, pp + (long)head * T * _keys, _keys);
        }

        public void Mix(int head)
        {
            // Causal mask after any editing hook: a query never reads keys after its own position.
            for (int t = 0; t < T; t++) pattern.AsSpan((head * T + t) * _keys + start + t + 1, T - t - 1).Clear();
            if (!_gemm)
            {
                for (int t = 0; t < T; t++) MixDot(head, t, pattern.AsSpan((head * T + t) * _keys, _keys));
                return;
            }
            fixed (float* pp = pattern) MixGemm(head, 0, T, pp + (long)head * T * _keys, _keys);
        }

        /// <summary>Probabilities of queries [t0, t0 + n) into rows p + (t - t0)·ldp (zero outside the visible keys).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private void ScoresGemm(int head, int t0, int n, float* p, int ldp)
        {
            int nr = GemmKernel.Nr, hd = _hd, kvh = head / _group;
            int panels = (_keys + nr - 1) / nr;
            // Kᵀ of this head packed as panels of nr keys, k-major: kt[panel][d][i] = K[panel·nr + i, d].
            float[] ktArr = Scratch.Get(0, (long)panels * nr * hd);
            fixed (float* kt = ktArr, pk = K, pq = q)
            {
                for (int j = 0; j < panels * nr; j++)
                {
                    float* dst = kt + (long)(j / nr) * hd * nr + j % nr;
                    if (j < _keys)
                    {
                        float* src = pk + (long)j * _kvDim + kvh * hd;
                        for (int d = 0; d < hd; d++) dst[d * nr] = src[d];
                    }
                    else for (int d = 0; d < hd; d++) dst[d * nr] = 0f;
                }
                long lda = (long)_H * hd;
                for (int i = 0; i < n; i += GemmKernel.Mr)
                {
                    int m = Math.Min(GemmKernel.Mr, n - i);
                    int lastKey = start + t0 + i + m - 1; // the last key any of these queries sees
                    float* a = pq + ((long)(t0 + i) * _H + head) * hd;
                    for (int jp = 0; jp * nr <= lastKey; jp++)
                        GemmKernel.Tile(nr, a, lda, 1, m, kt + (long)jp * hd * nr, nr, hd,
                            p + (long)i * ldp + jp * nr, ldp, Math.Min(nr, _keys - jp * nr), accumulate: false);
                }
            }
            for (int i = 0; i < n; i++)
            {
                int pos = start + t0 + i, lo = Lo(pos);
                var row = new Span<float>(p + (long)i * ldp, _keys);
                row[..lo].Clear();
                row[(pos + 1)..].Clear();
                var live = row[lo..(pos + 1)];
                System.Numerics.Tensors.TensorPrimitives.Multiply(live, _scale, live);
                Kernels.Softmax(live);
            }
        }

        /// <summary>z rows of queries [t0, t0 + n) = their probability rows (at p, stride ldp) · V of this head.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private void MixGemm(int head, int t0, int n, float* p, int ldp)
        {
            int nr = GemmKernel.Nr, hd = _hd, kvh = head / _group;
            int hdPad = (hd + nr - 1) / nr * nr;
            // V of this head, rows padded to a whole number of nr-wide column chunks.
            int usedKeys = start + t0 + n;
            float[] vArr = Scratch.Get(1, (long)usedKeys * hdPad);
            fixed (float* vp = vArr, pv = V, pz = z)
            {
                for (int j = 0; j < usedKeys; j++)
                {
                    new ReadOnlySpan<float>(pv + (long)j * _kvDim + kvh * hd, hd).CopyTo(new Span<float>(vp + (long)j * hdPad, hd));
                    if (hdPad > hd) new Span<float>(vp + (long)j * hdPad + hd, hdPad - hd).Clear();
                }
                long ldz = (long)_H * hd;
                for (int i = 0; i < n; i += GemmKernel.Mr)
                {
                    int m = Math.Min(GemmKernel.Mr, n - i);
                    int kc = start + t0 + i + m; // keys up to the last of these queries
                    float* zr = pz + ((long)(t0 + i) * _H + head) * hd;
                    for (int d = 0; d < hd; d += nr)
                        GemmKernel.Tile(nr, p + (long)i * ldp, ldp, 1, m, vp + d, hdPad, kc, zr + d, ldz, Math.Min(nr, hd - d), accumulate: false);
                }
            }
        }

        private void ProbsDot(int head, int t, Span<float> row)
        {
            int pos = start + t, lo = Lo(pos), kvh = head / _group;
            var qv = q.AsSpan((t * _H + head) * _hd, _hd);
            row[..lo].Clear();
            row[(pos + 1)..].Clear();
            for (int j = lo; j <= pos; j++)
                row[j] = System.Numerics.Tensors.TensorPrimitives.Dot(qv, K.AsSpan(j * _kvDim + kvh * _hd, _hd)) * _scale;
            Kernels.Softmax(row[lo..(pos + 1)]);
        }

        private void MixDot(int head, int t, ReadOnlySpan<float> row)
        {
            int pos = start + t, kvh = head / _group;
            var zv = z.AsSpan((t * _H + head) * _hd, _hd);
            zv.Clear();
            for (int j = 0; j <= pos; j++)
            {
                float p = row[j];
                if (p != 0f) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(V.AsSpan(j * _kvDim + kvh * _hd, _hd), p, zv, zv);
            }
        }
    }

    /// <summary>Calls the hooks registered at a point, if any, with a view of the buffer.</summary>
    private readonly struct HookDispatcher(Dictionary<HookPoint, HookFn[]>? map, int start)
    {
        private readonly HookTensor _tensor = new();

        public bool Has(HookKind kind, int layer) => map != null && map.ContainsKey(new HookPoint(kind, layer));

        public void Call(HookKind kind, int layer, float[] buffer, int[] shape, int startOffset = 0)
        {
            if (map == null || !map.TryGetValue(new HookPoint(kind, layer), out var fns)) return;
            _tensor.Point = new HookPoint(kind, layer);
            _tensor.Shape = shape;
            _tensor.StartPosition = start + startOffset;
            _tensor.Buffer = buffer;
            _tensor.Offset = 0;
            _tensor.Count = shape.Aggregate(1, (a, b) => a * b);
            foreach (var fn in fns) fn(_tensor);
        }
    }
}
