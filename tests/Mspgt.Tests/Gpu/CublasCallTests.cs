using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mspgt.Models.Gpu;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// The cuBLAS calls as made, against a host implementation of what cuBLAS documents for them: column-major storage,
/// op(A) m × k with leading dimension lda (≥ m untransposed, ≥ k transposed), C = α·op(A)·op(B) + β·C, the data and
/// compute types of cublasGemmEx. The emulator replaces cuBLAS with an ILGPU kernel, so without this the transposes,
/// dimensions and leading dimensions handed to the library (row-major C = A·Bᵀ expressed column-major) would first
/// meet cuBLAS on a GPU. Pointers are host pointers here; the functions are handed to <see cref="Cublas"/> by name.
/// </summary>
public unsafe class CublasCallTests
{
    const int Success = 0, InvalidValue = 7, NotSupported = 15;   // cublasStatus_t
    const int OpN = 0, OpT = 1, R32F = 0, R16F = 2, R16BF = 14, Compute32F = 68;

    [ThreadStatic] static int mathMode;

    static nint Export(string name) => name switch
    {
        "cublasCreate_v2" => (nint)(delegate* unmanaged<nint*, int>)&Create,
        "cublasDestroy_v2" => (nint)(delegate* unmanaged<nint, int>)&Destroy,
        "cublasSetStream_v2" => (nint)(delegate* unmanaged<nint, nint, int>)&SetStream,
        "cublasSetMathMode" => (nint)(delegate* unmanaged<nint, int, int>)&SetMathMode,
        "cublasSgemm_v2" => (nint)(delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int>)&Sgemm,
        "cublasDgemm_v2" => (nint)(delegate* unmanaged<nint, int, int, int, int, int, double*, nint, int, nint, int, double*, nint, int, int>)&Dgemm,
        "cublasGemmEx" => (nint)(delegate* unmanaged<nint, int, int, int, int, int, void*, nint, int, int, nint, int, int, void*, nint, int, int, int, int, int>)&GemmEx,
        _ => throw new EntryPointNotFoundException(name),
    };

    [UnmanagedCallersOnly] static int Create(nint* handle) { *handle = 42; mathMode = -1; return Success; }
    [UnmanagedCallersOnly] static int Destroy(nint handle) => handle == 42 ? Success : InvalidValue;
    [UnmanagedCallersOnly] static int SetStream(nint handle, nint stream) => handle == 42 ? Success : InvalidValue;
    [UnmanagedCallersOnly] static int SetMathMode(nint handle, int mode) { mathMode = mode; return handle == 42 ? Success : InvalidValue; }

    [UnmanagedCallersOnly]
    static int Sgemm(nint h, int ta, int tb, int m, int n, int k, float* alpha, nint a, int lda, nint b, int ldb, float* beta, nint c, int ldc) =>
        Gemm(h, ta, tb, m, n, k, *alpha, *beta, (p, i) => ((float*)p)[i], a, lda, b, ldb, c, ldc, (p, i, v) => ((float*)p)[i] = (float)v, (p, i) => ((float*)p)[i]);

    [UnmanagedCallersOnly]
    static int Dgemm(nint h, int ta, int tb, int m, int n, int k, double* alpha, nint a, int lda, nint b, int ldb, double* beta, nint c, int ldc) =>
        Gemm(h, ta, tb, m, n, k, *alpha, *beta, (p, i) => ((double*)p)[i], a, lda, b, ldb, c, ldc, (p, i, v) => ((double*)p)[i] = v, (p, i) => ((double*)p)[i]);

    [UnmanagedCallersOnly]
    static int GemmEx(nint h, int ta, int tb, int m, int n, int k, void* alpha, nint a, int aType, int lda, nint b, int bType, int ldb,
        void* beta, nint c, int cType, int ldc, int computeType, int algo)
    {
        // What mspgt asks for: 16-bit inputs of one type, an f32 output, f32 compute (alpha, beta floats).
        if (aType != bType || aType is not (R16BF or R16F) || cType != R32F || computeType != Compute32F) return NotSupported;
        Func<nint, long, double> read = aType == R16BF
            ? (p, i) => BitConverter.UInt32BitsToSingle((uint)((ushort*)p)[i] << 16)
            : (p, i) => (double)BitConverter.UInt16BitsToHalf(((ushort*)p)[i]);
        return Gemm(h, ta, tb, m, n, k, *(float*)alpha, *(float*)beta, read, a, lda, b, ldb, c, ldc,
            (p, i, v) => ((float*)p)[i] = (float)v, (p, i) => ((float*)p)[i]);
    }

