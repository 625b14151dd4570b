using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Loads an implicitly grouped kernel whose launches with an empty extent do nothing. ILGPU refuses a launch whose grid
/// is empty (ArgumentOutOfRangeException, "Invalid grid dimension", on its CPU accelerator as on CUDA, whose
/// cuLaunchKernel rejects one too), so a call with nothing to process (a document with no rows in a batch, an edit of
/// no positions) would fail instead of doing nothing, as the CPU code does on an empty span. The tested paths never
/// launch empty (the emulated tests would have failed); this covers the others. Every implicitly grouped kernel is
/// loaded through here (a test reads the sources); the two explicitly grouped ones check their row counts where they
/// are launched.
/// </summary>
internal static class KernelLoading
{
    static bool Empty<TIndex>(TIndex extent) where TIndex : struct, IIntIndex => extent.Size <= 0;

    public static Action<TIndex, T1> LoadGroupedKernel<TIndex, T1>(this Accelerator a, Action<TIndex, T1> kernel)
        where TIndex : struct, IIntIndex where T1 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1) => { if (!Empty(i)) launch(i, p1); };
    }

    public static Action<TIndex, T1, T2> LoadGroupedKernel<TIndex, T1, T2>(this Accelerator a, Action<TIndex, T1, T2> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2) => { if (!Empty(i)) launch(i, p1, p2); };
    }

    public static Action<TIndex, T1, T2, T3> LoadGroupedKernel<TIndex, T1, T2, T3>(this Accelerator a, Action<TIndex, T1, T2, T3> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct where T3 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2, p3) => { if (!Empty(i)) launch(i, p1, p2, p3); };
    }

    public static Action<TIndex, T1, T2, T3, T4> LoadGroupedKernel<TIndex, T1, T2, T3, T4>(this Accelerator a,
        Action<TIndex, T1, T2, T3, T4> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2, p3, p4) => { if (!Empty(i)) launch(i, p1, p2, p3, p4); };
    }

    public static Action<TIndex, T1, T2, T3, T4, T5> LoadGroupedKernel<TIndex, T1, T2, T3, T4, T5>(this Accelerator a,
        Action<TIndex, T1, T2, T3, T4, T5> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2, p3, p4, p5) => { if (!Empty(i)) launch(i, p1, p2, p3, p4, p5); };
    }

    public static Action<TIndex, T1, T2, T3, T4, T5, T6> LoadGroupedKernel<TIndex, T1, T2, T3, T4, T5, T6>(this Accelerator a,
        Action<TIndex, T1, T2, T3, T4, T5, T6> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
        where T6 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2, p3, p4, p5, p6) => { if (!Empty(i)) launch(i, p1, p2, p3, p4, p5, p6); };
    }

    public static Action<TIndex, T1, T2, T3, T4, T5, T6, T7> LoadGroupedKernel<TIndex, T1, T2, T3, T4, T5, T6, T7>(this Accelerator a,
        Action<TIndex, T1, T2, T3, T4, T5, T6, T7> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
        where T6 : struct where T7 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2, p3, p4, p5, p6, p7) => { if (!Empty(i)) launch(i, p1, p2, p3, p4, p5, p6, p7); };
    }

    public static Action<TIndex, T1, T2, T3, T4, T5, T6, T7, T8, T9> LoadGroupedKernel<TIndex, T1, T2, T3, T4, T5, T6, T7, T8, T9>(
        this Accelerator a, Action<TIndex, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel)
        where TIndex : struct, IIntIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
        where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        var launch = a.LoadAutoGroupedStreamKernel(kernel);
        return (i, p1, p2, p3, p4, p5, p6, p7, p8, p9) => { if (!Empty(i)) launch(i, p1, p2, p3, p4, p5, p6, p7, p8, p9); };
    }
}
