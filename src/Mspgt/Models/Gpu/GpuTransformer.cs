using ILGPU;
using ILGPU.Runtime;
using Mspgt.Numerics;

namespace Mspgt.Models.Gpu;

/// <summary>
/// The decoder forward pass of <see cref="Transformer"/> on a device: the same ops in the same order over the same
/// config and architecture table, with device kernels (ILGPU) and matrix products by cuBLAS when it is found on a
/// real device (else the ILGPU product kernel). Weights are uploaded once, as f32 (the parity mode) or bf16/f16 with
/// f32 accumulation (<see cref="MatrixOps"/>: only the matrix products see the 16-bit type). One document per call.
/// Hooks keep their API: an activation is copied to the host only when a hook asks for its point, and copied back
/// only when a hook there is an editor, so editors change what the next device op reads exactly as on the CPU.
/// </summary>
public sealed class GpuTransformer : IDecoder, IDisposable
{
    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    /// <summary>
    /// The device, ", cuBLAS" when its matrix products run there, and the dtype, as manifests record it:
    /// "cuda:0 (NVIDIA H200, cuBLAS, bf16)", "cuda:0 (emulated on CPU, f32)".
    /// </summary>
    public string Device => device.Description.TrimEnd(')') + (cublas == null ? "" : ", cuBLAS") + $", {DeviceChoice.Name(Dtype)})";
    /// <summary>The number format the weights are stored and multiplied in.</summary>
    public ComputeType Dtype => w.Type;
    /// <summary>Device bytes the uploaded weights take (half the f32 size for the matrices in bf16/f16).</summary>
    public long WeightBytes => w.Bytes;
    /// <summary>Whether matrix products run in cuBLAS (false: the ILGPU kernel).</summary>
    public bool UsesCublas => cublas != null;

    readonly GpuDevice device;
    readonly Accelerator acc;
    readonly GpuWeights w;
    readonly RowKernels rows;
    readonly RopeKernel rope;
    readonly AttentionKernels attention;
    readonly MatrixOps ops;
    readonly Cublas? cublas;
    readonly Rope hostRope;
    readonly object gate = new();
    readonly Dictionary<int, Workspace> workspaces = [];
    DeviceKv? kv;
    KvCache? kvOwner;
    float[] hostScratch = [];

    GpuTransformer(GpuDevice device, ModelConfig config, ModelWeights weights, GpuWeights w)
    {
        (this.device, Config, Weights, this.w) = (device, config, weights, w);
        acc = device.Accelerator;
        rows = new RowKernels(acc);
        rope = new RopeKernel(acc);
        attention = new AttentionKernels(acc);
        if (!device.Emulated) acc.Bind();
        cublas = device.Emulated ? null : Cublas.TryLoad();
        ops = new MatrixOps(acc, rows, cublas, w.Type);
        hostRope = new Rope(config, weights.RopeFreqFactors);
    }

    /// <summary>
    /// Uploads the weights to <paramref name="device"/> (which the model then owns) after checking that they and
    /// the buffers of a <paramref name="plannedTokens"/>-token pass fit; a model that does not fit fails in one line.
    /// <paramref name="dtype"/>: the type the matrices are stored and multiplied in (f32, the parity mode, by default).
    /// </summary>
    public static GpuTransformer Create(GpuDevice device, ModelConfig config, ModelWeights weights, int plannedTokens = 1024,
        ComputeType dtype = ComputeType.F32)
    {
        int tokens = Math.Min(config.MaxSeq, plannedTokens);
        var gw = GpuWeights.Upload(device, weights, PassBytes(config, tokens) + MatrixOps.ScratchBytes(config, tokens, dtype), dtype);
        return new GpuTransformer(device, config, weights, gw);
    }

    /// <summary>Device bytes of one T-token pass: activations, KV cache, one layer's pattern, all logits rows.</summary>
    public static long PassBytes(ModelConfig c, int tokens)
    {
        long T = tokens;
        long act = T * (4L * c.Dim + 2L * c.QDim + 2L * c.KvDim + 2L * c.Ffn + c.HeadDim);
        long kvBytes = 2L * c.Layers * T * c.KvDim;
        return sizeof(float) * (act + kvBytes + c.Heads * T * T + T * c.Vocab);
    }

