using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Mspgt.Models.Gpu;

/// <summary>
/// An opened accelerator for the GPU forward pass. With <c>MSPGT_GPU_EMULATE=1</c> "CUDA" is ILGPU's CPU accelerator
/// emulating an NVIDIA device (warps of 32), so kernels are tested on machines without a GPU; cuBLAS is then replaced
/// by the ILGPU matrix-product kernel.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    public const string EmulateVariable = "MSPGT_GPU_EMULATE";

    public Context Context { get; }
    public Accelerator Accelerator { get; }
    /// <summary>True when the accelerator is ILGPU's CPU emulation, not a real CUDA device.</summary>
    public bool Emulated { get; }
    /// <summary>What the manifest records: e.g. "cuda:0 (NVIDIA H200)" or "cuda:0 (emulated)".</summary>
    public string Description { get; }

    GpuDevice(Context context, Accelerator accelerator, bool emulated, string description)
        => (Context, Accelerator, Emulated, Description) = (context, accelerator, emulated, description);

    /// <summary>
    /// The emulated device: warps of 32 like an NVIDIA GPU, one warp per multiprocessor. ILGPU's CPUDeviceKind.Nvidia
    /// has 32 warps per multiprocessor, whose lanes its CPU accelerator runs on as many host threads; on a 2-core
    /// machine they mostly wait on each other (analyze on stories260K: 3 min 31 s against 2 min 53 s with one warp,
    /// under the same shared load). The kernels use no shared memory and need at most whole warps (the warp form of the
    /// fused attention), so one warp tests the same code.
    /// </summary>
    static CPUDevice Emulation(int warpsPerGroup = 1) =>
        new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: warpsPerGroup, numMultiprocessors: 1);

    public static bool EmulationRequested(IReadOnlyDictionary<string, string?>? env = null)
    {
        var v = env is null ? Environment.GetEnvironmentVariable(EmulateVariable)
            : env.TryGetValue(EmulateVariable, out var s) ? s : null;
        return v is "1" or "true" or "yes";
    }

    /// <summary>
    /// Resolves <paramref name="spec"/>: <c>cpu</c> gives null (the CPU Transformer runs), <c>auto</c> gives CUDA when
    /// present else null, <c>cuda[:N]</c> opens device N or throws one line when it is absent.
    /// </summary>
    public static GpuDevice? Open(DeviceSpec spec, bool? emulate = null)
    {
        if (spec.Kind == DeviceKind.Cpu) return null;
        var emulated = emulate ?? EmulationRequested();
        var context = emulated
            ? Context.Create(b => b.CPU(Emulation()))
            : Context.Create(b => b.Cuda());
        try
        {
            var devices = new List<Device>();
            if (emulated) foreach (var d in context.GetCPUDevices()) devices.Add(d);
            else foreach (var d in context.GetCudaDevices()) devices.Add(d);
            if (devices.Count == 0)
            {
                if (spec.Kind == DeviceKind.Auto) { context.Dispose(); return null; }
                throw MspgtException.ForSetting("--device", $"{spec}: no CUDA device found");
            }
            if (spec.Index >= devices.Count)
                throw MspgtException.ForSetting("--device",
                    $"{spec}: only {devices.Count} CUDA device(s) found (cuda:0..cuda:{devices.Count - 1})");
            var device = devices[spec.Index];
            var accelerator = device.CreateAccelerator(context);
            var name = emulated ? "emulated on CPU" : device.Name;
            return new GpuDevice(context, accelerator, emulated, $"cuda:{spec.Index} ({name})");
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An emulated device whose groups hold <paramref name="warpsPerGroup"/> warps of 32, as a GPU's do (tests of the
    /// warp-reducing kernels' indexing across warps of one group; <see cref="Open"/> emulates one warp to a group).
    /// </summary>
    internal static GpuDevice OpenEmulated(int warpsPerGroup)
    {
        var context = Context.Create(b => b.CPU(Emulation(warpsPerGroup)));
        try { return new GpuDevice(context, context.GetCPUDevices()[0].CreateAccelerator(context), true, $"cuda:0 (emulated on CPU, {warpsPerGroup} warps to a group)"); }
        catch { context.Dispose(); throw; }
    }

    /// <summary>Bytes the device can still allocate (emulation: the host's available memory).</summary>
    public long FreeBytes => Accelerator is CudaAccelerator cuda
        ? cuda.GetFreeMemory()
        : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Fails in one line before allocating when <paramref name="bytesNeeded"/> exceeds what is free.</summary>
    public void EnsureFits(long bytesNeeded, string what)
    {
        var free = FreeBytes;
        if (bytesNeeded > free)
            throw MspgtException.ForSetting("--device",
                $"{what} needs {bytesNeeded:N0} bytes on {Description} but only {free:N0} are free");
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
