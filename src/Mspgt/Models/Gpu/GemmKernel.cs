using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Matrix product on the device without cuBLAS (emulation, or no libcublas found): row-major C[m,n] = A[m,k]·B[n,k]ᵀ,
/// one thread per output element, summed in k order so results are deterministic. The 16-bit form reads bf16/f16
/// inputs (<see cref="HalfBits"/>), widens each exactly and accumulates in f32, as cublasGemmEx with
/// CUBLAS_COMPUTE_32F does (in its own summation order).
/// </summary>
public sealed class GemmKernel
{
    readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> kernel;
    readonly Action<Index2D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, int, int, int> kernel16;
    readonly Accelerator accelerator;

    public GemmKernel(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        kernel = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(Kernel);
        kernel16 = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, int, int, int>(Kernel16);
    }

    static void Kernel(Index2D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int k)
    {
        int row = index.X, col = index.Y, n = (int)(c.Length / (a.Length / k));
        float sum = 0;
        long ao = (long)row * k, bo = (long)col * k;
        for (int i = 0; i < k; i++) sum += a[ao + i] * b[bo + i];
        c[(long)row * n + col] = sum;
    }

    static void Kernel16(Index2D index, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c, int n, int k, int code)
    {
        int row = index.X, col = index.Y;
        float sum = 0;
        long ao = (long)row * k, bo = (long)col * k;
        if (code == HalfBits.Bf16)
            for (int i = 0; i < k; i++) sum += HalfBits.Bf16ToFloat(a[ao + i]) * HalfBits.Bf16ToFloat(b[bo + i]);
        else
            for (int i = 0; i < k; i++) sum += HalfBits.F16ToFloat(a[ao + i]) * HalfBits.F16ToFloat(b[bo + i]);
        c[(long)row * n + col] = sum;
    }

    public void MatMulABt(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k)
    {
        if (a.Length != (long)m * k || b.Length != (long)n * k || c.Length != (long)m * n)
            throw new ArgumentException($"GEMM shapes do not match buffers: m={m} n={n} k={k}");
        kernel(new Index2D(m, n), a, b, c, k);
    }

    /// <summary>As <see cref="MatMulABt"/> with A and B as 16-bit patterns of format <paramref name="code"/> (<see cref="HalfBits"/>).</summary>
    public void MatMulABt16(ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c, int m, int n, int k, int code)
    {
        if (a.Length != (long)m * k || b.Length != (long)n * k || c.Length != (long)m * n)
            throw new ArgumentException($"GEMM shapes do not match buffers: m={m} n={n} k={k}");
        kernel16(new Index2D(m, n), a, b, c, n, k, code);
    }
}