    public KvCache NewCache(int capacity) => new(Config, capacity);

    public (float[] Logits, ActivationCache Cache) RunWithCache(ReadOnlySpan<int> ids, IEnumerable<HookPoint> points,
        Hooks? hooks = null, LogitRows logitRows = LogitRows.All) => CachedRun.Run(this, ids, points, hooks, logitRows);

    public float[] Forward(ReadOnlySpan<int> ids, KvCache? cache = null, Hooks? hooks = null, LogitRows logitRows = LogitRows.All)
    {
        var c = Config;
        int T = ids.Length;
        if (T == 0) throw new MspgtException("input", "no tokens to run");
        int start = cache?.Length ?? 0;
        Transformer.CheckInput(c, ids, start, cache?.Capacity ?? Math.Min(c.MaxSeq, T));
        var table = hooks?.Resolve(c.Layers);
        // One pass at a time on the device: its buffers and resident KV cache are shared.
        lock (gate)
        {
            Bind(cache, T);
            // cuBLAS runs in the context current on the calling thread: make it the accelerator's.
            if (cublas != null) acc.Bind();
            return Run(ids, start, table, WorkspaceFor(T), logitRows, cache);
        }
    }

    float[] Run(ReadOnlySpan<int> ids, int start, HookTable? table, Workspace ws, LogitRows logitRows, KvCache? cache)
    {
        var c = Config;
        int T = ids.Length, dim = c.Dim, H = c.Heads, kvH = c.KvHeads, hd = c.HeadDim;
        V(ws.Ids).CopyFromCPU(ids);
        ops.Gather(w.Embedding, V(ws.Ids), V(ws.X));
        Fire(table, HookPoint.Embed, V(ws.X), start, T, dim);
        var (cos, sin) = hostRope.Tables(start, T);
        V(ws.Cos).CopyFromCPU((ReadOnlySpan<float>)cos);
        V(ws.Sin).CopyFromCPU((ReadOnlySpan<float>)sin);

        for (int l = 0; l < c.Layers; l++)
        {
            var L = w.Layers[l];
            Fire(table, HookPoint.ResidPre(l), V(ws.X), start, T, dim);
            rows.RmsNormRows(V(ws.X), T, V(L.AttnNorm), c.NormEps, V(ws.H));
            Linear(V(ws.H), T, L.Q, c.QDim, dim, L.QBias, V(ws.Q));
            Linear(V(ws.H), T, L.K, c.KvDim, dim, L.KBias, V(ws.K));
            Linear(V(ws.H), T, L.V, c.KvDim, dim, L.VBias, V(ws.Vv));
            if (L.QNorm != null) rows.RmsNormRows(V(ws.Q), T * H, V(L.QNorm), c.NormEps, V(ws.Q));
            if (L.KNorm != null) rows.RmsNormRows(V(ws.K), T * kvH, V(L.KNorm), c.NormEps, V(ws.K));
            Fire(table, HookPoint.AttnQ(l), V(ws.Q), start, T, H, hd);
            Fire(table, HookPoint.AttnK(l), V(ws.K), start, T, kvH, hd);
            Fire(table, HookPoint.AttnV(l), V(ws.Vv), start, T, kvH, hd);
            // The engine holds every model in the Hugging Face layout, so RoPE is rotate-half here as on the CPU.
            rope.Rotate(V(ws.Q), T, H, hd, V(ws.Cos), V(ws.Sin), RopeForm.RotateHalf);
            rope.Rotate(V(ws.K), T, kvH, hd, V(ws.Cos), V(ws.Sin), RopeForm.RotateHalf);
            var (keys, values) = kv!.Layer(l);
            keys.SubView((long)start * c.KvDim, (long)T * c.KvDim).CopyFrom(V(ws.K));
            values.SubView((long)start * c.KvDim, (long)T * c.KvDim).CopyFrom(V(ws.Vv));

            var s = new AttentionShape(T, start, H, kvH, hd, c.AttentionWindow(l));
            var pattern = ws.Pattern(acc, s.PatternLength);
            attention.Scores(V(ws.Q), keys, s, pattern);
            Fire(table, HookPoint.AttnScores(l), pattern, start, H, T, s.Keys);
            attention.Softmax(pattern, s);
            Fire(table, HookPoint.AttnPattern(l), pattern, start, H, T, s.Keys);
            FireRows(table, HookPoint.AttnPattern(l), pattern, s, ws);
            attention.Mix(pattern, values, s, V(ws.Z));
            Fire(table, HookPoint.AttnZ(l), V(ws.Z), start, T, H, hd);
            Linear(V(ws.Z), T, L.O, dim, c.QDim, null, V(ws.AttnOut));
            Fire(table, HookPoint.AttnOut(l), V(ws.AttnOut), start, T, dim);
            rows.Add(V(ws.X), V(ws.AttnOut));
            Fire(table, HookPoint.ResidMid(l), V(ws.X), start, T, dim);

            rows.RmsNormRows(V(ws.X), T, V(L.FfnNorm), c.NormEps, V(ws.H));
            Linear(V(ws.H), T, L.Gate, c.Ffn, dim, null, V(ws.Gate));
            Linear(V(ws.H), T, L.Up, c.Ffn, dim, null, V(ws.Up));
            rows.SwiGlu(V(ws.Gate), V(ws.Up), V(ws.Gate));
            Fire(table, HookPoint.MlpPost(l), V(ws.Gate), start, T, c.Ffn);
            Linear(V(ws.Gate), T, L.Down, dim, c.Ffn, null, V(ws.MlpOut));
            Fire(table, HookPoint.MlpOut(l), V(ws.MlpOut), start, T, dim);
            rows.Add(V(ws.X), V(ws.MlpOut));
            Fire(table, HookPoint.ResidPost(l), V(ws.X), start, T, dim);
        }
        if (cache != null) cache.Length = start + T;

        int n = logitRows switch { LogitRows.All => T, LogitRows.Last => 1, _ => 0 };
        bool has(HookPoint p) => table != null && table.Has(p);
        if (n == 0 && !has(HookPoint.FinalNorm) && !has(HookPoint.Logits)) { acc.Synchronize(); return []; }
        rows.RmsNormRows(V(ws.X), T, V(w.FinalNorm), c.NormEps, V(ws.H));
        Fire(table, HookPoint.FinalNorm, V(ws.H), start, T, dim);
        if (n == 0) { acc.Synchronize(); return []; }
        var logits = ws.Logits(acc, (long)n * c.Vocab);
        Linear(V(ws.H).SubView((long)(T - n) * dim, (long)n * dim), n, w.Output, c.Vocab, dim, null, logits);
        Fire(table, HookPoint.Logits, logits, start, n, c.Vocab, firstRow: T - n);
        var result = new float[(long)n * c.Vocab];
        logits.CopyToCPU(result);
        return result;
    }

