using System.Runtime.InteropServices;

namespace Mspgt.Models.Gpu;

/// <summary>
/// cuBLAS found at run time (no build-time dependency): probes libcublas.so.13, .so.12, then .so. Column-major like
/// all of cuBLAS; enum values from /work/shared/docs/gpu-notes.md (measured on the GPU machine) and NVIDIA's
/// cublasMath_t (CUBLAS_DEFAULT_MATH = 0). The handle's math mode is set to CUBLAS_DEFAULT_MATH explicitly: SGEMM then
/// computes in full f32, never TF32 (which needs CUBLAS_TF32_TENSOR_OP_MATH or a FAST_TF32 compute type), so
/// <c>--dtype f32</c> stays the parity mode whatever a library default or another caller might have chosen.
/// </summary>
public sealed unsafe class Cublas : IDisposable
{
    public const int OpN = 0, OpT = 1;
    public const int R32F = 0, R16F = 2, R16BF = 14, Compute32F = 68, GemmDefault = -1, DefaultMath = 0;

    static readonly string[] Candidates = ["libcublas.so.13", "libcublas.so.12", "libcublas.so"];

    readonly nint handle;
    readonly Action? release;   // frees the native library once the handle is destroyed
    readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int> sgemm;
    readonly delegate* unmanaged<nint, int, int, int, int, int, void*, nint, int, int, nint, int, int, void*, nint, int, int, int, int, int> gemmEx;
    readonly delegate* unmanaged<nint, int, int, int, int, int, double*, nint, int, nint, int, double*, nint, int, int> dgemm;
    readonly delegate* unmanaged<nint, int> destroy;
    readonly delegate* unmanaged<nint, nint, int> setStream;

    /// <param name="export">The address of one of cuBLAS's exported functions, by name.</param>
    /// <param name="release">Called once the handle is destroyed (frees the loaded library).</param>
    Cublas(Func<string, nint> export, Action? release)
    {
        this.release = release;
        var create = (delegate* unmanaged<nint*, int>)export("cublasCreate_v2");
        sgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int>)
            export("cublasSgemm_v2");
        gemmEx = (delegate* unmanaged<nint, int, int, int, int, int, void*, nint, int, int, nint, int, int, void*, nint, int, int, int, int, int>)
            export("cublasGemmEx");
        dgemm = (delegate* unmanaged<nint, int, int, int, int, int, double*, nint, int, nint, int, double*, nint, int, int>)
            export("cublasDgemm_v2");
        destroy = (delegate* unmanaged<nint, int>)export("cublasDestroy_v2");
        setStream = (delegate* unmanaged<nint, nint, int>)export("cublasSetStream_v2");
        var setMathMode = (delegate* unmanaged<nint, int, int>)export("cublasSetMathMode");
        nint h;
        Check(create(&h), "cublasCreate_v2");
        handle = h;
        Check(setMathMode(handle, DefaultMath), "cublasSetMathMode");
    }

    /// <summary>Loads cuBLAS, or null when no candidate library is found (the ILGPU kernel is used instead).</summary>
    public static Cublas? TryLoad()
    {
        foreach (var name in Candidates)
            if (NativeLibrary.TryLoad(name, out var lib)) return new Cublas(f => NativeLibrary.GetExport(lib, f), () => NativeLibrary.Free(lib));
        return null;
    }

    /// <summary>cuBLAS from functions given by name (tests put a host implementation of its documented semantics here).</summary>
    internal static Cublas FromExports(Func<string, nint> export) => new(export, null);

    /// <summary>
    /// Queues every later call on <paramref name="stream"/> (a CUstream; 0 is the context's legacy default stream),
    /// so that it runs in order with the kernels launched there and needs no synchronisation around it.
    /// </summary>
    public void UseStream(nint stream) => Check(setStream(handle, stream), "cublasSetStream_v2");

    /// <summary>
    /// Row-major C[m,n] = A[m,k]·B[n,k]ᵀ (a linear layer with weights [out,in]) on device pointers. In column-major
    /// terms that is Cᵀ(n×m) = op_T(B viewed k×n)·(A viewed k×m).
    /// </summary>
    public void MatMulABt(nint a, nint b, nint c, int m, int n, int k)
    {
        float one = 1, zero = 0;
        Check(sgemm(handle, OpT, OpN, n, m, k, &one, b, k, a, k, &zero, c, n), "cublasSgemm_v2");
    }

    /// <summary>
    /// As <see cref="MatMulABt"/> with 16-bit inputs (<see cref="R16BF"/> or <see cref="R16F"/> for both A and B),
    /// F32 output (C in CUDA_R_32F) and CUBLAS_COMPUTE_32F (f32 accumulation; alpha and beta are floats).
    /// </summary>
    public void MatMulABt16(nint a, nint b, nint c, int m, int n, int k, int inputType)
    {
        float one = 1, zero = 0;
        Check(gemmEx(handle, OpT, OpN, n, m, k, &one, b, inputType, k, a, inputType, k, &zero, c, R32F, n,
            Compute32F, GemmDefault), "cublasGemmEx");
    }

    /// <summary>
    /// float64 g = x·xᵀ (n × n) when <paramref name="sampleForm"/>, else xᵀ·x (d × d), x row-major n × d on the device.
    /// Row-major x is column-major A = xᵀ (d × n, lda = d), so x·xᵀ = AᵀA and xᵀx = AAᵀ; a symmetric result reads the
    /// same in either order (cuBLAS need not make it exactly symmetric: the caller mirrors one triangle).
    /// </summary>
    public void Gram64(nint x, nint g, int n, int d, bool sampleForm)
    {
        double one = 1, zero = 0;
        if (sampleForm) Check(dgemm(handle, OpT, OpN, n, n, d, &one, x, d, x, d, &zero, g, n), "cublasDgemm_v2");
        else Check(dgemm(handle, OpN, OpT, d, d, n, &one, x, d, x, d, &zero, g, d), "cublasDgemm_v2");
    }

    static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} returned cuBLAS status {status}");
    }

    public void Dispose()
    {
        destroy(handle);
        release?.Invoke();
    }
}
