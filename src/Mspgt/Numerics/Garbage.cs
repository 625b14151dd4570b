namespace Mspgt.Numerics;

/// <summary>
/// Returns the memory of a finished unit of work (a document's residual streams and float64 copies, a condition's
/// [tokens × vocab] logits) to the operating system. Those arrays live on the large-object heap, which the GC only
/// sweeps when its budget runs out, several units later; until then they stay mapped and count in the peak RSS
/// beside the weights. One blocking, compacting, decommitting collection per unit costs milliseconds against the
/// seconds a unit takes, and keeps the peak at one unit's working set.
/// </summary>
public static class Garbage
{
    public static void Release()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>
    /// A full, non-compacting collection between steps of one unit of work whose large temporaries are garbage, once
    /// at least <see cref="SweepBytes"/> have been allocated since the last sweep: the next steps reuse
    /// their space instead of the GC letting its budget's worth pile up first. Nothing is moved, but every live object
    /// is marked, and with a 151k-token tokenizer loaded that is about 5 ms however little is garbage; sweeping
    /// after every step (a window of blocks of one document, 5-13 MiB at the 0.5B shape) cost 6-8% of the forward
    /// passes of a 4-document analysis.
    /// </summary>
    public static void Sweep()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated - Interlocked.Read(ref _allocatedAtSweep) < SweepBytes) return;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        Interlocked.Exchange(ref _allocatedAtSweep, allocated);
    }

    /// <summary>Allocation between two sweeps: the most garbage a sweep lets wait, on top of one step's own (a peak
    /// 8 MiB higher than sweeping every step, 4-document analysis of the 0.5B shape in Q8_0).</summary>
    public const long SweepBytes = 16L << 20;

    private static long _allocatedAtSweep = long.MinValue / 2;   // the first call sweeps
}