    static ArrayView<float> V(MemoryBuffer1D<float, Stride1D.Dense> b) => b.View;
    static ArrayView<int> V(MemoryBuffer1D<int, Stride1D.Dense> b) => b.View;

    /// <summary>y[T, outDim] = x[T, inDim] · Wᵀ (+ bias), W [outDim, inDim] as a linear layer stores it, in the pass's dtype.</summary>
    void Linear(ArrayView<float> x, int T, DeviceMatrix weight, int outDim, int inDim,
        MemoryBuffer1D<float, Stride1D.Dense>? bias, ArrayView<float> y)
    {
        if (weight.Rows != outDim || weight.Cols != inDim)
            throw new ArgumentException($"a [{weight.Rows}, {weight.Cols}] matrix used as [{outDim}, {inDim}]");
        ops.MatMulABt(x, T, weight, y);
        if (bias != null) rows.AddBias(y.SubView(0, (long)T * outDim), V(bias));
    }

    /// <summary>Runs the hooks at <paramref name="p"/> on a host copy; copies back only when an editor may have changed it.</summary>
    void Fire(HookTable? table, HookPoint p, ArrayView<float> view, int start, int d0, int d1, int d2 = 0, int firstRow = 0)
    {
        if (table == null || !table.HasTensorHooks(p)) return;
        int n = checked(d0 * d1 * Math.Max(d2, 1));
        if (hostScratch.Length < n) hostScratch = new float[n];
        var host = hostScratch.AsSpan(0, n);
        var part = view.SubView(0, n);
        part.CopyToCPU(host);
        ReadOnlySpan<int> shape = d2 == 0 ? [d0, d1] : [d0, d1, d2];
        table.Fire(p, host, shape, start + firstRow);
        if (table.HasEditor(p)) part.CopyFromCPU((ReadOnlySpan<float>)host);
    }

