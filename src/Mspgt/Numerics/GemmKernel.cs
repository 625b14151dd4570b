using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mspgt.Numerics;

/// <summary>
/// The register-blocked core of the float32 GEMMs (weight matmuls and attention): a micro-tile of
/// <see cref="Mr"/> rows × <see cref="Nr"/> columns, C (+)= A·B, computed as a sum of outer products, one k at a
/// time: a row of B (Nr floats, contiguous) is loaded once and each of the Mr values A[r, k] is broadcast and
/// fused-multiply-added into its accumulators. Nr is 32 (two Vector512) where AVX-512 is accelerated, else 16 (two
/// Vector256); 6 × 2 accumulators + 2 B vectors + 1 broadcast fit the 16 AVX2 registers.
/// </summary>
/// <remarks>
/// Every C element is one fused-multiply-add chain over k in increasing order, whatever the vector width, the
/// tile position or the thread that runs it, so results are deterministic and the Vector256 and Vector512 paths
/// agree bit for bit.
/// </remarks>
internal static unsafe class GemmKernel
{
    public const int Mr = 6;

    /// <summary>False forces the Vector256 kernel on AVX-512 hardware (tests compare the two).</summary>
    internal static bool AllowVector512 = true;

    /// <summary>Whether the packed GEMM can run here (else callers use their dot-product paths).</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated;

    public static bool Wide => AllowVector512 && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Columns per micro-tile: the width of a packed B panel. Callers read it once per operation and pass it to
    /// <see cref="Tile"/> / <see cref="Block"/>, so packing and kernels always agree.
    /// </summary>
    public static int Nr => Wide ? 32 : 16;

    /// <summary>
    /// C[m × n] (+)= A[m × kc] · B[kc × n] for one micro-tile (m ≤ Mr, n ≤ nr; nr = 16, or 32 only where Vector512
    /// is accelerated). A[r, k] is at a + r·rowStride + k·kStride (rows given one after another, or packed k-major
    /// with rowStride 1 and kStride Mr); row k of B is at b + k·ldb and must have nr readable floats (callers pad
    /// packed panels with zeros). C row r starts at c + r·ldc; only the m × n valid elements are read or written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int nr, float* a, long rowStride, long kStride, int m, float* b, long ldb, int kc,
        float* c, long ldc, int n, bool accumulate)
    {
        // Rows past m repeat the last valid row: the kernel stays branch-free and never reads outside A.
        float* a0 = a;
        float* a1 = a + Math.Min(1, m - 1) * rowStride;
        float* a2 = a + Math.Min(2, m - 1) * rowStride;
        float* a3 = a + Math.Min(3, m - 1) * rowStride;
        float* a4 = a + Math.Min(4, m - 1) * rowStride;
        float* a5 = a + Math.Min(5, m - 1) * rowStride;
        if (m == Mr && n == nr)
        {
            if (nr == 32) Kernel6x32(a0, a1, a2, a3, a4, a5, kStride, b, ldb, kc, c, ldc, accumulate);
            else Kernel6x16(a0, a1, a2, a3, a4, a5, kStride, b, ldb, kc, c, ldc, accumulate);
            return;
        }
        float* tmp = stackalloc float[Mr * 32];
        if (accumulate)
            for (int r = 0; r < m; r++)
                for (int j = 0; j < n; j++) tmp[r * nr + j] = c[r * ldc + j];
        if (nr == 32) Kernel6x32(a0, a1, a2, a3, a4, a5, kStride, b, ldb, kc, tmp, nr, accumulate);
        else Kernel6x16(a0, a1, a2, a3, a4, a5, kStride, b, ldb, kc, tmp, nr, accumulate);
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++) c[r * ldc + j] = tmp[r * nr + j];
    }

    /// <summary>
    /// Packs rows [0, m) × columns [0, k) of a row-major A (row stride lda) as ceil(m / Mr) blocks of Mr rows, each
    /// k-major: dst[blk·Mr·k + kk·Mr + r] = A[blk·Mr + r, kk]; rows past m repeat the last row. Broadcasts then
    /// walk one contiguous stream instead of Mr rows that may collide in the cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* a, long lda, int m, int k, float* dst)
    {
        float** src = stackalloc float*[8];
        for (int i0 = 0; i0 < m; i0 += Mr)
        {
            float* d = dst + (long)i0 * k;
            // Rows past m repeat the last row; the transpose's two rows beyond Mr repeat the block's last and are
            // stored only as the extra floats that the next store overwrites.
            for (int r = 0; r < 8; r++) src[r] = a + Math.Min(i0 + Math.Min(r, Mr - 1), m - 1) * lda;
            int kk = 0;
            // 8 columns at a time through the register transpose, 6 floats apart: a scalar stride-6 copy was 4-8% of
            // a 256-token GEMM (rows 8 KB apart alias in L1). The last group goes scalar: its extra floats would land
            // in the next block, which another thread may be packing.
            if (Avx.IsSupported)
                for (; kk + 8 < k; kk += 8) Transpose8x8(src, kk, d + (long)kk * Mr, Mr);
            for (; kk < k; kk++)
                for (int r = 0; r < Mr; r++) d[(long)kk * Mr + r] = src[r][kk];
        }
    }

    /// <summary>dst[j·ld + r] = src[r][k + j] for r, j in 0..8: eight 8-float stores, in order of j, so with ld &lt; 8
    /// each store overwrites the 8 − ld extra floats of the one before (<see cref="PackA"/> relies on it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float** src, int k, float* dst, int ld)
    {
        var r0 = Avx.LoadVector256(src[0] + k); var r1 = Avx.LoadVector256(src[1] + k);
        var r2 = Avx.LoadVector256(src[2] + k); var r3 = Avx.LoadVector256(src[3] + k);
        var r4 = Avx.LoadVector256(src[4] + k); var r5 = Avx.LoadVector256(src[5] + k);
        var r6 = Avx.LoadVector256(src[6] + k); var r7 = Avx.LoadVector256(src[7] + k);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ld, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ld, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ld, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ld, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ld, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ld, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ld, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// C[m × n] (+)= A · B for A packed by <see cref="PackA"/> with row length lenA (so block i/Mr starts at
    /// a + i·lenA, and a already points at the first k of the slice) and B packed as ceil(n / nr) panels of
    /// kc rows × nr floats (panel p at bp + p·kc·nr). Panel-outer, so each B panel stays in L1 while it sweeps A.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(int nr, float* a, long lenA, int m, float* bp, int kc, int n, float* c, long ldc, bool accumulate)
    {
        for (int j = 0; j < n; j += nr)
        {
            float* b = bp + (long)(j / nr) * kc * nr;
            int nv = Math.Min(nr, n - j);
            for (int i = 0; i < m; i += Mr)
                Tile(nr, a + i * lenA, 1, Mr, Math.Min(Mr, m - i), b, nr, kc, c + i * ldc + j, ldc, nv, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
        long ks, float* b, long ldb, int kc, float* c, long ldc, bool accumulate)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        long o = 0;
        for (int k = 0; k < kc; k++, b += ldb, o += ks)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a0[o]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a1[o]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a2[o]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a3[o]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(a4[o]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a5[o]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x32(float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
        long ks, float* b, long ldb, int kc, float* c, long ldc, bool accumulate)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + 16);
            c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + 16);
            c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + 16);
            c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + 16);
            c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector512<float>.Zero;
        }
        long o = 0;
        for (int k = 0; k < kc; k++, b += ldb, o += ks)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a0[o]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a1[o]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a2[o]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[o]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a4[o]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a5[o]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
    }
}
