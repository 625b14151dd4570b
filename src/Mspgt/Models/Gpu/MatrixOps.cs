using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// The two operations of the forward pass that read a weight matrix, in the dtype it is stored in: the linear
/// product y = x·Wᵀ and the embedding gather. f32: cuBLAS SGEMM (default math mode, no TF32) or the ILGPU kernel.
/// bf16/f16: the f32 activations are rounded to the dtype by a kernel into a scratch buffer, then multiplied with
/// 16-bit inputs and f32 accumulation and output (cublasGemmEx with CUBLAS_COMPUTE_32F, or the ILGPU 16-bit kernel
/// with the same input rounding). Everything else (norms, softmax, attention, the residual stream, the KV cache)
/// stays f32.
/// </summary>
public sealed class MatrixOps : IDisposable
{
    public ComputeType Type { get; }
    readonly Accelerator acc;
    readonly Cublas? cublas;
    readonly GemmKernel gemm;
    readonly Action<Index1D, ArrayView<float>, ArrayView<ushort>, int> narrow;
    readonly RowKernels rows;
    readonly Action<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, int, int> gather16;
    MemoryBuffer1D<ushort, Stride1D.Dense>? scratch;
    /// <summary>Device address and length of the f32 rows whose rounded copy the scratch holds.</summary>
    (nint Address, long Length) narrowed;

    /// <param name="cublas">cuBLAS when the products run there (a real device with libcublas), else null.</param>
    public MatrixOps(Accelerator acc, RowKernels rows, Cublas? cublas, ComputeType type)
    {
        (this.acc, this.rows, this.cublas, Type) = (acc, rows, cublas, type);
        gemm = new GemmKernel(acc);
        narrow = acc.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<ushort>, int>(NarrowKernel);
        gather16 = acc.LoadGroupedKernel<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, int, int>(Gather16Kernel);
    }

    /// <summary>Device bytes of the 16-bit activation scratch for <paramref name="tokens"/> rows (0 in f32).</summary>
    public static long ScratchBytes(ModelConfig c, long tokens, ComputeType type) =>
        type == ComputeType.F32 ? 0 : sizeof(ushort) * tokens * Math.Max(c.Dim, Math.Max(c.QDim, c.Ffn));

    /// <summary>
    /// y[T, W.Rows] = x[T, W.Cols] · Wᵀ, W as stored on the device. <paramref name="sameInput"/>: x is the input of
    /// the previous product and nothing has written it since (k and v after q, up after gate), so in bf16/f16 its
    /// rounded copy from that product is used again instead of being made anew (checked: the same rows of the same
    /// buffer, else it is made anyway).
    /// </summary>
    public void MatMulABt(ArrayView<float> x, int T, DeviceMatrix w, ArrayView<float> y, bool sameInput = false)
    {
        if (w.Type != Type) throw new ArgumentException($"a {w.Type} matrix in a {Type} pass");
        int n = w.Rows, k = w.Cols;
        var xv = x.SubView(0, (long)T * k);
        var yv = y.SubView(0, (long)T * n);
        if (Type == ComputeType.F32)
        {
            if (cublas == null) { gemm.MatMulABt(xv, w.F32!.View, yv, T, n, k); return; }
            // No synchronisation around cuBLAS: it is queued on the kernels' own stream (GpuTransformer sets it), so
            // it reads what the kernels before it wrote and the kernels after it read what it wrote, and the host
            // keeps queueing ahead of the device (a context synchronisation per product left the device idle while
            // the next launches were made: two per product, 14 per block).
            cublas.MatMulABt(Ptr(xv), Ptr<float>(w.F32!.View), Ptr(yv), T, n, k);
            return;
        }
        int code = HalfBits.Code(Type);
        var xh = Scratch((long)T * k);
        var source = (Ptr(xv), xv.Length);
        if (!sameInput || narrowed != source) narrow((int)xv.Length, xv, xh, code);
        narrowed = source;
        if (cublas == null) { gemm.MatMulABt16(xh, w.Half!.View, yv, T, n, k, code); return; }
        cublas.MatMulABt16(Ptr(xh), Ptr<ushort>(w.Half!.View), Ptr(yv), T, n, k, Type == ComputeType.Bf16 ? Cublas.R16BF : Cublas.R16F);
    }

    /// <summary>g = x·xᵀ (n × n) when <paramref name="sampleForm"/>, else xᵀ·x (d × d), x row-major n × d, in float64
    /// (cublasDgemm, or the ILGPU kernel): the signals' Gram matrices, whatever the pass's dtype.</summary>
    public void Gram64(ArrayView<double> x, int n, int d, bool sampleForm, ArrayView<double> g)
    {
        if (cublas == null) { gemm.Gram64(x, n, d, sampleForm, g); return; }
        cublas.Gram64(Ptr(x), Ptr(g), n, d, sampleForm);
    }

    /// <summary>dst[t, :] = table[ids[t], :] widened to f32 (the token embedding).</summary>
    public void Gather(DeviceMatrix table, ArrayView<int> ids, ArrayView<float> dst)
    {
        if (table.Type == ComputeType.F32) rows.Gather(table.F32!.View, ids, dst, table.Cols);
        else gather16((int)dst.Length, table.Half!.View, ids, dst, table.Cols, HalfBits.Code(table.Type));
    }

    ArrayView<ushort> Scratch(long n)
    {
        if (scratch == null || scratch.Length < n) { scratch?.Dispose(); scratch = null; narrowed = default; scratch = acc.Allocate1D<ushort>(n); }
        return scratch.View.SubView(0, n);
    }

    static nint Ptr<T>(ArrayView<T> v) where T : unmanaged =>
        ((IArrayView)v).Buffer.NativePtr + (nint)((IContiguousArrayView)v).IndexInBytes;

    static void NarrowKernel(Index1D i, ArrayView<float> x, ArrayView<ushort> dst, int code) => dst[i] = HalfBits.FromFloat(x[i], code);

    static void Gather16Kernel(Index1D i, ArrayView<ushort> table, ArrayView<int> ids, ArrayView<float> dst, int width, int code)
    {
        int t = i / width, c = i % width;
        dst[i] = HalfBits.ToFloat(table[(long)ids[t] * width + c], code);
    }

    public void Dispose()
    {
        scratch?.Dispose();
        scratch = null;
    }
}