    /// <summary>Attention-rows observers get per-row entropy and distance reduced on the device: 2·heads·T doubles leave it.</summary>
    void FireRows(HookTable? table, HookPoint p, ArrayView<float> pattern, AttentionShape s, Workspace ws)
    {
        if (table == null || !table.HasRows(p)) return;
        int n = s.Heads * s.Tokens;
        var (e, d) = ws.Rows(acc, n);
        attention.Rows(pattern, s, e, d);
        var (entropy, distance) = (new double[n], new double[n]);
        e.CopyToCPU(entropy);
        d.CopyToCPU(distance);
        table.FireRows(p, new AttentionRowValues(entropy, distance, s.Heads, s.Tokens, s.Start));
    }

    /// <summary>
    /// Makes <paramref name="cache"/>'s keys and values the ones on the device. The device holds one cache at a time:
    /// the one it held before is copied to its host arrays first, so interleaving caches stays correct (it only
    /// costs copies). Without a cache the pass uses the device buffers as scratch.
    /// </summary>
    void Bind(KvCache? cache, int tokens)
    {
        if (cache != null && ReferenceEquals(cache, kvOwner)) return;
        if (kvOwner != null) kv!.Save(kvOwner);
        kvOwner = cache;
        int capacity = cache?.Capacity ?? tokens;
        if (kv == null || kv.Capacity < capacity)
        {
            kv?.Dispose();
            kv = null;
            kv = new DeviceKv(acc, Config, Math.Max(capacity, Math.Min(Config.MaxSeq, tokens)));
        }
        if (cache != null) kv.Load(cache);
    }

