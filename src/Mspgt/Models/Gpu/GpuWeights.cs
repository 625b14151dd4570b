using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// A weight matrix [rows, cols] on the device, row-major as a linear layer stores it, in the pass's dtype: f32
/// values, or the raw bits of bf16/f16 (what cuBLAS reads as CUDA_R_16BF / CUDA_R_16F).
/// </summary>
public sealed class DeviceMatrix(int rows, int cols, ComputeType type,
    MemoryBuffer1D<float, Stride1D.Dense>? f32, MemoryBuffer1D<ushort, Stride1D.Dense>? half)
{
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;
    public ComputeType Type { get; } = type;
    /// <summary>The values when <see cref="Type"/> is f32.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense>? F32 { get; } = f32;
    /// <summary>The 16-bit patterns when <see cref="Type"/> is bf16 or f16.</summary>
    public MemoryBuffer1D<ushort, Stride1D.Dense>? Half { get; } = half;
    /// <summary>Bytes it takes on the device.</summary>
    public long Bytes => (long)Rows * Cols * GpuWeights.ElementBytes(Type);
}

/// <summary>One block's weights on the device; matrices in the pass's dtype, vectors (norms, biases) always f32.</summary>
public sealed class GpuLayerWeights
{
    public required DeviceMatrix Q, K, V, O, Gate, Up, Down;
    public required MemoryBuffer1D<float, Stride1D.Dense> AttnNorm, FfnNorm;
    public MemoryBuffer1D<float, Stride1D.Dense>? QBias, KBias, VBias, QNorm, KNorm;
}

/// <summary>
/// A model's weights uploaded once to the device. Every matrix is decoded row block by row block with the CPU's
/// decoders (F32, BF16, F16 and GGUF Q8_0/Q4_0/K-quants alike) and then stored as f32 (the parity mode: the device
/// multiplies by exactly the values the CPU forward pass does) or rounded to bf16/f16 (half the bytes; a BF16
/// checkpoint uploaded as bf16 is stored bit for bit). Norm and bias vectors stay f32 (they are tiny and feed f32
/// ops). The size, in the stored type, is checked against the device's free memory first.
/// </summary>
public sealed class GpuWeights : IDisposable
{
    /// <summary>Rows decoded per host-to-device copy (bounds the host staging buffer).</summary>
    const long StagingFloats = 1 << 22;

