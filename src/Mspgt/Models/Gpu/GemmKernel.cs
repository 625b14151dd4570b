using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Matrix product on the device without cuBLAS (emulation, or no libcublas found): row-major C[m,n] = A[m,k]·B[n,k]ᵀ,
/// one thread per output element, summed in k order so results are deterministic.
/// </summary>
public sealed class GemmKernel
{
    readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> kernel;
    readonly Accelerator accelerator;

    public GemmKernel(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        kernel = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(Kernel);
    }

    static void Kernel(Index2D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int k)
    {
        int row = index.X, col = index.Y, n = (int)(c.Length / (a.Length / k));
        float sum = 0;
        long ao = (long)row * k, bo = (long)col * k;
        for (int i = 0; i < k; i++) sum += a[ao + i] * b[bo + i];
        c[(long)row * n + col] = sum;
    }

    public void MatMulABt(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k)
    {
        if (a.Length != (long)m * k || b.Length != (long)n * k || c.Length != (long)m * n)
            throw new ArgumentException($"GEMM shapes do not match buffers: m={m} n={n} k={k}");
        kernel(new Index2D(m, n), a, b, c, k);
    }
}