    Workspace WorkspaceFor(int tokens)
    {
        if (workspaces.TryGetValue(tokens, out var ws)) return ws;
        // Keep the buffers of two lengths (a prompt and single-token decoding steps); drop others.
        if (workspaces.Count >= 2)
        {
            foreach (var old in workspaces.Values) old.Dispose();
            workspaces.Clear();
        }
        return workspaces[tokens] = new Workspace(acc, Config, tokens);
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var ws in workspaces.Values) ws.Dispose();
            workspaces.Clear();
            kv?.Dispose();
            w.Dispose();
            ops.Dispose();
            cublas?.Dispose();
            device.Dispose();
        }
    }

    /// <summary>Keys and values of every layer on the device, [layers, capacity, kv_dim] each.</summary>
    sealed class DeviceKv(Accelerator a, ModelConfig c, int capacity) : IDisposable
    {
        public readonly int Capacity = capacity;
        readonly long layerLength = (long)capacity * c.KvDim;
        readonly MemoryBuffer1D<float, Stride1D.Dense> k = a.Allocate1D<float>((long)c.Layers * capacity * c.KvDim);
        readonly MemoryBuffer1D<float, Stride1D.Dense> v = a.Allocate1D<float>((long)c.Layers * capacity * c.KvDim);

        public (ArrayView<float> K, ArrayView<float> V) Layer(int l) =>
            (V(k).SubView(l * layerLength, layerLength), V(v).SubView(l * layerLength, layerLength));

        public void Save(KvCache cache)
        {
            long n = (long)cache.Length * c.KvDim;
            if (n == 0) return;
            for (int l = 0; l < c.Layers; l++)
            {
                var (K, Vl) = Layer(l);
                K.SubView(0, n).CopyToCPU(cache.K[l].AsSpan(0, (int)n));
                Vl.SubView(0, n).CopyToCPU(cache.V[l].AsSpan(0, (int)n));
            }
        }

        public void Load(KvCache cache)
        {
            long n = (long)cache.Length * c.KvDim;
            if (n == 0) return;
            for (int l = 0; l < c.Layers; l++)
            {
                var (K, Vl) = Layer(l);
                K.SubView(0, n).CopyFromCPU((ReadOnlySpan<float>)cache.K[l].AsSpan(0, (int)n));
                Vl.SubView(0, n).CopyFromCPU((ReadOnlySpan<float>)cache.V[l].AsSpan(0, (int)n));
            }
        }

        public void Dispose() { k.Dispose(); v.Dispose(); }
    }

    /// <summary>One pass length's device buffers; the pattern and logits grow as keys and rows need.</summary>
    sealed class Workspace(Accelerator a, ModelConfig c, int T) : IDisposable
    {
        public readonly MemoryBuffer1D<int, Stride1D.Dense> Ids = a.Allocate1D<int>(T);
        public readonly MemoryBuffer1D<float, Stride1D.Dense> X = a.Allocate1D<float>((long)T * c.Dim), H = a.Allocate1D<float>((long)T * c.Dim);
        public readonly MemoryBuffer1D<float, Stride1D.Dense> Q = a.Allocate1D<float>((long)T * c.QDim), Z = a.Allocate1D<float>((long)T * c.QDim);
        public readonly MemoryBuffer1D<float, Stride1D.Dense> K = a.Allocate1D<float>((long)T * c.KvDim), Vv = a.Allocate1D<float>((long)T * c.KvDim);
        public readonly MemoryBuffer1D<float, Stride1D.Dense> AttnOut = a.Allocate1D<float>((long)T * c.Dim), MlpOut = a.Allocate1D<float>((long)T * c.Dim);
        public readonly MemoryBuffer1D<float, Stride1D.Dense> Gate = a.Allocate1D<float>((long)T * c.Ffn), Up = a.Allocate1D<float>((long)T * c.Ffn);
        public readonly MemoryBuffer1D<float, Stride1D.Dense> Cos = a.Allocate1D<float>((long)T * (c.HeadDim / 2)), Sin = a.Allocate1D<float>((long)T * (c.HeadDim / 2));
        MemoryBuffer1D<float, Stride1D.Dense>? pattern, logits;
        MemoryBuffer1D<double, Stride1D.Dense>? entropy, distance;

        /// <summary>Per-row entropy and distance [n] each (n = heads·T, fixed for this length).</summary>
        public (ArrayView<double> Entropy, ArrayView<double> Distance) Rows(Accelerator acc, int n)
        {
            entropy ??= acc.Allocate1D<double>(n);
            distance ??= acc.Allocate1D<double>(n);
            return (entropy.View, distance.View);
        }

        public ArrayView<float> Pattern(Accelerator acc, long n) => Grow(acc, ref pattern, n);
        public ArrayView<float> Logits(Accelerator acc, long n) => Grow(acc, ref logits, n);

        static ArrayView<float> Grow(Accelerator acc, ref MemoryBuffer1D<float, Stride1D.Dense>? b, long n)
        {
            if (b == null || b.Length < n) { b?.Dispose(); b = null; b = acc.Allocate1D<float>(n); }
            return V(b).SubView(0, n);
        }

        public void Dispose()
        {
            foreach (var b in new MemoryBuffer[] { Ids, X, H, Q, Z, K, Vv, AttnOut, MlpOut, Gate, Up, Cos, Sin }) b.Dispose();
            pattern?.Dispose();
            logits?.Dispose();
            entropy?.Dispose();
            distance?.Dispose();
        }
    }
}
