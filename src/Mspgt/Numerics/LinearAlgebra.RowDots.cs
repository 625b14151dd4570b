using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mspgt.Numerics;

/// <summary>The row-dot kernels under every Gram and cross product of <see cref="LinearAlgebra"/>: each entry one sum in
/// one fixed order, whatever the thread count.</summary>
public static partial class LinearAlgebra
{
    // C[i*q + j] = Σ_t a[i*len + t] · b[j*len + t]. Blocked for cache (panels of A rows, chunks of t) and split over
    // panels of rows of C, so every entry is summed by one thread in one fixed order. With symmetric (a == b) only the
    // upper triangle is computed, then mirrored.
    private const int PanelRows = 32;

    /// <summary>
    /// Rows of A summed together as one panel by <see cref="MultiplyTransposed(DenseMatrix, DenseMatrix, double[])"/>:
    /// a product of A's rows taken in consecutive blocks of a multiple of this many (the last block what is left) gives
    /// every row's entries bit for bit as the product of all of A does, since each row then falls at the same place in
    /// its panel.
    /// </summary>
    internal const int RowPanel = PanelRows;
    private const int ChunkLength = 512;

    // Columns per work item of RowDots: a multiple of 4 from the item's first column, so every tile of an item is the
    // tile the whole row would have (which column chunk an entry falls in never changes its value). Only where the
    // row panels alone are too few for the threads are a panel's columns split (a band of a few panels, as the CKA
    // matrix's sample form makes them); otherwise an item is a whole panel, as before.
    private const int ColumnChunk = 256;

