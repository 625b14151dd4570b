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
    /// A full, non-compacting collection between steps of one unit of work whose large temporaries are garbage: the
    /// next step reuses their space instead of the GC letting a budget's worth pile up first. Nothing is moved, so it
    /// costs a millisecond or two on a heap of big arrays.
    /// </summary>
    public static void Sweep() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
}
