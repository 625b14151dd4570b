using ILGPU;
using ILGPU.Runtime;
using Mspgt.Numerics;

namespace Mspgt.Models.Gpu;

/// <summary>Attention on the device: fused or step by step, the rotary tables, and the device KV cache.</summary>
public sealed partial class GpuTransformer
{
    /// <summary>Whether a document's layer-l attention runs fused: no hook on its scores or pattern tensor (those need
    /// the steps apart), and the head fits the fused kernel.</summary>
    bool Fusable(int l, Segment seg) =>
        Config.HeadDim <= AttentionKernels.FusedMaxHeadDim
        && (seg.Table == null || (!seg.Table.Has(HookPoint.AttnScores(l)) && !seg.Table.HasTensorHooks(HookPoint.AttnPattern(l))));

    /// <summary>
    /// Layer l's attention for every document of the pass in one fused launch (<see cref="AttentionKernels.Fused"/>);
    /// a cached pass (one document) adds its keys and values to the device cache first and reads them there. The
    /// attention-rows observers of each fused document get its rows of the [heads, T] statistics, copied once per layer.
    /// </summary>
    void AttendFused(int l, Segment[] segs, GpuWorkspace ws, KvCache? cache)
    {
        var c = Config;
        int T = ws.Tokens;
        ArrayView<float> keys = ws.K, values = ws.Vv;
        if (cache != null) (keys, values) = AppendToCache(l, segs[0], ws);
        bool observed(Segment seg) => seg.Table != null && seg.Table.HasRows(HookPoint.AttnPattern(l)) && Fusable(l, seg);
        bool statistics = segs.Any(observed);
        var shape = new AttentionShape(T, 0, c.Heads, c.KvHeads, c.HeadDim, c.AttentionWindow(l));
        var (e, d) = ws.Rows(acc, statistics ? checked(c.Heads * T) : 1);
        attention.Fused(ws.Q, keys, values, ws.KeyRows, ws.Positions, new AttentionKernels.PassDims(T, shape, statistics), ws.Z, e, d);
        if (!statistics) return;
        FlushObservedRows();
        // Into one host array kept for the next layer (at the 1B bench 2 MB a layer, which new arrays would put on the
        // large-object heap 16 times a pass); each document's observers get arrays of their own.
        int n = checked((int)e.Length);
        if (rowStatistics.Length < 2 * n) rowStatistics = new double[2 * n];
        Span<double> entropy = rowStatistics.AsSpan(0, n), distance = rowStatistics.AsSpan(n, n);
        e.CopyToCPU(entropy);
        d.CopyToCPU(distance);
        foreach (var seg in segs)
        {
            if (!observed(seg)) continue;
            var (se, sd) = (new double[c.Heads * seg.Tokens], new double[c.Heads * seg.Tokens]);
            for (int h = 0; h < c.Heads; h++)
            {
                entropy.Slice(h * T + seg.Offset, seg.Tokens).CopyTo(se.AsSpan(h * seg.Tokens));
                distance.Slice(h * T + seg.Offset, seg.Tokens).CopyTo(sd.AsSpan(h * seg.Tokens));
            }
            seg.Table!.FireRows(HookPoint.AttnPattern(l), new AttentionRowValues(se, sd, c.Heads, seg.Tokens, seg.Start));
        }
    }

    /// <summary>A cached pass's keys and values (one document) written into layer l's device cache at its start
    /// position; returns that layer's cache, which attention then reads.</summary>
    (ArrayView<float> Keys, ArrayView<float> Values) AppendToCache(int l, Segment seg, GpuWorkspace ws)
    {
        int kvDim = Config.KvDim;
        var (keys, values) = kv!.Layer(l);
        keys.SubView((long)seg.Start * kvDim, (long)seg.Tokens * kvDim).CopyFrom(ws.K);
        values.SubView((long)seg.Start * kvDim, (long)seg.Tokens * kvDim).CopyFrom(ws.Vv);
        return (keys, values);
    }