    public ComputeType Type { get; }
    public DeviceMatrix Embedding { get; }
    /// <summary>The unembedding; the same matrix as <see cref="Embedding"/> when tied.</summary>
    public DeviceMatrix Output { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> FinalNorm { get; }
    public GpuLayerWeights[] Layers { get; }
    public long Bytes { get; }
    readonly List<MemoryBuffer> owned = [];

    GpuWeights(Accelerator a, ModelWeights w, ComputeType type, long bytes)
    {
        (Type, Bytes) = (type, bytes);
        var staging = new float[StagingFloats];
        ushort[] bits = type == ComputeType.F32 ? [] : new ushort[StagingFloats];
        DeviceMatrix M(Numerics.WeightMatrix m) => Matrix(a, m, type, staging, bits);
        Embedding = M(w.Embedding);
        Output = ReferenceEquals(w.Output, w.Embedding) ? Embedding : M(w.Output);
        FinalNorm = Vector(a, w.FinalNorm)!;
        Layers = w.Layers.Select(L => new GpuLayerWeights
        {
            AttnNorm = Vector(a, L.AttnNorm)!, FfnNorm = Vector(a, L.FfnNorm)!,
            Q = M(L.Q), K = M(L.K), V = M(L.V), O = M(L.O), Gate = M(L.Gate), Up = M(L.Up), Down = M(L.Down),
            QBias = Vector(a, L.QBias), KBias = Vector(a, L.KBias), VBias = Vector(a, L.VBias),
            QNorm = Vector(a, L.QNorm), KNorm = Vector(a, L.KNorm),
        }).ToArray();
    }

    public static int ElementBytes(ComputeType t) => t == ComputeType.F32 ? sizeof(float) : sizeof(ushort);

    /// <summary>Device bytes the weights take with matrices stored as <paramref name="type"/> (a tied unembedding counted once).</summary>
    public static long BytesNeeded(ModelWeights w, ComputeType type = ComputeType.F32)
    {
        int e = ElementBytes(type);
        long M(Numerics.WeightMatrix m) => (long)m.Rows * m.Cols * e;
        static long V(float[]? v) => (v?.Length ?? 0) * (long)sizeof(float);
        long n = M(w.Embedding) + (ReferenceEquals(w.Output, w.Embedding) ? 0 : M(w.Output)) + V(w.FinalNorm);
        foreach (var L in w.Layers)
            n += M(L.Q) + M(L.K) + M(L.V) + M(L.O) + M(L.Gate) + M(L.Up) + M(L.Down) + V(L.AttnNorm) + V(L.FfnNorm)
                 + V(L.QBias) + V(L.KBias) + V(L.VBias) + V(L.QNorm) + V(L.KNorm);
        return n;
    }

    /// <summary>
    /// Uploads <paramref name="w"/> with matrices as <paramref name="type"/> after checking that it and
    /// <paramref name="extraBytes"/> (activations, KV cache) fit: a model that does not fit fails in one line before
    /// anything is allocated.
    /// </summary>
    public static GpuWeights Upload(GpuDevice device, ModelWeights w, long extraBytes, ComputeType type = ComputeType.F32)
    {
        long bytes = BytesNeeded(w, type);
        device.EnsureFits(bytes + extraBytes, $"the model's weights in {DeviceChoice.Name(type)} and the forward pass's buffers");
        return new GpuWeights(device.Accelerator, w, type, bytes);
    }

    /// <summary>
    /// The weights a <paramref name="type"/> pass multiplies by, widened back to f32 on the host: every matrix
    /// rounded as the upload rounds it, vectors unchanged. The CPU forward pass over these is the reference that
    /// separates weight rounding from activation rounding (tests, <c>bench --parity</c>).
    /// </summary>
    public static ModelWeights AsStored(ModelWeights w, ComputeType type)
    {
        if (type == ComputeType.F32) return w;
        int code = HalfBits.Code(type);
        Numerics.WeightMatrix R(Numerics.WeightMatrix m)
        {
            var v = m.ToFloats();
            for (int i = 0; i < v.Length; i++) v[i] = HalfBits.ToFloat(HalfBits.FromFloat(v[i], code), code);
            return Numerics.WeightMatrix.FromFloats(m.Name, m.Rows, m.Cols, v);
        }
        var embedding = R(w.Embedding);
        return new ModelWeights
        {
            Embedding = embedding,
            Output = ReferenceEquals(w.Output, w.Embedding) ? embedding : R(w.Output),
            FinalNorm = w.FinalNorm,
            RopeFreqFactors = w.RopeFreqFactors,
            Layers = w.Layers.Select(L => new LayerWeights
            {
                AttnNorm = L.AttnNorm, FfnNorm = L.FfnNorm, QBias = L.QBias, KBias = L.KBias, VBias = L.VBias,
                QNorm = L.QNorm, KNorm = L.KNorm,
                Q = R(L.Q), K = R(L.K), V = R(L.V), O = R(L.O), Gate = R(L.Gate), Up = R(L.Up), Down = R(L.Down),
            }).ToArray(),
        };
    }

    DeviceMatrix Matrix(Accelerator a, Numerics.WeightMatrix m, ComputeType type, float[] staging, ushort[] bits)
    {
        long length = (long)m.Rows * m.Cols;
        MemoryBuffer1D<float, Stride1D.Dense>? f32 = null;
        MemoryBuffer1D<ushort, Stride1D.Dense>? half = null;
        if (type == ComputeType.F32) owned.Add(f32 = a.Allocate1D<float>(length));
        else owned.Add(half = a.Allocate1D<ushort>(length));
        int code = type == ComputeType.F32 ? -1 : HalfBits.Code(type);
        int rowsPer = (int)Math.Max(1, Math.Min(m.Rows, staging.Length / m.Cols));
        for (int r = 0; r < m.Rows; r += rowsPer)
        {
            int n = Math.Min(rowsPer, m.Rows - r);
            var chunk = staging.AsSpan(0, n * m.Cols);
            if (m.Cols > staging.Length) chunk = new float[m.Cols];
            m.DecodeRows(r, n, chunk);
            long offset = (long)r * m.Cols;
            if (f32 != null)
            {
                ((ArrayView<float>)f32.View).SubView(offset, chunk.Length).CopyFromCPU((ReadOnlySpan<float>)chunk);
                continue;
            }
            Span<ushort> h = m.Cols > bits.Length ? new ushort[chunk.Length] : bits.AsSpan(0, chunk.Length);
            for (int i = 0; i < chunk.Length; i++)
            {
                h[i] = HalfBits.FromFloat(chunk[i], code);
                // f16 tops out at 65504: a larger weight would silently become infinite.
                if (code == HalfBits.F16 && (h[i] & 0x7C00) == 0x7C00 && float.IsFinite(chunk[i]))
                    throw MspgtException.ForSetting("--dtype",
                        $"f16: tensor {m.Name} holds {chunk[i]:G6}, beyond f16's range (±65504); use bf16 or f32");
            }
            ((ArrayView<ushort>)half!.View).SubView(offset, h.Length).CopyFromCPU((ReadOnlySpan<ushort>)h);
        }
        return new DeviceMatrix(m.Rows, m.Cols, type, f32, half);
    }

    MemoryBuffer1D<float, Stride1D.Dense>? Vector(Accelerator a, float[]? v)
    {
        if (v == null) return null;
        var buffer = a.Allocate1D(v);
        owned.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var b in owned) b.Dispose();
        owned.Clear();
    }
}
