namespace Mspgt.Models.Gpu;

/// <summary>The number format a device forward pass stores weights and activations in (<c>--dtype</c>).</summary>
public enum ComputeType { F32, Bf16, F16 }

/// <summary>
/// Opens the forward pass where <c>--device</c> and <c>--dtype</c> say: the CPU <see cref="Transformer"/>, or a
/// <see cref="GpuTransformer"/> on a CUDA device (ILGPU's CPU accelerator under <c>MSPGT_GPU_EMULATE=1</c>).
/// </summary>
public static class DeviceChoice
{
    /// <summary>Parses a <c>--dtype</c> value (null when not given).</summary>
    public static ComputeType? ParseDtype(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "f32" or "fp32" or "float32" => ComputeType.F32,
        "bf16" or "bfloat16" => ComputeType.Bf16,
        "f16" or "fp16" or "float16" => ComputeType.F16,
        _ => throw MspgtException.ForSetting("--dtype", $"'{text}' is not a dtype (expected bf16, f16 or f32)"),
    };

    public static string Name(ComputeType t) => t switch { ComputeType.Bf16 => "bf16", ComputeType.F16 => "f16", _ => "f32" };

    /// <summary>The dtype on a CUDA device when <c>--dtype</c> is not given (the default; f32 is the parity mode).</summary>
    public const ComputeType CudaDefault = ComputeType.Bf16;

    /// <summary>
    /// The decoder for <paramref name="spec"/>: <c>cpu</c> the CPU one; <c>auto</c> CUDA when a device opens, else the
    /// CPU with a note; <c>cuda[:N]</c> that device or one line (no driver, no device, too little memory). On CUDA the
    /// weights are stored and multiplied in <paramref name="dtype"/> (default <see cref="CudaDefault"/>). The CPU
    /// computes in f32 only: bf16/f16 with <c>--device cpu</c> are refused in one line rather than silently run as
    /// f32, and <c>auto</c>'s fall-back to the CPU says in its note that it runs f32.
    /// </summary>
    public static IDecoder Open(ModelConfig config, ModelWeights weights, DeviceSpec spec, ComputeType? dtype = null,
        Action<string>? note = null, int plannedTokens = 1024)
    {
        if (spec.Kind == DeviceKind.Cpu && dtype is ComputeType t && t != ComputeType.F32)
            throw MspgtException.ForSetting("--dtype", $"{Name(t)} runs on --device cuda only: the CPU forward pass stores weights and computes in f32 (use --dtype f32 or --device cuda)");
        string cpuDtype = dtype is ComputeType d && d != ComputeType.F32 ? $" in f32, not {Name(d)}" : "";
        GpuDevice? device;
        if (spec.Kind == DeviceKind.Auto)
        {
            try { device = GpuDevice.Open(spec); }
            catch (Exception e) when (e is MspgtException or DllNotFoundException or InvalidOperationException or TypeInitializationException)
            {
                note?.Invoke($"--device auto: no usable CUDA device ({e.Message}); running on the CPU{cpuDtype}");
                return new Transformer(config, weights);
            }
            if (device == null)
            {
                note?.Invoke($"--device auto: no CUDA device found; running on the CPU{cpuDtype}");
                return new Transformer(config, weights);
            }
        }
        else device = GpuDevice.Open(spec);
        if (device == null) return new Transformer(config, weights);
        try { return GpuTransformer.Create(device, config, weights, plannedTokens, dtype ?? CudaDefault); }
        catch
        {
            device.Dispose();
            throw;
        }
    }
}