    // first: the row of a and of b where both start (a band of one matrix's rows, a == b); c is p × q from there.
    private static void RowDots(double[] a, int p, double[] b, int q, int len, double[] c, bool symmetric, bool mirror, int first = 0)
    {
        if (p == 0 || q == 0) return;
        int panels = (p + PanelRows - 1) / PanelRows;
        long work = (long)p * q * len;
        int threads = work < 1_000_000 ? 1 : Parallelism.Threads;
        int chunks = panels >= 4 * threads ? 1 : (q + ColumnChunk - 1) / ColumnChunk;
        long ab = (long)first * len;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0, panels * chunks, options, item =>
        {
            int panel = item / chunks, chunk = item % chunks;
            int i0 = panel * PanelRows, i1 = Math.Min(p, i0 + PanelRows);
            int jStart = symmetric ? i0 : 0;
            int jFrom = jStart + chunk * ColumnChunk, jTo = chunk == chunks - 1 ? q : Math.Min(q, jFrom + ColumnChunk);
            if (jFrom >= jTo) return;
            for (int t0 = 0; t0 < len; t0 += ChunkLength)
            {
                int tl = Math.Min(ChunkLength, len - t0);
                int j = jFrom;
                while (j + 2 <= jTo)
                {
                    // Four columns at once where the registers allow (32 with AVX-512): each entry is summed exactly
                    // as Tile4x2 sums it, so which tile an entry falls in never changes its value.
                    int width = WideTiles && j + 4 <= jTo ? 4 : 2;
                    int i = i0;
                    for (; i + 4 <= i1; i += 4)
                        if (width == 4) Tile4x4(a, b, c, q, len, i, j, t0, tl, ab);
                        else Tile4x2(a, b, c, q, len, i, j, t0, tl, ab);
                    for (; i < i1; i++)
                    {
                        var ai = a.AsSpan((int)(ab + (long)i * len) + t0, tl);
                        for (int jj = j; jj < j + width; jj++)
                            c[i * q + jj] += TensorPrimitives.Dot<double>(ai, b.AsSpan((int)(ab + (long)jj * len) + t0, tl));
                    }
                    j += width;
                }
                for (; j < jTo; j++)
                    for (int i = i0; i < i1; i++)
                        c[i * q + j] += TensorPrimitives.Dot<double>(a.AsSpan((int)(ab + (long)i * len) + t0, tl), b.AsSpan((int)(ab + (long)j * len) + t0, tl));
            }
        });
        if (mirror) MirrorUpper(c, p);
    }

    /// <summary>The lower triangle of a square p × p matrix from its upper one (exact symmetry).</summary>
    internal static void MirrorUpper(double[] c, int p)
    {
        for (int i = 0; i < p; i++)
            for (int j = 0; j < i; j++)
                c[i * p + j] = c[j * p + i];
    }

    /// <summary>Whether <see cref="RowDots"/> may use <see cref="Tile4x4"/> (tests turn it off to compare).</summary>
    internal static bool WideTiles = Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Tile4x2 for columns j, j + 1 and again for j + 2, j + 3 in one pass over t: the same per-entry sums (vector lanes
    /// of Vector&lt;double&gt; accumulated with the same multiply-add in t order, then summed, then the scalar tail), so
    /// the same bits, with each row of A loaded once for four columns instead of two. 16 accumulators, 4 column
    /// vectors and a row vector need the 32 registers of AVX-512: 1.2-1.5× the throughput there (1 thread, Grams of
    /// 170-4,096 rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile4x4(double[] a, double[] b, double[] c, int q, int len, int i, int j, int t0, int tl, long ab)
    {
        fixed (double* pa = a, pb = b)
        {
            double* a0 = pa + ab + (long)i * len + t0, a1 = a0 + len, a2 = a1 + len, a3 = a2 + len;
            double* b0 = pb + ab + (long)j * len + t0, b1 = b0 + len, b2 = b1 + len, b3 = b2 + len;
            int w = Vector<double>.Count;
            Vector<double> s00 = default, s01 = default, s02 = default, s03 = default,
                           s10 = default, s11 = default, s12 = default, s13 = default,
                           s20 = default, s21 = default, s22 = default, s23 = default,
                           s30 = default, s31 = default, s32 = default, s33 = default;
            int t = 0;
            // Two moving pointers and a stride address all eight rows: fewer live integer registers than eight.
            long stride = len;
            double* pa0 = a0, pb0 = b0;
            for (; t + w <= tl; t += w, pa0 += w, pb0 += w)
            {
                var y0 = Vector.Load(pb0); var y1 = Vector.Load(pb0 + stride);
                var y2 = Vector.Load(pb0 + 2 * stride); var y3 = Vector.Load(pb0 + 3 * stride);
                var x = Vector.Load(pa0);
                s00 = Vector.MultiplyAddEstimate(x, y0, s00); s01 = Vector.MultiplyAddEstimate(x, y1, s01);
                s02 = Vector.MultiplyAddEstimate(x, y2, s02); s03 = Vector.MultiplyAddEstimate(x, y3, s03);
                x = Vector.Load(pa0 + stride);
                s10 = Vector.MultiplyAddEstimate(x, y0, s10); s11 = Vector.MultiplyAddEstimate(x, y1, s11);
                s12 = Vector.MultiplyAddEstimate(x, y2, s12); s13 = Vector.MultiplyAddEstimate(x, y3, s13);
                x = Vector.Load(pa0 + 2 * stride);
                s20 = Vector.MultiplyAddEstimate(x, y0, s20); s21 = Vector.MultiplyAddEstimate(x, y1, s21);
                s22 = Vector.MultiplyAddEstimate(x, y2, s22); s23 = Vector.MultiplyAddEstimate(x, y3, s23);
                x = Vector.Load(pa0 + 3 * stride);
                s30 = Vector.MultiplyAddEstimate(x, y0, s30); s31 = Vector.MultiplyAddEstimate(x, y1, s31);
                s32 = Vector.MultiplyAddEstimate(x, y2, s32); s33 = Vector.MultiplyAddEstimate(x, y3, s33);
            }
            // Every sum is taken before the first call: accumulators live across a call would be spilled inside
            // the loop (every vector register is caller-saved).
            double r00 = Vector.Sum(s00), r01 = Vector.Sum(s01), r02 = Vector.Sum(s02), r03 = Vector.Sum(s03),
                   r10 = Vector.Sum(s10), r11 = Vector.Sum(s11), r12 = Vector.Sum(s12), r13 = Vector.Sum(s13),
                   r20 = Vector.Sum(s20), r21 = Vector.Sum(s21), r22 = Vector.Sum(s22), r23 = Vector.Sum(s23),
                   r30 = Vector.Sum(s30), r31 = Vector.Sum(s31), r32 = Vector.Sum(s32), r33 = Vector.Sum(s33);
            AddRowTail(a0, b0, b1, b2, b3, t, tl, r00, r01, r02, r03, c, (long)i * q + j);
            AddRowTail(a1, b0, b1, b2, b3, t, tl, r10, r11, r12, r13, c, (long)(i + 1) * q + j);
            AddRowTail(a2, b0, b1, b2, b3, t, tl, r20, r21, r22, r23, c, (long)(i + 2) * q + j);
            AddRowTail(a3, b0, b1, b2, b3, t, tl, r30, r31, r32, r33, c, (long)(i + 3) * q + j);
        }
    }

    // The scalar tail t .. tl − 1 of one row of a Tile4x4, then its four sums added into C, as Tile4x2 does per pair.
    private static unsafe void AddRowTail(double* ar, double* b0, double* b1, double* b2, double* b3, int t, int tl,
        double r0, double r1, double r2, double r3, double[] c, long at)
    {
        for (int u = t; u < tl; u++)
        {
            r0 += ar[u] * b0[u]; r1 += ar[u] * b1[u];
            r2 += ar[u] * b2[u]; r3 += ar[u] * b3[u];
        }
        c[at] += r0; c[at + 1] += r1; c[at + 2] += r2; c[at + 3] += r3;
    }

    private static void Tile4x2(double[] a, double[] b, double[] c, int q, int len, int i, int j, int t0, int tl, long ab)
    {
        var a0 = a.AsSpan((int)(ab + (long)i * len) + t0, tl);
        var a1 = a.AsSpan((int)(ab + (long)(i + 1) * len) + t0, tl);
        var a2 = a.AsSpan((int)(ab + (long)(i + 2) * len) + t0, tl);
        var a3 = a.AsSpan((int)(ab + (long)(i + 3) * len) + t0, tl);
        var b0 = b.AsSpan((int)(ab + (long)j * len) + t0, tl);
        var b1 = b.AsSpan((int)(ab + (long)(j + 1) * len) + t0, tl);
        int w = Vector<double>.Count;
        Vector<double> s00 = default, s01 = default, s10 = default, s11 = default,
                       s20 = default, s21 = default, s30 = default, s31 = default;
        int t = 0;
        for (; t + w <= tl; t += w)
        {
            var y0 = new Vector<double>(b0.Slice(t));
            var y1 = new Vector<double>(b1.Slice(t));
            var x = new Vector<double>(a0.Slice(t));
            s00 = Vector.MultiplyAddEstimate(x, y0, s00); s01 = Vector.MultiplyAddEstimate(x, y1, s01);
            x = new Vector<double>(a1.Slice(t));
            s10 = Vector.MultiplyAddEstimate(x, y0, s10); s11 = Vector.MultiplyAddEstimate(x, y1, s11);
            x = new Vector<double>(a2.Slice(t));
            s20 = Vector.MultiplyAddEstimate(x, y0, s20); s21 = Vector.MultiplyAddEstimate(x, y1, s21);
            x = new Vector<double>(a3.Slice(t));
            s30 = Vector.MultiplyAddEstimate(x, y0, s30); s31 = Vector.MultiplyAddEstimate(x, y1, s31);
        }
        double r00 = Vector.Sum(s00), r01 = Vector.Sum(s01), r10 = Vector.Sum(s10), r11 = Vector.Sum(s11),
               r20 = Vector.Sum(s20), r21 = Vector.Sum(s21), r30 = Vector.Sum(s30), r31 = Vector.Sum(s31);
        for (; t < tl; t++)
        {
            r00 += a0[t] * b0[t]; r01 += a0[t] * b1[t];
            r10 += a1[t] * b0[t]; r11 += a1[t] * b1[t];
            r20 += a2[t] * b0[t]; r21 += a2[t] * b1[t];
            r30 += a3[t] * b0[t]; r31 += a3[t] * b1[t];
        }
        c[i * q + j] += r00; c[i * q + j + 1] += r01;
        c[(i + 1) * q + j] += r10; c[(i + 1) * q + j + 1] += r11;
        c[(i + 2) * q + j] += r20; c[(i + 2) * q + j + 1] += r21;
        c[(i + 3) * q + j] += r30; c[(i + 3) * q + j + 1] += r31;
    }
}
