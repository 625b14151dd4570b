using ILGPU;
using ILGPU.Runtime;
using Mspgt.Numerics;

namespace Mspgt.Models.Gpu;

/// <summary>Hooks on the device pass: what observers and host editors read is copied to the host, and back after an edit.</summary>
public sealed partial class GpuTransformer
{
    /// <summary>
    /// Each document's hooks at <paramref name="p"/> on its rows of a [T, d1(, d2)] activation. When several documents
    /// have hooks there and all of them only observe (analyze's capture, bench's), their rows come to the host in one
    /// copy, one transfer and one wait instead of one per document, and each document's observers read their own rows.
    /// </summary>
    void Fire(Segment[] segs, HookPoint p, ArrayView<float> view, GpuWorkspace ws, int d1, int d2 = 0)
    {
        long width = (long)d1 * Math.Max(d2, 1);
        int hooked = 0, first = -1, last = -1;
        bool edits = false;
        for (int i = 0; i < segs.Length; i++)
        {
            var table = segs[i].Table;
            if (table == null || !table.HasTensorHooks(p)) continue;
            (hooked, last) = (hooked + 1, i);
            if (first < 0) first = i;
            edits |= table.HasEditor(p);
        }
        if (hooked == 0) return;
        if (hooked == 1 || edits)
        {
            foreach (var seg in segs)
                if (seg.Table != null && seg.Table.HasTensorHooks(p))
                    Fire(seg, p, view.SubView(seg.Offset * width, seg.Tokens * width), ws, seg.Tokens, d1, d2);
            return;
        }
        long from = segs[first].Offset * width, to = (segs[last].Offset + segs[last].Tokens) * width;
        CopyForObservers(new ObservedRows(segs, p, width, d1, d2, from, checked((int)(to - from))), view, ws);
    }

    /// <summary>
    /// Runs one document's hooks at <paramref name="p"/> in the order they were added: device edits
    /// (<see cref="ActivationEdit"/>) on the device; observers and other editors on a host copy, made only when such
    /// a hook comes and uploaded again only after an editor ran on it.
    /// </summary>
    void Fire(Segment seg, HookPoint p, ArrayView<float> part, GpuWorkspace ws, int d0, int d1, int d2 = 0, int firstRow = 0)
    {
        var table = seg.Table;
        if (table == null || !table.HasTensorHooks(p)) return;
        FlushObservedRows();   // hooks fire in pass order, and the host scratch is free again
        int n = checked(d0 * d1 * Math.Max(d2, 1));
        part = part.SubView(0, n);
        ReadOnlySpan<int> shape = d2 == 0 ? [d0, d1] : [d0, d1, d2];
        int start = seg.Start + firstRow;
        var host = HostScratch(n);
        bool onHost = false, dirty = false;
        foreach (var h in table.At(p))
        {
            if (h.Rows != null) continue;
            if (h.Edit != null)
            {
                if (dirty) part.CopyFromCPU((ReadOnlySpan<float>)host);
                (onHost, dirty) = (false, false);
                edits.Apply(h.Edit, p, part, shape[^1], start, ws.Staging(acc, n));
                continue;
            }
            if (!onHost) { part.CopyToCPU(host); onHost = true; HookDownloads++; }
            var t = new WritableHookTensor(p, shape, start, host);
            if (h.Editor != null) { h.Editor(t); dirty = true; }
            else h.Observer!(t);
        }
        if (dirty) part.CopyFromCPU((ReadOnlySpan<float>)host);
    }

    /// <summary>
    /// Where hooked activations are copied to for host observers and editors: a pinned array registered with the
    /// device as page-locked memory, so a copy is one DMA transfer at the bus's speed, not a staged copy of pageable
    /// memory (every block's resid_post of a batch passes through it when analyze captures or bench times the
    /// capture). Grown when a larger activation comes; if the device cannot page-lock it, a plain copy it is.
    /// </summary>
    Span<float> HostScratch(int n)
    {
        if (hostScratch.Length < n)
        {
            hostLock?.Dispose();
            hostLock = null;
            hostScratch = GC.AllocateUninitializedArray<float>(n, pinned: true);
            try { hostLock = acc.CreatePageLockFromPinned(hostScratch); }
            catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ILGPU.Runtime.Cuda.CudaException) { }
            PinnedHostCopies = hostLock != null;
        }
        return hostScratch.AsSpan(0, n);
    }

    /// <summary>Whether the last host scratch was page-locked on the device (null before any host copy).</summary>
    public bool? PinnedHostCopies { get; private set; }

    /// <summary>Attention-rows observers get per-row entropy and distance reduced on the device: 2·heads·T doubles leave it.</summary>
    void FireRows(Segment seg, HookPoint p, ArrayView<float> pattern, AttentionShape s, GpuWorkspace ws)
    {
        var table = seg.Table;
        if (table == null || !table.HasRows(p)) return;
        FlushObservedRows();
        int n = s.Heads * s.Tokens;
        var (e, d) = ws.Rows(acc, n);
        attention.Rows(pattern, s, e, d);
        var (entropy, distance) = (new double[n], new double[n]);
        e.CopyToCPU(entropy);
        d.CopyToCPU(distance);
        table.FireRows(p, new AttentionRowValues(entropy, distance, s.Heads, s.Tokens, s.Start));
    }
}
