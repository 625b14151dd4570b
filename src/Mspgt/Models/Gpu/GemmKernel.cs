using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Matrix product on the device without cuBLAS (emulation, or no libcublas found): row-major C[m,n] = A[m,k]·B[n,k]ᵀ,
/// one thread per output element, summed in k order so results are deterministic. The 16-bit form reads bf16/f16
/// inputs (<see cref="HalfBits"/>), widens each exactly and accumulates in f32, as cublasGemmEx with
/// CUBLAS_COMPUTE_32F does (in its own summation order). The float64 Gram form serves the signals (X·Xᵀ or XᵀX of a
/// centred sample matrix), as cublasDgemm does.
/// </summary>
public sealed class GemmKernel
{
    readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> kernel;
    readonly Action<Index2D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, int, int, int> kernel16;
    Action<Index2D, ArrayView<double>, ArrayView<double>, int, int, int>? gram64;   // loaded on first use (analyze only)
    readonly Accelerator accelerator;

    public GemmKernel(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        kernel = accelerator.LoadGroupedKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(Kernel);
        kernel16 = accelerator.LoadGroupedKernel<Index2D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, int, int, int>(Kernel16);
    }

    // g[i, j] = Σ_t x[i, t]·x[j, t] (sample form, x n × d, g n × n) or Σ_t x[t, i]·x[t, j] (feature form, g d × d).
    static void Gram64Kernel(Index2D index, ArrayView<double> x, ArrayView<double> g, int n, int d, int sampleForm)
    {
        int i = index.X, j = index.Y;
        double sum = 0;
        if (sampleForm != 0)
        {
            long io = (long)i * d, jo = (long)j * d;
            for (int t = 0; t < d; t++) sum += x[io + t] * x[jo + t];
            g[(long)i * n + j] = sum;
        }
        else
        {
            for (int t = 0; t < n; t++) sum += x[(long)t * d + i] * x[(long)t * d + j];
            g[(long)i * d + j] = sum;
        }
    }

    static void Kernel(Index2D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int k)
    {
        int col = index.X, row = index.Y, n = (int)(c.Length / (a.Length / k));
        float sum = 0;
        long ao = (long)row * k, bo = (long)col * k;
        for (int i = 0; i < k; i++) sum += a[ao + i] * b[bo + i];
        c[(long)row * n + col] = sum;
    }

    static void Kernel16(Index2D index, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c, int n, int k, int code)
    {
        int col = index.X, row = index.Y;
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
        InRowBlocks(m, (r0, rows) => kernel(new Index2D(n, rows), a.SubView((long)r0 * k, (long)rows * k), b, c.SubView((long)r0 * n, (long)rows * n), k));
    }

    /// <summary>
    /// Most rows one launch covers. An implicitly grouped Index2D launch is a grid of (⌈x / group⌉, y) groups, and
    /// CUDA allows 2³¹ − 1 along x but 65,535 along y (ILGPU checks it, and its CPU accelerator has the same limits):
    /// the columns, up to a 151,936-token vocabulary, go along x, the rows along y in blocks of at most this many.
    /// </summary>
    public const int MaxGridRows = 65_535;

    // launch(first row, rows) for consecutive blocks of at most MaxGridRows of the m rows.
    static void InRowBlocks(int m, Action<int, int> launch)
    {
        for (int r0 = 0; r0 < m; r0 += MaxGridRows) launch(r0, Math.Min(MaxGridRows, m - r0));
    }

    /// <summary>As <see cref="MatMulABt"/> with A and B as 16-bit patterns of format <paramref name="code"/> (<see cref="HalfBits"/>).</summary>
    public void MatMulABt16(ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c, int m, int n, int k, int code)
    {
        if (a.Length != (long)m * k || b.Length != (long)n * k || c.Length != (long)m * n)
            throw new ArgumentException($"GEMM shapes do not match buffers: m={m} n={n} k={k}");
        InRowBlocks(m, (r0, rows) => kernel16(new Index2D(n, rows), a.SubView((long)r0 * k, (long)rows * k), b, c.SubView((long)r0 * n, (long)rows * n), n, k, code));
    }

    /// <summary>g = x·xᵀ (n × n) when <paramref name="sampleForm"/>, else xᵀ·x (d × d), x row-major n × d, in float64.</summary>
    public void Gram64(ArrayView<double> x, int n, int d, bool sampleForm, ArrayView<double> g)
    {
        int p = sampleForm ? n : d;
        if (x.Length != (long)n * d || g.Length != (long)p * p)
            throw new ArgumentException($"Gram shapes do not match buffers: n={n} d={d}");
        if (p > MaxGridRows) throw new ArgumentException($"a {p} × {p} Gram matrix is beyond one launch's {MaxGridRows} grid rows");
        gram64 ??= accelerator.LoadGroupedKernel<Index2D, ArrayView<double>, ArrayView<double>, int, int, int>(Gram64Kernel);
        gram64(new Index2D(p, p), x, g, n, d, sampleForm ? 1 : 0);
    }
}
