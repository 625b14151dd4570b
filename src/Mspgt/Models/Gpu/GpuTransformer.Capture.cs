using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

public sealed partial class GpuTransformer
{
    /// <summary>
    /// Environment variable that turns the overlapped capture off ("0": each observed activation is copied to the host
    /// while the device waits, as before 2026-12-07), so that a GPU check can time both on the same device.
    /// </summary>
    public const string OverlapVariable = "MSPGT_GPU_OVERLAP";

    /// <summary>Whether observed rows go to the host on a second stream while the next kernels run (tests set it to
    /// compare both ways in one process).</summary>
    public bool OverlapsCopies { get; internal set; } = EnvironmentSwitch.IsOn(OverlapVariable);

    /// <summary>Several documents' rows of one activation that only observers read: they come to the host in one copy,
    /// floats [From, From + Count) of the pass's [rows, Width] activation.</summary>
    sealed record ObservedRows(Segment[] Segs, HookPoint Point, long Width, int D1, int D2, long From, int Count);

    /// <summary>Rows whose copy to the host is still on <see cref="copyStream"/>; their observers have not run yet.</summary>
    ObservedRows? inFlight;
    AcceleratorStream? copyStream;

    /// <summary>
    /// Copies observed rows to the host (<see cref="HostScratch"/>) for their observers. Overlapped (the default, for
    /// rows that fit <see cref="GpuWorkspace.Observed"/>): the rows are copied on the device to the workspace's own
    /// buffer, behind the kernels that wrote them; once that is done the copy to the host is queued on a second stream
    /// and the pass goes on, so the transfer (at the 1B bench a block's resid_post is 32 MB, about 1 ms over the bus)
    /// runs while the device computes the next block. The observers run when the next hook of the pass fires or the
    /// pass ends (<see cref="FlushObservedRows"/>), so hooks still fire in pass order and each sees the rows of its
    /// own point. Otherwise the device waits for the copy and the observers run at once.
    /// </summary>
    void CopyForObservers(ObservedRows rows, ArrayView<float> view, GpuWorkspace ws)
    {
        FlushObservedRows();   // the one in flight is read first: it uses the same host scratch and device buffer
        var source = view.SubView(rows.From, rows.Count);
        var host = HostScratch(rows.Count);
        HookDownloads++;
        if (OverlapsCopies && ws.Observed(rows.Count) is { } staged)
        {
            source.CopyTo(staged);               // on the kernels' stream: after what wrote the rows
            acc.DefaultStream.Synchronize();     // ...and complete before the other stream reads them
            copyStream ??= acc.CreateStream();
            staged.CopyToCPUUnsafeAsync(copyStream, ref host[0], rows.Count);
            inFlight = rows;
            return;
        }
        source.CopyToCPU(host);
        Observe(rows, host);
    }

    /// <summary>Waits for the rows in flight, if any, and runs their observers.</summary>
    void FlushObservedRows()
    {
        if (inFlight is not { } rows) return;
        inFlight = null;
        copyStream!.Synchronize();
        Observe(rows, hostScratch.AsSpan(0, rows.Count));
    }

    /// <summary>Forgets the rows in flight without running their observers (a pass that failed), once the copy that
    /// writes the host scratch is over.</summary>
    void DropObservedRows()
    {
        if (inFlight == null) return;
        inFlight = null;
        copyStream!.Synchronize();
    }

    void Observe(ObservedRows r, Span<float> host)
    {
        foreach (var seg in r.Segs)
        {
            if (seg.Table == null || !seg.Table.HasTensorHooks(r.Point)) continue;
            ReadOnlySpan<int> shape = r.D2 == 0 ? [seg.Tokens, r.D1] : [seg.Tokens, r.D1, r.D2];
            var rows = host.Slice((int)(seg.Offset * r.Width - r.From), (int)(seg.Tokens * r.Width));
            foreach (var h in seg.Table.At(r.Point))
                if (h.Rows == null) h.Observer!(new WritableHookTensor(r.Point, shape, seg.Start, rows));
        }
    }
}