    // C = α·op(A)·op(B) + β·C, column-major; op(X)[i, l] = X[i + l·ld] untransposed, X[l + i·ld] transposed.
    static int Gemm(nint h, int ta, int tb, int m, int n, int k, double alpha, double beta, Func<nint, long, double> read,
        nint a, int lda, nint b, int ldb, nint c, int ldc, Action<nint, long, double> write, Func<nint, long, double> readC)
    {
        if (h != 42 || ta is not (OpN or OpT) || tb is not (OpN or OpT) || m < 0 || n < 0 || k < 0) return InvalidValue;
        if (lda < Math.Max(1, ta == OpN ? m : k) || ldb < Math.Max(1, tb == OpN ? k : n) || ldc < Math.Max(1, m)) return InvalidValue;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int l = 0; l < k; l++)
                {
                    double x = read(a, ta == OpN ? i + (long)l * lda : l + (long)i * lda);
                    double y = read(b, tb == OpN ? l + (long)j * ldb : j + (long)l * ldb);
                    sum += x * y;
                }
                long o = i + (long)j * ldc;
                write(c, o, alpha * sum + (beta == 0 ? 0 : beta * readC(c, o)));   // β = 0: C is not read (it may be garbage)
            }
        return Success;
    }

    static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)Math.Round(rng.NextDouble() * 16 - 8) / 4).ToArray();   // exact in bf16 and f16
    }

    // Row-major C[m, n] = A[m, k]·B[n, k]ᵀ, the linear layer the wrapper promises.
    static double[] ABt(float[] a, float[] b, int m, int n, int k)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int l = 0; l < k; l++) c[i * n + j] += (double)a[i * k + l] * b[j * k + l];
        return c;
    }

    [Fact]
    public void HandleIsInFullF32MathMode()
    {
        using var cublas = Cublas.FromExports(Export);
        Assert.Equal(Cublas.DefaultMath, mathMode);
    }

    [Theory]
    [InlineData(3, 5, 4)]
    [InlineData(1, 7, 2)]
    [InlineData(6, 1, 9)]
    public void MatMulABtIsTheRowMajorLinearLayer(int m, int n, int k)
    {
        var (a, b) = (Values(m * k, 1), Values(n * k, 2));
        var c = new float[m * n];
        Array.Fill(c, float.NaN);   // β = 0 must not read it
        using var cublas = Cublas.FromExports(Export);
        fixed (float* pa = a, pb = b, pc = c) cublas.MatMulABt((nint)pa, (nint)pb, (nint)pc, m, n, k);
        Assert.Equal(ABt(a, b, m, n, k), c.Select(v => (double)v).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MatMulABt16ReadsItsInputType(bool bf16)
    {
        const int m = 4, n = 3, k = 5;
        var (a, b) = (Values(m * k, 3), Values(n * k, 4));
        ushort Bits(float v) => bf16 ? (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16) : BitConverter.HalfToUInt16Bits((Half)v);
        var (ah, bh) = (a.Select(Bits).ToArray(), b.Select(Bits).ToArray());
        var c = new float[m * n];
        using var cublas = Cublas.FromExports(Export);
        fixed (ushort* pa = ah, pb = bh) fixed (float* pc = c)
            cublas.MatMulABt16((nint)pa, (nint)pb, (nint)pc, m, n, k, bf16 ? Cublas.R16BF : Cublas.R16F);
        Assert.Equal(ABt(a, b, m, n, k), c.Select(v => (double)v).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gram64GivesBothForms(bool sampleForm)
    {
        const int n = 5, d = 3;   // x row-major n × d
        var x = Values(n * d, 5).Select(v => (double)v).ToArray();
        int p = sampleForm ? n : d;
        var g = new double[p * p];
        using var cublas = Cublas.FromExports(Export);
        fixed (double* px = x, pg = g) cublas.Gram64((nint)px, (nint)pg, n, d, sampleForm);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
            {
                double want = 0;
                if (sampleForm) for (int t = 0; t < d; t++) want += x[i * d + t] * x[j * d + t];
                else for (int t = 0; t < n; t++) want += x[t * d + i] * x[t * d + j];
                Assert.Equal(want, g[i * p + j]);
            }
    }

    [Fact]
    public void AFailedCallNamesItsFunctionAndStatus()
    {
        using var cublas = Cublas.FromExports(Export);
        var a = new float[4];
        fixed (float* pa = a)
        {
            nint p = (nint)pa;
            // A negative dimension is CUBLAS_STATUS_INVALID_VALUE.
            var e = Assert.Throws<InvalidOperationException>(() => cublas.MatMulABt(p, p, p, -1, 1, 1));
            Assert.Contains("cublasSgemm_v2", e.Message);
            Assert.Contains($"status {InvalidValue}", e.Message);
        }
    }
}
