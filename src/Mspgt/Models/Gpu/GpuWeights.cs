using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>One block's weights on the device, f32; biases and q/k norms only where the architecture has them.</summary>
public sealed class GpuLayerWeights
{
    public required MemoryBuffer1D<float, Stride1D.Dense> AttnNorm, Q, K, V, O, FfnNorm, Gate, Up, Down;
    public MemoryBuffer1D<float, Stride1D.Dense>? QBias, KBias, VBias, QNorm, KNorm;
}

/// <summary>
/// A model's weights uploaded once to the device as f32 (the parity mode): every matrix is decoded row block by row
/// block with the CPU's decoders (F32, BF16, F16 and GGUF Q8_0/Q4_0/K-quants alike), so the device multiplies by
/// exactly the values the CPU forward pass does. The size is checked against the device's free memory first.
/// </summary>
public sealed class GpuWeights : IDisposable
{
    /// <summary>Rows decoded per host-to-device copy (bounds the host staging buffer).</summary>
    const long StagingFloats = 1 << 22;

    public MemoryBuffer1D<float, Stride1D.Dense> Embedding { get; }
    /// <summary>The unembedding; the same buffer as <see cref="Embedding"/> when tied.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Output { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> FinalNorm { get; }
    public GpuLayerWeights[] Layers { get; }
    public long Bytes { get; }
    readonly List<MemoryBuffer> owned = [];

    GpuWeights(Accelerator a, ModelWeights w, long bytes)
    {
        Bytes = bytes;
        var staging = new float[StagingFloats];
        Embedding = Matrix(a, w.Embedding, staging);
        Output = ReferenceEquals(w.Output, w.Embedding) ? Embedding : Matrix(a, w.Output, staging);
        FinalNorm = Vector(a, w.FinalNorm)!;
        Layers = w.Layers.Select(L => new GpuLayerWeights
        {
            AttnNorm = Vector(a, L.AttnNorm)!, FfnNorm = Vector(a, L.FfnNorm)!,
            Q = Matrix(a, L.Q, staging), K = Matrix(a, L.K, staging), V = Matrix(a, L.V, staging), O = Matrix(a, L.O, staging),
            Gate = Matrix(a, L.Gate, staging), Up = Matrix(a, L.Up, staging), Down = Matrix(a, L.Down, staging),
            QBias = Vector(a, L.QBias), KBias = Vector(a, L.KBias), VBias = Vector(a, L.VBias),
            QNorm = Vector(a, L.QNorm), KNorm = Vector(a, L.KNorm),
        }).ToArray();
    }

    /// <summary>Device bytes the f32 weights take (a tied unembedding counted once).</summary>
    public static long BytesNeeded(ModelWeights w)
    {
        static long M(Numerics.WeightMatrix m) => (long)m.Rows * m.Cols * sizeof(float);
        static long V(float[]? v) => (v?.Length ?? 0) * (long)sizeof(float);
        long n = M(w.Embedding) + (ReferenceEquals(w.Output, w.Embedding) ? 0 : M(w.Output)) + V(w.FinalNorm);
        foreach (var L in w.Layers)
            n += M(L.Q) + M(L.K) + M(L.V) + M(L.O) + M(L.Gate) + M(L.Up) + M(L.Down) + V(L.AttnNorm) + V(L.FfnNorm)
                 + V(L.QBias) + V(L.KBias) + V(L.VBias) + V(L.QNorm) + V(L.KNorm);
        return n;
    }

    /// <summary>
    /// Uploads <paramref name="w"/> after checking that it and <paramref name="extraBytes"/> (activations, KV cache)
    /// fit: a model that does not fit fails in one line before anything is allocated.
    /// </summary>
    public static GpuWeights Upload(GpuDevice device, ModelWeights w, long extraBytes)
    {
        long bytes = BytesNeeded(w);
        device.EnsureFits(bytes + extraBytes, "the model's weights in f32 and the forward pass's buffers");
        return new GpuWeights(device.Accelerator, w, bytes);
    }

    MemoryBuffer1D<float, Stride1D.Dense> Matrix(Accelerator a, Numerics.WeightMatrix m, float[] staging)
    {
        var buffer = a.Allocate1D<float>((long)m.Rows * m.Cols);
        owned.Add(buffer);
        int rowsPer = (int)Math.Max(1, Math.Min(m.Rows, staging.Length / m.Cols));
        for (int r = 0; r < m.Rows; r += rowsPer)
        {
            int n = Math.Min(rowsPer, m.Rows - r);
            var chunk = staging.AsSpan(0, n * m.Cols);
            if (m.Cols > staging.Length) chunk = new float[m.Cols];
            m.DecodeRows(r, n, chunk);
            ((ArrayView<float>)buffer.View).SubView((long)r * m.Cols, (long)n * m.Cols).CopyFromCPU((ReadOnlySpan<float>)chunk);
        }
        return buffer;
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
