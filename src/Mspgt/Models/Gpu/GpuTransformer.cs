using ILGPU;
using ILGPU.Runtime;
using Mspgt.Numerics;

namespace Mspgt.Models.Gpu;

/// <summary>
/// The decoder forward pass of <see cref="Transformer"/> on a device: the same ops in the same order over the same
/// config and architecture table, with device kernels (ILGPU) and matrix products by cuBLAS when it is found on a
/// real device (else the ILGPU product kernel). Weights are uploaded once, as f32 (the parity mode) or bf16/f16 with
/// f32 accumulation (<see cref="MatrixOps"/>: only the matrix products see the 16-bit type).
/// One document per <see cref="Forward"/> call, several packed into one pass by <see cref="ForwardBatch"/>.
/// Hooks keep their API: an activation is copied to the host only when an observer or a host editor asks for its
/// point, and copied back only after a host editor; an <see cref="ActivationEdit"/> runs on the device, so every
/// editor changes what the next device op reads exactly as on the CPU.
/// </summary>
public sealed partial class GpuTransformer : IDecoder, IDisposable
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
    readonly LensKernels lens;
    readonly MatrixOps ops;
    readonly EditKernels edits;
    readonly Cublas? cublas;
    readonly Rope hostRope;
    readonly object gate = new();
    readonly List<GpuWorkspace> workspaces = [];
    DeviceKv? kv;
    KvCache? kvOwner;
    float[] hostScratch = [];
    double[] rowStatistics = [];
    PageLockScope<float>? hostLock;
    /// <summary>Activations copied to the host for hooks so far (device edits need none; tests check it).</summary>
    internal long HookDownloads { get; private set; }
    /// <summary>The fused attention kernel's form: "warp per row" or "thread per row" (<see cref="AttentionKernels.WarpPerRow"/>).</summary>
    public string AttentionForm => attention.WarpPerRow ? "warp per row" : "thread per row";

    /// <summary>Gram matrices formed on the device for the signals so far (tests check that they were).</summary>
    internal long GramProducts { get; private set; }

    GpuTransformer(GpuDevice device, ModelConfig config, ModelWeights weights, GpuWeights w, bool? warpPerRow)
    {
        (this.device, Config, Weights, this.w) = (device, config, weights, w);
        acc = device.Accelerator;
        attention = new AttentionKernels(acc, warpPerRow);
        // RMSNorm takes the form attention takes (MSPGT_GPU_ATTENTION picks both), so that the GPU check's fallback to
        // the thread forms covers every kernel that reduces with warp shuffles.
        rows = new RowKernels(acc, attention.WarpPerRow);
        rope = new RopeKernel(acc);
        lens = new LensKernels(acc);
        edits = new EditKernels(acc, rows);
        if (!device.Emulated) acc.Bind();
        cublas = device.Emulated ? null : Cublas.TryLoad();
        // cuBLAS on the stream the kernels run on (ILGPU 1.5.3's default stream is the context's legacy stream, as is
        // cuBLAS's own default; said explicitly so that the order holds whatever either picks): products and kernels
        // then run in launch order, and a host copy (stream-ordered) waits for both.
        cublas?.UseStream(((ILGPU.Runtime.Cuda.CudaStream)acc.DefaultStream).StreamPtr);
        ops = new MatrixOps(acc, rows, cublas, w.Type);
        hostRope = new Rope(config, weights.RopeFreqFactors);
    }

    /// <summary>
    /// Uploads the weights to <paramref name="device"/> (which the model then owns) after checking that they and
    /// the buffers of a <paramref name="plannedTokens"/>-token pass fit; a model that does not fit fails in one line.
    /// <paramref name="dtype"/>: the type the matrices are stored and multiplied in (f32, the parity mode, by default).
    /// <paramref name="warpPerRow"/>: the form of the kernels that reduce along a row, the fused attention and RMSNorm
    /// (<see cref="AttentionKernels.WarpPerRow"/>, <see cref="RowKernels.WarpPerRow"/>; null: what MSPGT_GPU_ATTENTION
    /// says, else a warp per row on CUDA and a thread on the emulator, where tests also run the warp form).
    /// </summary>
    public static GpuTransformer Create(GpuDevice device, ModelConfig config, ModelWeights weights, int plannedTokens = 1024,
        ComputeType dtype = ComputeType.F32, bool? warpPerRow = null)
    {
        int tokens = Math.Min(config.MaxSeq, plannedTokens);
        var gw = GpuWeights.Upload(device, weights, PassBytes(config, tokens) + MatrixOps.ScratchBytes(config, tokens, dtype), dtype);
        return new GpuTransformer(device, config, weights, gw, warpPerRow);
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
            if (cache != null) Bind(cache);
            // cuBLAS runs in the context current on the calling thread: make it the accelerator's.
            if (cublas != null) acc.Bind();
            return Run(ids, [new Segment(0, T, start, table)], WorkspaceFor(T), logitRows, cache)[0];
        }
    }

    /// <summary>
    /// Several documents in one pass: their tokens packed one after another into the same buffers (no padding), so
    /// every matrix product, norm and elementwise op runs once over all of them; attention runs per document over
    /// that document's own keys (a document never sees another's tokens) and RoPE positions restart at 0 in each.
    /// Every row-wise op treats rows independently, so each document's results are those of its own pass.
    /// </summary>
    public IReadOnlyList<float[]> ForwardBatch(IReadOnlyList<int[]> documents, IReadOnlyList<Hooks?>? hooks = null, LogitRows logitRows = LogitRows.All) =>
        Batch(documents, hooks, logitRows, returnLogits: true);

    /// <summary>
    /// <see cref="ForwardBatch"/> with every row's logits computed but left on the device: the whole pass a model call
    /// makes (a PyTorch forward returns its logits on the device) without copying documents × tokens × vocabulary
    /// floats to the host (2.1 GB for 16 × 256 tokens of a 128,256 vocabulary). Hooks at the logits still see them.
    /// What <c>bench --device cuda</c> times.
    /// </summary>
    public void ForwardBatchOnDevice(IReadOnlyList<int[]> documents, IReadOnlyList<Hooks?>? hooks = null) =>
        Batch(documents, hooks, LogitRows.All, returnLogits: false);

    IReadOnlyList<float[]> Batch(IReadOnlyList<int[]> documents, IReadOnlyList<Hooks?>? hooks, LogitRows logitRows, bool returnLogits)
    {
        BatchArguments.Check(documents, hooks);
        if (documents.Count == 0) return [];
        var c = Config;
        var segments = new Segment[documents.Count];
        int total = 0;
        for (int i = 0; i < documents.Count; i++)
        {
            var ids = documents[i];
            if (ids.Length == 0) throw new MspgtException("input", $"document {i + 1} of the batch has no tokens to run");
            Transformer.CheckInput(c, ids, 0, Math.Min(c.MaxSeq, ids.Length));
            segments[i] = new Segment(total, ids.Length, 0, hooks?[i]?.Resolve(c.Layers));
            total = checked(total + ids.Length);
        }
        var packed = new int[total];
        foreach (var (seg, ids) in segments.Zip(documents)) ids.CopyTo(packed, seg.Offset);
        lock (gate)
        {
            // A batch that cannot fit fails in one line before allocating (what this model already holds counts as free).
            int longest = documents.Max(d => d.Length);
            long rowsOut = logitRows switch { LogitRows.All => total, LogitRows.Last => documents.Count, _ => 0 };
            long need = sizeof(float) * (total * GpuWorkspace.FloatsPerToken(c) + (long)c.Heads * longest * longest + rowsOut * c.Vocab)
                + MatrixOps.ScratchBytes(c, total, Dtype);
            device.EnsureFits(need - workspaces.Sum(x => x.Bytes), $"a batch of {documents.Count} documents ({total} tokens)");
            if (cublas != null) acc.Bind();
            return Run(packed, segments, WorkspaceFor(total), logitRows, null, returnLogits);
        }
    }

    /// <summary>Most tokens one batch holds: past a few thousand rows the matrix products are at full speed, and more only costs memory.</summary>
    public const int MaxBatchTokens = 8192;

    /// <summary>
    /// Documents of <paramref name="tokens"/> tokens per batch: as many as keep the batch within
    /// <see cref="MaxBatchTokens"/> and its buffers (<see cref="BatchBytes"/>, all logits rows included) within
    /// half of the device memory now free, at least 1.
    /// </summary>
    public int BatchSize(int tokens)
    {
        if (tokens <= 0) return 1;
        long budget;
        lock (gate) budget = device.FreeBytes / 2 + workspaces.Sum(w => w.Bytes);
        int n = Math.Max(1, MaxBatchTokens / tokens);
        while (n > 1 && BatchBytes(Config, n, tokens) + MatrixOps.ScratchBytes(Config, (long)n * tokens, Dtype) > budget) n--;
        return n;
    }

    /// <summary>
    /// Device bytes of a batch of <paramref name="documents"/> documents of <paramref name="tokens"/> tokens:
    /// activations and logits of all rows, one document's attention pattern at a time (bf16/f16 add their
    /// <see cref="MatrixOps.ScratchBytes"/>).
    /// </summary>
    public static long BatchBytes(ModelConfig c, int documents, int tokens)
    {
        long rows = (long)documents * tokens;
        return sizeof(float) * (rows * GpuWorkspace.FloatsPerToken(c) + (long)c.Heads * tokens * tokens + rows * c.Vocab);
    }

    /// <summary>One document of a pass: its rows in the packed token buffers, its first absolute position, its hooks.</summary>
    readonly record struct Segment(int Offset, int Tokens, int Start, HookTable? Table);

    float[][] Run(ReadOnlySpan<int> ids, Segment[] segs, GpuWorkspace ws, LogitRows logitRows, KvCache? cache, bool returnLogits = true)
    {
        try
        {
            var result = RunPass(ids, segs, ws, logitRows, cache, returnLogits);
            FlushObservedRows();   // every observer has fired when the pass returns
            return result;
        }
        finally { DropObservedRows(); }   // a pass that failed leaves no copy in flight for the next pass's hooks
    }

    float[][] RunPass(ReadOnlySpan<int> ids, Segment[] segs, GpuWorkspace ws, LogitRows logitRows, KvCache? cache, bool returnLogits)
    {
        var c = Config;
        int T = ids.Length, dim = c.Dim, H = c.Heads, kvH = c.KvHeads, hd = c.HeadDim;
        ws.Use(T);
        ws.Ids.CopyFromCPU(ids);
        ops.Gather(w.Embedding, ws.Ids, ws.X);
        Fire(segs, HookPoint.Embed, ws.X, ws, dim);
        UploadRope(segs, ws);
        UploadKeyRows(segs, ws, cache != null);

        for (int l = 0; l < c.Layers; l++)
        {
            var L = w.Layers[l];
            Fire(segs, HookPoint.ResidPre(l), ws.X, ws, dim);
            rows.RmsNormRows(ws.X, T, V(L.AttnNorm), c.NormEps, ws.H);
            Linear(ws.H, T, L.Q, c.QDim, dim, L.QBias, ws.Q);
            Linear(ws.H, T, L.K, c.KvDim, dim, L.KBias, ws.K, sameInput: true);   // its bf16/f16 copy made once
            Linear(ws.H, T, L.V, c.KvDim, dim, L.VBias, ws.Vv, sameInput: true);
            if (L.QNorm != null) rows.RmsNormRows(ws.Q, T * H, V(L.QNorm), c.NormEps, ws.Q);
            if (L.KNorm != null) rows.RmsNormRows(ws.K, T * kvH, V(L.KNorm), c.NormEps, ws.K);
            Fire(segs, HookPoint.AttnQ(l), ws.Q, ws, H, hd);
            Fire(segs, HookPoint.AttnK(l), ws.K, ws, kvH, hd);
            Fire(segs, HookPoint.AttnV(l), ws.Vv, ws, kvH, hd);
            // The engine holds every model in the Hugging Face layout, so RoPE is rotate-half here as on the CPU.
            rope.Rotate(ws.Q, T, H, hd, ws.Cos, ws.Sin, RopeForm.RotateHalf);
            rope.Rotate(ws.K, T, kvH, hd, ws.Cos, ws.Sin, RopeForm.RotateHalf);
            // Fused for the pass, then apart for each document whose scores or pattern a hook asks for (its z is then
            // overwritten): either way each document gets what it would get alone.
            var apart = segs.Where(seg => !Fusable(l, seg)).ToArray();
            if (apart.Length < segs.Length) AttendFused(l, segs, ws, cache);
            foreach (var seg in apart) Attend(l, seg, ws, cache);
            Fire(segs, HookPoint.AttnZ(l), ws.Z, ws, H, hd);
            Linear(ws.Z, T, L.O, dim, c.QDim, null, ws.AttnOut);
            Fire(segs, HookPoint.AttnOut(l), ws.AttnOut, ws, dim);
            rows.Add(ws.X, ws.AttnOut);
            Fire(segs, HookPoint.ResidMid(l), ws.X, ws, dim);

            rows.RmsNormRows(ws.X, T, V(L.FfnNorm), c.NormEps, ws.H);
            Linear(ws.H, T, L.Gate, c.Ffn, dim, null, ws.Gate);
            Linear(ws.H, T, L.Up, c.Ffn, dim, null, ws.Up, sameInput: true);
            rows.SwiGlu(ws.Gate, ws.Up, ws.Gate);
            Fire(segs, HookPoint.MlpPost(l), ws.Gate, ws, c.Ffn);
            Linear(ws.Gate, T, L.Down, dim, c.Ffn, null, ws.MlpOut);
            Fire(segs, HookPoint.MlpOut(l), ws.MlpOut, ws, dim);
            rows.Add(ws.X, ws.MlpOut);
            Fire(segs, HookPoint.ResidPost(l), ws.X, ws, dim);
        }
        if (cache != null) cache.Length = segs[0].Start + T;
        return Unembed(segs, ws, logitRows, returnLogits);
    }

    /// <summary>Final norm and the logits rows asked for, per document: all its rows, its last, or none.</summary>
    float[][] Unembed(Segment[] segs, GpuWorkspace ws, LogitRows logitRows, bool returnLogits)
    {
        var c = Config;
        int T = ws.Tokens, dim = c.Dim, B = segs.Length;
        var counts = segs.Select(s => logitRows switch { LogitRows.All => s.Tokens, LogitRows.Last => 1, _ => 0 }).ToArray();
        int n = counts.Sum();
        var result = new float[B][];
        bool hooked(HookPoint p) => segs.Any(s => s.Table != null && s.Table.Has(p));
        if (n == 0 && !hooked(HookPoint.FinalNorm) && !hooked(HookPoint.Logits)) { acc.Synchronize(); Array.Fill(result, []); return result; }
        rows.RmsNormRows(ws.X, T, V(w.FinalNorm), c.NormEps, ws.H);
        Fire(segs, HookPoint.FinalNorm, ws.H, ws, dim);
        if (n == 0) { acc.Synchronize(); Array.Fill(result, []); return result; }

        // The unembedding reads contiguous rows: all of them, one document's last, or each document's last gathered.
        ArrayView<float> input;
        if (logitRows == LogitRows.All) input = ws.H;
        else if (B == 1) input = ws.H.SubView((long)(T - 1) * dim, dim);
        else
        {
            input = ws.LastRows(acc, (long)B * dim);
            for (int i = 0; i < B; i++)
                input.SubView((long)i * dim, dim).CopyFrom(ws.H.SubView((long)(segs[i].Offset + segs[i].Tokens - 1) * dim, dim));
        }
        var logits = ws.Logits(acc, (long)n * c.Vocab);
        Linear(input, n, w.Output, c.Vocab, dim, null, logits);
        long o = 0;
        for (int i = 0; i < B; i++)
        {
            var part = logits.SubView(o * c.Vocab, (long)counts[i] * c.Vocab);
            Fire(segs[i], HookPoint.Logits, part, ws, counts[i], c.Vocab, firstRow: segs[i].Tokens - counts[i]);
            result[i] = returnLogits ? new float[part.Length] : [];
            if (returnLogits) part.CopyToCPU(result[i]);
            o += counts[i];
        }
        if (!returnLogits) acc.Synchronize();
        return result;
    }

    static ArrayView<float> V(MemoryBuffer1D<float, Stride1D.Dense> b) => b.View;

    /// <summary>y[T, outDim] = x[T, inDim] · Wᵀ (+ bias), W [outDim, inDim] as a linear layer stores it, in the pass's dtype.</summary>
    void Linear(ArrayView<float> x, int T, DeviceMatrix weight, int outDim, int inDim,
        MemoryBuffer1D<float, Stride1D.Dense>? bias, ArrayView<float> y, bool sameInput = false)
    {
        if (weight.Rows != outDim || weight.Cols != inDim)
            throw new ArgumentException($"a [{weight.Rows}, {weight.Cols}] matrix used as [{outDim}, {inDim}]");
        ops.MatMulABt(x, T, weight, y, sameInput);
        if (bias != null) rows.AddBias(y.SubView(0, (long)T * outDim), V(bias));
    }

    /// <summary>
    /// Buffers for a pass of <paramref name="tokens"/> rows: the ones held when they are large enough (a prompt's serve
    /// its decoding steps), else new ones of that size in their place.
    /// </summary>
    GpuWorkspace WorkspaceFor(int tokens)
    {
        if (workspaces.Count == 1 && workspaces[0].Capacity >= tokens) return workspaces[0];
        foreach (var old in workspaces) old.Dispose();
        workspaces.Clear();
        device.EnsureFits(sizeof(float) * tokens * GpuWorkspace.FloatsPerToken(Config), $"the buffers of a {tokens}-token pass");
        var ws = new GpuWorkspace(acc, Config, tokens);
        workspaces.Add(ws);
        return ws;
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var ws in workspaces) ws.Dispose();
            workspaces.Clear();
            kv?.Dispose();
            hostLock?.Dispose();
            hostLock = null;
            copyStream?.Dispose();
            gramInput?.Dispose();
            gramOutput?.Dispose();
            w.Dispose();
            ops.Dispose();
            cublas?.Dispose();
            device.Dispose();
        }
    }
}
