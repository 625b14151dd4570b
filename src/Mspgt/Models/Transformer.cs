using System.Numerics.Tensors;
using Mspgt.Checkpoints;
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

    public Transformer(LoadedModel model) : this(model.Config, model.Weights) { }

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
        int dim = c.Dim, qDim = c.QDim, kvDim = c.KvDim, ffn = c.Ffn, hd = c.HeadDim;

        var x = new float[T * dim];
        for (int t = 0; t < T; t++) Weights.Embedding.DecodeRow(ids[t], x.AsSpan(t * dim, dim));
        fire.Call(HookKind.Embed, -1, x, [T, dim]);

        var h = new float[T * dim];
        var q = new float[T * qDim];
        var k = new float[T * kvDim];
        var v = new float[T * kvDim];
        var z = new float[T * qDim];
        var attnOut = new float[T * dim];
        var gate = new float[T * ffn];
        var up = new float[T * ffn];
        var mlpOut = new float[T * dim];
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
            Attention(l, q, cache, start, T, z, fire);
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
    /// The full pattern [heads, T, keys] is materialised only when a hook wants it.
    /// </summary>
    private void Attention(int layer, float[] q, KvCache cache, int start, int T, float[] z, HookDispatcher fire)
    {
        var c = Config;
        int H = c.Heads, hd = c.HeadDim, kvDim = c.KvDim, group = c.Heads / c.KvHeads;
        int keys = start + T;
        float scale = 1f / MathF.Sqrt(hd);
        int window = c.SlidingWindow is int w && layer >= c.SlidingWindowFromLayer ? w : int.MaxValue;
        var K = cache.K[layer];
        var V = cache.V[layer];
        bool materialise = fire.Has(HookKind.AttnPattern, layer);
        float[]? pattern = materialise ? new float[checked(H * T * keys)] : null;
        Array.Clear(z);

        void Probs(int head, int t, Span<float> row)
        {
            int pos = start + t;
            int lo = window == int.MaxValue ? 0 : Math.Max(0, pos - window + 1);
            var qv = q.AsSpan((t * H + head) * hd, hd);
            int kvh = head / group;
            row[..lo].Clear();
            row[(pos + 1)..].Clear();
            for (int j = lo; j <= pos; j++) row[j] = TensorPrimitives.Dot(qv, K.AsSpan(j * kvDim + kvh * hd, hd)) * scale;
            Kernels.Softmax(row[lo..(pos + 1)]);
        }
        void Mix(int head, int t, ReadOnlySpan<float> row)
        {
            int pos = start + t;
            var zv = z.AsSpan((t * H + head) * hd, hd);
            int kvh = head / group;
            for (int j = 0; j <= pos; j++)
            {
                float p = row[j];
                if (p != 0f) TensorPrimitives.MultiplyAdd(V.AsSpan(j * kvDim + kvh * hd, hd), p, zv, zv);
            }
        }

        bool parallel = (double)H * T * keys * hd > 100_000;
        if (pattern == null)
        {
            void OneHead(int head)
            {
                var row = new float[keys];
                for (int t = 0; t < T; t++) { Probs(head, t, row); Mix(head, t, row); }
            }
            if (parallel) Parallel.For(0, H, OneHead); else for (int head = 0; head < H; head++) OneHead(head);
        }
        else
        {
            void Fill(int head) { for (int t = 0; t < T; t++) Probs(head, t, pattern.AsSpan((head * T + t) * keys, keys)); }
            void Use(int head) { for (int t = 0; t < T; t++) Mix(head, t, pattern.AsSpan((head * T + t) * keys, keys)); }
            if (parallel) Parallel.For(0, H, Fill); else for (int head = 0; head < H; head++) Fill(head);
            fire.Call(HookKind.AttnPattern, layer, pattern, [H, T, keys]);
            if (parallel) Parallel.For(0, H, Use); else for (int head = 0; head < H; head++) Use(head);
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
