using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Device buffers for passes of up to <see cref="Capacity"/> rows; <see cref="Use"/> sets the pass's row count
/// and the views cover exactly those rows. The pattern, logits and staging buffers grow as passes need.
/// </summary>
internal sealed class GpuWorkspace : IDisposable
{
    readonly ModelConfig c;
    public int Capacity { get; }
    public int Tokens { get; private set; }
    readonly MemoryBuffer1D<int, Stride1D.Dense> ids, keyRows, positions;
    readonly MemoryBuffer1D<float, Stride1D.Dense> x, h, q, z, k, v, attnOut, mlpOut, gate, up, cos, sin, observed;
    MemoryBuffer1D<float, Stride1D.Dense>? pattern, logits, lastRows, staging;
    MemoryBuffer1D<double, Stride1D.Dense>? entropy, distance;

    public GpuWorkspace(Accelerator a, ModelConfig c, int capacity)
    {
        (this.c, Capacity, Tokens) = (c, capacity, capacity);
        long T = capacity;
        (ids, keyRows, positions) = (a.Allocate1D<int>(T), a.Allocate1D<int>(T), a.Allocate1D<int>(T));
        (x, h, attnOut, mlpOut) = (a.Allocate1D<float>(T * c.Dim), a.Allocate1D<float>(T * c.Dim), a.Allocate1D<float>(T * c.Dim), a.Allocate1D<float>(T * c.Dim));
        observed = a.Allocate1D<float>(T * c.Dim);
        (q, z) = (a.Allocate1D<float>(T * c.QDim), a.Allocate1D<float>(T * c.QDim));
        (k, v) = (a.Allocate1D<float>(T * c.KvDim), a.Allocate1D<float>(T * c.KvDim));
        (gate, up) = (a.Allocate1D<float>(T * c.Ffn), a.Allocate1D<float>(T * c.Ffn));
        (cos, sin) = (a.Allocate1D<float>(T * (c.HeadDim / 2)), a.Allocate1D<float>(T * (c.HeadDim / 2)));
    }

    /// <summary>Floats per row of the fixed buffers (the id, key row and position counted as one each).</summary>
    public static long FloatsPerToken(ModelConfig c) => 3 + 5L * c.Dim + 2L * c.QDim + 2L * c.KvDim + 2L * c.Ffn + c.HeadDim;

    /// <summary>Device bytes held now.</summary>
    public long Bytes => sizeof(float) * Capacity * FloatsPerToken(c)
        + new MemoryBuffer?[] { pattern, logits, lastRows, staging, entropy, distance }.Sum(b => b?.LengthInBytes ?? 0);

    public void Use(int tokens)
    {
        if (tokens > Capacity) throw new ArgumentException($"a pass of {tokens} rows in buffers of {Capacity}");
        Tokens = tokens;
    }

    ArrayView<float> Rows(MemoryBuffer1D<float, Stride1D.Dense> b, int width) => b.View.SubView(0, (long)Tokens * width);

    public ArrayView<int> Ids => ids.View.SubView(0, Tokens);
    /// <summary>Per row: where its document's key 0 is in the key buffer, and its absolute position (fused attention).</summary>
    public ArrayView<int> KeyRows => keyRows.View.SubView(0, Tokens);
    public ArrayView<int> Positions => positions.View.SubView(0, Tokens);
    public ArrayView<float> X => Rows(x, c.Dim);
    public ArrayView<float> H => Rows(h, c.Dim);
    public ArrayView<float> Q => Rows(q, c.QDim);
    public ArrayView<float> Z => Rows(z, c.QDim);
    public ArrayView<float> K => Rows(k, c.KvDim);
    public ArrayView<float> Vv => Rows(v, c.KvDim);
    public ArrayView<float> AttnOut => Rows(attnOut, c.Dim);
    public ArrayView<float> MlpOut => Rows(mlpOut, c.Dim);
    public ArrayView<float> Gate => Rows(gate, c.Ffn);
    public ArrayView<float> Up => Rows(up, c.Ffn);
    public ArrayView<float> Cos => Rows(cos, c.HeadDim / 2);
    /// <summary>Where <paramref name="n"/> observed floats wait for their copy to the host while the next kernels
    /// overwrite the activation they came from (<see cref="GpuTransformer"/>'s overlapped capture); room for a full
    /// pass at the residual stream's width, null for more.</summary>
    public ArrayView<float>? Observed(long n) => n <= observed.Length ? observed.View.SubView(0, n) : null;
    public ArrayView<float> Sin => Rows(sin, c.HeadDim / 2);

    /// <summary>Per-row entropy and distance [n] each.</summary>
    public (ArrayView<double> Entropy, ArrayView<double> Distance) Rows(Accelerator acc, int n) =>
        (Grow(acc, ref entropy, n), Grow(acc, ref distance, n));

    public ArrayView<float> Pattern(Accelerator acc, long n) => Grow(acc, ref pattern, n);
    public ArrayView<float> Logits(Accelerator acc, long n) => Grow(acc, ref logits, n);
    /// <summary>Each document's last row of the final norm, gathered for the unembedding.</summary>
    public ArrayView<float> LastRows(Accelerator acc, long n) => Grow(acc, ref lastRows, n);
    /// <summary>Values an edit uploads (a fill row, noise).</summary>
    public ArrayView<float> Staging(Accelerator acc, long n) => Grow(acc, ref staging, n);

    /// <summary>The first <paramref name="n"/> elements of a kept buffer, allocated anew in its place when shorter.</summary>
    internal static ArrayView<T> Grow<T>(Accelerator acc, ref MemoryBuffer1D<T, Stride1D.Dense>? b, long n) where T : unmanaged
    {
        if (b == null || b.Length < n) { b?.Dispose(); b = null; b = acc.Allocate1D<T>(n); }
        return b.View.SubView(0, n);
    }

    public void Dispose()
    {
        foreach (var b in new MemoryBuffer?[] { ids, keyRows, positions, x, h, q, z, k, v, attnOut, mlpOut, gate, up, cos, sin, observed, pattern, logits, lastRows, staging, entropy, distance })
            b?.Dispose();
    }
}