    /// <summary>Per row of the pass: its absolute position, and the row of the key buffer where its document's key 0
    /// is (the document's first row in this pass's k and v; 0 in the device KV cache).</summary>
    void UploadKeyRows(Segment[] segs, GpuWorkspace ws, bool cached)
    {
        int T = ws.Tokens;
        var (keyRows, positions) = (new int[T], new int[T]);
        foreach (var seg in segs)
            for (int t = 0; t < seg.Tokens; t++)
            {
                keyRows[seg.Offset + t] = cached ? 0 : seg.Offset;
                positions[seg.Offset + t] = seg.Start + t;
            }
        ws.KeyRows.CopyFromCPU(keyRows);
        ws.Positions.CopyFromCPU(positions);
    }

    /// <summary>
    /// Causal attention of one document: its queries over its own keys, which are the device KV cache's (a cached
    /// single-document pass, whose keys join the cache first) or its rows of this pass's k and v.
    /// </summary>
    void Attend(int l, Segment seg, GpuWorkspace ws, KvCache? cache)
    {
        var c = Config;
        var s = new AttentionShape(seg.Tokens, seg.Start, c.Heads, c.KvHeads, c.HeadDim, c.AttentionWindow(l));
        ArrayView<float> keys, values;
        if (cache != null) (keys, values) = AppendToCache(l, seg, ws);
        else
        {
            keys = ws.K.SubView((long)seg.Offset * c.KvDim, s.KeyLength);
            values = ws.Vv.SubView((long)seg.Offset * c.KvDim, s.KeyLength);
        }
        var q = ws.Q.SubView((long)seg.Offset * c.QDim, s.QueryLength);
        var z = ws.Z.SubView((long)seg.Offset * c.QDim, s.QueryLength);
        var pattern = ws.Pattern(acc, s.PatternLength);
        attention.Scores(q, keys, s, pattern);
        Fire(seg, HookPoint.AttnScores(l), pattern, ws, s.Heads, s.Tokens, s.Keys);
        attention.Softmax(pattern, s);
        Fire(seg, HookPoint.AttnPattern(l), pattern, ws, s.Heads, s.Tokens, s.Keys);
        FireRows(seg, HookPoint.AttnPattern(l), pattern, s, ws);
        attention.Mix(pattern, values, s, z);
    }

    /// <summary>Each row's cos/sin: the positions of its own document (a batch restarts them at 0 per document).</summary>
    void UploadRope(Segment[] segs, GpuWorkspace ws)
    {
        if (segs.Length == 1)
        {
            var (cos, sin) = hostRope.Tables(segs[0].Start, segs[0].Tokens);
            ws.Cos.CopyFromCPU((ReadOnlySpan<float>)cos);
            ws.Sin.CopyFromCPU((ReadOnlySpan<float>)sin);
            return;
        }
        int half = Config.HeadDim / 2;
        var (allCos, allSin) = (new float[ws.Cos.Length], new float[ws.Sin.Length]);
        foreach (var seg in segs)
        {
            var (cos, sin) = hostRope.Tables(seg.Start, seg.Tokens);
            cos.CopyTo(allCos, seg.Offset * half);
            sin.CopyTo(allSin, seg.Offset * half);
        }
        ws.Cos.CopyFromCPU((ReadOnlySpan<float>)allCos);
        ws.Sin.CopyFromCPU((ReadOnlySpan<float>)allSin);
    }

    /// <summary>
    /// Makes <paramref name="cache"/>'s keys and values the ones on the device. The device holds one cache at a time:
    /// the one it held before is copied to its host arrays first, so interleaving caches stays correct (it only
    /// costs copies). Without a cache the pass uses the device buffers as scratch.
    /// </summary>
    void Bind(KvCache cache)
    {
        if (ReferenceEquals(cache, kvOwner)) return;
        if (kvOwner != null) kv!.Save(kvOwner);
        kvOwner = cache;
        if (kv == null || kv.Capacity < cache.Capacity)
        {
            kv?.Dispose();
            kv = null;
            kv = new DeviceKv(acc, Config, cache.Capacity);
        }
        kv.Load(cache);
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
}
