using System.Numerics;
using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>The Householder reduction of a symmetric matrix to tridiagonal form, in panels (LAPACK's dsytrd/dlatrd scheme).</summary>
public static partial class LinearAlgebra
{
    /// <summary>Reflections per panel: their two n × 32 factors stay in the core's L2 cache next to the row being
    /// updated, and a trailing row is read and written once per 32 reflections instead of once per reflection.</summary>
    internal const int TridiagonalPanel = 32;

    /// <summary>Trailing blocks of at most this order are reduced one reflection at a time: there the panel's per-step
    /// corrections cost about as much as they save. Until 2026-12-08 this was 256 (LAPACK's crossover), so that a
    /// 256-token document's 255 × 255 Gram matrix went a reflection at a time, its rank-2 updates re-reading the
    /// trailing triangle from L2 at every step; since the rows below a panel go in pairs
    /// (<see cref="SubtractPanelPair"/>), panels down to 64 rows reduce n = 255 in 2.9 instead of 4.0 ms and
    /// n = 128 in 0.72 instead of 0.88 ms (32 measured no better).</summary>
    internal const int TridiagonalCrossover = 64;

    /// <summary>
    /// Reduces the symmetric matrix in <paramref name="a"/> (n × n row-major; only its upper triangle, j ≥ i, is read
    /// and kept) to tridiagonal T = Qᵀ A Q: the diagonal is left on a's diagonal, T[k, k+1] in <paramref name="off"/>
    /// (off[n−2] too; off[n−1] = 0), and Q = H_0 H_1 … as (first index, unit v) with H = I − 2vvᵀ in
    /// <paramref name="householder"/> (steps whose row is already reduced add none).
    /// Step k reflects row k right of the diagonal onto alpha·e1 and would update the trailing block
    /// A22 ← H A22 H = A22 − (v Wᵀ + W vᵀ), W = 2(p − (vᵀp) v), p = A22 v. Unblocked, each step reads the trailing
    /// triangle twice and writes it once; here the updates of a panel of steps are kept as V and W (n × 32) and
    /// applied at once to the rows below the panel (each element by one chain of fused multiply-adds), while a step
    /// inside the panel brings only its own row up to date and corrects p = A22 v for the panel's earlier
    /// reflections: p = A_stored v − V(Wᵀv) − W(Vᵀv). The reflections are the unblocked ones up to round-off. Once
    /// the trailing block is of order <see cref="TridiagonalCrossover"/> or less, the steps go one at a time.
    /// </summary>
    private static void Tridiagonalize(double[] a, int n, double[] off, List<(int Start, double[] V)> householder)
    {
        const int nb = TridiagonalPanel;
        // Panel factors t-major (row t of V and of W over global indices 0..n−1; zero below each reflection's start),
        // rented only when there are panels.
        bool panels = n > TridiagonalCrossover;
        var vt = panels ? System.Buffers.ArrayPool<double>.Shared.Rent(nb * n) : [];
        var wt = panels ? System.Buffers.ArrayPool<double>.Shared.Rent(nb * n) : [];
        var p = new double[n];
        var w = new double[n];
        try
        {
            int k0 = 0;
            for (; k0 + 2 < n && n - k0 > TridiagonalCrossover; k0 += nb)
            {
                int k1 = Math.Min(k0 + nb, n - 2);
                vt.AsSpan(0, nb * n).Clear();
                wt.AsSpan(0, nb * n).Clear();
                for (int k = k0; k < k1; k++)
                {
                    int j = k - k0, m = n - k - 1, s0 = k + 1;
                    // Row k (from its diagonal on) brought up to date with the panel's earlier reflections.
                    SubtractPanel(a, k, n, vt, wt, j);
                    if (Reflector(a, n, k, off, householder) is not { } v) continue;   // row t = j of V and W stays zero
                    // p = A22 v from the stored triangle, then the panel's corrections.
                    var ps = p.AsSpan(0, m);
                    TrailingProduct(a, n, s0, v, ps);
                    for (int t = 0; t < j; t++)
                    {
                        var vtt = vt.AsSpan(t * n + s0, m);
                        var wtt = wt.AsSpan(t * n + s0, m);
                        double wv = TensorPrimitives.Dot<double>(wtt, v), vv = TensorPrimitives.Dot<double>(vtt, v);
                        TensorPrimitives.MultiplyAdd(vtt, -wv, ps, ps);
                        TensorPrimitives.MultiplyAdd(wtt, -vv, ps, ps);
                    }
                    double kk = TensorPrimitives.Dot<double>(ps, v);
                    var vOut = vt.AsSpan(j * n + s0, m);
                    var wOut = wt.AsSpan(j * n + s0, m);
                    v.CopyTo(vOut);
                    for (int i = 0; i < m; i++) wOut[i] = 2 * (ps[i] - kk * v[i]);
                }
                // The rows below the panel, each from its diagonal on, take the panel's reflections at once.
                int count = k1 - k0;
                int r = k1;
                for (; r + 1 < n; r += 2) SubtractPanelPair(a, r, n, vt, wt, count);
                if (r < n) SubtractPanel(a, r, n, vt, wt, count);
            }
            for (int k = k0; k + 2 < n; k++) ReflectOne(a, n, k, off, householder, p, w);
            if (n >= 2) off[n - 2] = a[(n - 2) * n + n - 1];
            if (n >= 1) off[n - 1] = 0;
        }
        finally
        {
            if (panels)
            {
                System.Buffers.ArrayPool<double>.Shared.Return(vt);
                System.Buffers.ArrayPool<double>.Shared.Return(wt);
            }
        }
    }

    /// <summary>
    /// The reflection of step k: x = A[k, k+1..] (row k right of the diagonal, up to date) onto alpha·e1, with
    /// off[k] = alpha and (k + 1, unit v) added to <paramref name="householder"/>; null, with off[k] = x[0], when x is
    /// already reduced (nothing right of its first entry).
    /// </summary>
    private static double[]? Reflector(double[] a, int n, int k, double[] off, List<(int Start, double[] V)> householder)
    {
        int m = n - k - 1, s0 = k + 1;
        var x = a.AsSpan(k * n + s0, m);
        double norm = TensorPrimitives.Norm<double>(x);
        double tailNorm = m > 1 ? TensorPrimitives.Norm<double>(x.Slice(1)) : 0;
        if (tailNorm == 0) { off[k] = x[0]; return null; }
        double alpha = x[0] > 0 ? -norm : norm;
        var v = x.ToArray();
        v[0] -= alpha;
        double vn = TensorPrimitives.Norm<double>(v);
        TensorPrimitives.Divide(v, vn, v);
        householder.Add((s0, v));
        off[k] = alpha;
        return v;
    }

    /// <summary>p = A22·v for the trailing block from row and column <paramref name="s0"/> as stored (its upper
    /// triangle): one pass over each row serves the row's own entry and, by symmetry, the column's contributions below.
    /// Rows go four at a time, so that v and p are read (and p written) once for four rows of the matrix: the product
    /// was bound by those reads beside the matrix's own (2026-12-08, n = 896 with 8 vectors: 93–113 ms a row at a time,
    /// 72–75 in pairs, 70–72 in fours).</summary>
    private static unsafe void TrailingProduct(double[] a, int n, int s0, double[] v, Span<double> p)
    {
        const int R = 4;   // FourRowProduct's rows
        int m = p.Length;
        p.Clear();
        Span<double> sums = stackalloc double[R];
        fixed (double* pa = a, pv = v, pp = p)
        {
            for (int i = 0; i < m; i += R)
            {
                int rows = Math.Min(R, m - i);
                // The block's own triangle (columns i .. i + rows − 1), entry by entry; sums[q] is set for every q < rows.
                for (int q = 0; q < rows; q++)
                {
                    double* r = pa + (long)(s0 + i + q) * n + s0;
                    double sum = r[i + q] * pv[i + q];
                    for (int c = i + q + 1; c < i + rows; c++)
                    {
                        sum += r[c] * pv[c];
                        pp[c] += pv[i + q] * r[c];
                    }
                    sums[q] = sum;
                }
                if (rows == R)
                {
                    // Columns right of the triangle: all four rows at once.
                    var (d0, d1, d2, d3) = FourRowProduct(pa + (long)(s0 + i) * n + s0, n, pv, pp, i + R, m);
                    sums[0] += d0; sums[1] += d1; sums[2] += d2; sums[3] += d3;
                }
                for (int q = 0; q < rows; q++) pp[i + q] += sums[q];
            }
        }
    }

    // Rows r, r + n, r + 2n, r + 3n (each indexed by column) over columns c in [c0, m): returns each row's Σ row[c]·v[c]
    // and adds Σ_q v[i + q]·row_q[c] to p[c], where v[i + q] = v[c0 − 4 + q] are the rows' own entries of v.
    private static unsafe (double, double, double, double) FourRowProduct(double* r, int n, double* v, double* p, int c0, int m)
    {
        double* r0 = r, r1 = r + n, r2 = r + 2L * n, r3 = r + 3L * n;
        double u0 = v[c0 - 4], u1 = v[c0 - 3], u2 = v[c0 - 2], u3 = v[c0 - 1];
        int c = c0, w = Vector<double>.Count;
        var acc0 = Vector<double>.Zero; var acc1 = Vector<double>.Zero;
        var acc2 = Vector<double>.Zero; var acc3 = Vector<double>.Zero;
        var vu0 = new Vector<double>(u0); var vu1 = new Vector<double>(u1);
        var vu2 = new Vector<double>(u2); var vu3 = new Vector<double>(u3);
        for (; c + w <= m; c += w)
        {
            var x0 = Vector.Load(r0 + c); var x1 = Vector.Load(r1 + c);
            var x2 = Vector.Load(r2 + c); var x3 = Vector.Load(r3 + c);
            var vc = Vector.Load(v + c);
            acc0 = Vector.MultiplyAddEstimate(x0, vc, acc0);
            acc1 = Vector.MultiplyAddEstimate(x1, vc, acc1);
            acc2 = Vector.MultiplyAddEstimate(x2, vc, acc2);
            acc3 = Vector.MultiplyAddEstimate(x3, vc, acc3);
            var pc = Vector.MultiplyAddEstimate(x1, vu1, Vector.MultiplyAddEstimate(x0, vu0, Vector.Load(p + c)));
            Vector.MultiplyAddEstimate(x3, vu3, Vector.MultiplyAddEstimate(x2, vu2, pc)).Store(p + c);
        }
        double s0 = Vector.Sum(acc0), s1 = Vector.Sum(acc1), s2 = Vector.Sum(acc2), s3 = Vector.Sum(acc3);
        for (; c < m; c++)
        {
            double vc = v[c];
            s0 += r0[c] * vc; s1 += r1[c] * vc; s2 += r2[c] * vc; s3 += r3[c] * vc;
            p[c] += u0 * r0[c] + u1 * r1[c] + u2 * r2[c] + u3 * r3[c];
        }
        return (s0, s1, s2, s3);
    }

    /// <summary>
    /// Step k alone: reflect row k right of the diagonal onto alpha·e1 and update the trailing triangle at once,
    /// A22 −= 2(v wᵀ + w vᵀ) with w = p − (vᵀp) v, p = A22 v. <paramref name="p"/> and <paramref name="w"/> are
    /// scratch of at least n − k − 1 values.
    /// </summary>
    private static void ReflectOne(double[] a, int n, int k, double[] off, List<(int Start, double[] V)> householder, double[] p, double[] w)
    {
        int m = n - k - 1, s0 = k + 1;
        if (Reflector(a, n, k, off, householder) is not { } v) return;
        var ps = p.AsSpan(0, m);
        TrailingProduct(a, n, s0, v, ps);
        double kk = TensorPrimitives.Dot<double>(ps, v);
        var ws = w.AsSpan(0, m);
        for (int i = 0; i < m; i++) ws[i] = ps[i] - kk * v[i];
        for (int i = 0; i < m; i++)
            RankTwoUpdate(a.AsSpan((s0 + i) * n + s0 + i, m - i), ws.Slice(i), v.AsSpan(i), -2 * v[i], -2 * ws[i]);
    }

    // row[t] += cw·w[t] + cv·v[t]
    private static void RankTwoUpdate(Span<double> row, ReadOnlySpan<double> w, ReadOnlySpan<double> v, double cw, double cv)
    {
        int t = 0, wd = Vector<double>.Count, len = row.Length;
        var vcw = new Vector<double>(cw);
        var vcv = new Vector<double>(cv);
        for (; t + wd <= len; t += wd)
        {
            var r = Vector.MultiplyAddEstimate(new Vector<double>(w.Slice(t)), vcw, new Vector<double>(row.Slice(t)));
            Vector.MultiplyAddEstimate(new Vector<double>(v.Slice(t)), vcv, r).CopyTo(row.Slice(t));
        }
        for (; t < len; t++) row[t] = row[t] + cw * w[t] + cv * v[t];
    }

    /// <summary>
    /// Row r of the panel's update, from its diagonal on: A[r, c] −= Σ_{t &lt; count} (V[t, r]·W[t, c] + W[t, r]·V[t, c])
    /// for c in [r, n), V and W t-major (<paramref name="vt"/>[t·n + c]). Each element by the same chain of fused
    /// multiply-adds in t order (the vector lanes and the scalar tail alike), so its value does not depend on the vector
    /// width. Eight vectors of columns at a time keep eight independent chains in flight.
    /// </summary>
    internal static unsafe void SubtractPanel(double[] a, int r, int n, double[] vt, double[] wt, int count)
    {
        if (count == 0) return;
        int w = Vector<double>.Count, c = r;
        fixed (double* pa = a, pv = vt, pw = wt)
        {
            double* row = pa + (long)r * n;
            double* cv = pv + r, cw = pw + r;   // V[t, r] and W[t, r] at cv[t·n], cw[t·n]
            for (; c + 8 * w <= n; c += 8 * w)
            {
                double* x = row + c;
                var a0 = Vector.Load(x); var a1 = Vector.Load(x + w); var a2 = Vector.Load(x + 2 * w); var a3 = Vector.Load(x + 3 * w);
                var a4 = Vector.Load(x + 4 * w); var a5 = Vector.Load(x + 5 * w); var a6 = Vector.Load(x + 6 * w); var a7 = Vector.Load(x + 7 * w);
                for (int t = 0; t < count; t++)
                {
                    var nv = new Vector<double>(-cv[(long)t * n]);
                    var nw = new Vector<double>(-cw[(long)t * n]);
                    double* W = pw + (long)t * n + c, V = pv + (long)t * n + c;
                    a0 = Vector.FusedMultiplyAdd(nw, Vector.Load(V), Vector.FusedMultiplyAdd(nv, Vector.Load(W), a0));
                    a1 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + w), a1));
                    a2 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + 2 * w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + 2 * w), a2));
                    a3 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + 3 * w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + 3 * w), a3));
                    a4 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + 4 * w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + 4 * w), a4));
                    a5 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + 5 * w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + 5 * w), a5));
                    a6 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + 6 * w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + 6 * w), a6));
                    a7 = Vector.FusedMultiplyAdd(nw, Vector.Load(V + 7 * w), Vector.FusedMultiplyAdd(nv, Vector.Load(W + 7 * w), a7));
                }
                a0.Store(x); a1.Store(x + w); a2.Store(x + 2 * w); a3.Store(x + 3 * w);
                a4.Store(x + 4 * w); a5.Store(x + 5 * w); a6.Store(x + 6 * w); a7.Store(x + 7 * w);
            }
            for (; c + w <= n; c += w)
            {
                var acc = Vector.Load(row + c);
                for (int t = 0; t < count; t++)
                    acc = Vector.FusedMultiplyAdd(new Vector<double>(-cw[(long)t * n]), Vector.Load(pv + (long)t * n + c),
                        Vector.FusedMultiplyAdd(new Vector<double>(-cv[(long)t * n]), Vector.Load(pw + (long)t * n + c), acc));
                acc.Store(row + c);
            }
            for (; c < n; c++)
            {
                double acc = row[c];
                for (int t = 0; t < count; t++)
                    acc = Math.FusedMultiplyAdd(-cw[(long)t * n], pv[(long)t * n + c], Math.FusedMultiplyAdd(-cv[(long)t * n], pw[(long)t * n + c], acc));
                row[c] = acc;
            }
        }
    }

    /// <summary>
    /// <see cref="SubtractPanel"/> for rows r and r + 1 at once, each element by the same chain as there (so the values
    /// are the same bit for bit): each load of V and W serves both rows, about half the loads per multiply-add, which
    /// bound the one-row update (2026-12-08: its share of an n = 896 decomposition fell by about a third).
    /// </summary>
    internal static unsafe void SubtractPanelPair(double[] a, int r, int n, double[] vt, double[] wt, int count)
    {
        if (count == 0) return;
        int w = Vector<double>.Count, c = r + 1;
        fixed (double* pa = a, pv = vt, pw = wt)
        {
            double* row0 = pa + (long)r * n, row1 = pa + (long)(r + 1) * n;
            double* cv0 = pv + r, cw0 = pw + r, cv1 = pv + r + 1, cw1 = pw + r + 1;   // V[t, r] at cv0[t·n], …
            // Row r's diagonal, left of row r + 1's.
            {
                double acc = row0[r];
                for (int t = 0; t < count; t++)
                    acc = Math.FusedMultiplyAdd(-cw0[(long)t * n], pv[(long)t * n + r], Math.FusedMultiplyAdd(-cv0[(long)t * n], pw[(long)t * n + r], acc));
                row0[r] = acc;
            }
            for (; c + 8 * w <= n; c += 8 * w)
            {
                double* x = row0 + c, y = row1 + c;
                var a0 = Vector.Load(x ); var b0 = Vector.Load(y );
                var a1 = Vector.Load(x + 1 * w); var b1 = Vector.Load(y + 1 * w);
                var a2 = Vector.Load(x + 2 * w); var b2 = Vector.Load(y + 2 * w);
                var a3 = Vector.Load(x + 3 * w); var b3 = Vector.Load(y + 3 * w);
                var a4 = Vector.Load(x + 4 * w); var b4 = Vector.Load(y + 4 * w);
                var a5 = Vector.Load(x + 5 * w); var b5 = Vector.Load(y + 5 * w);
                var a6 = Vector.Load(x + 6 * w); var b6 = Vector.Load(y + 6 * w);
                var a7 = Vector.Load(x + 7 * w); var b7 = Vector.Load(y + 7 * w);
                for (int t = 0; t < count; t++)
                {
                    var nv0 = new Vector<double>(-cv0[(long)t * n]); var nw0 = new Vector<double>(-cw0[(long)t * n]);
                    var nv1 = new Vector<double>(-cv1[(long)t * n]); var nw1 = new Vector<double>(-cw1[(long)t * n]);
                    double* W = pw + (long)t * n + c, V = pv + (long)t * n + c;
                    { var wq = Vector.Load(W ); var vq = Vector.Load(V );
                      a0 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a0));
                      b0 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b0)); }
                    { var wq = Vector.Load(W + 1 * w); var vq = Vector.Load(V + 1 * w);
                      a1 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a1));
                      b1 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b1)); }
                    { var wq = Vector.Load(W + 2 * w); var vq = Vector.Load(V + 2 * w);
                      a2 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a2));
                      b2 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b2)); }
                    { var wq = Vector.Load(W + 3 * w); var vq = Vector.Load(V + 3 * w);
                      a3 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a3));
                      b3 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b3)); }
                    { var wq = Vector.Load(W + 4 * w); var vq = Vector.Load(V + 4 * w);
                      a4 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a4));
                      b4 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b4)); }
                    { var wq = Vector.Load(W + 5 * w); var vq = Vector.Load(V + 5 * w);
                      a5 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a5));
                      b5 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b5)); }
                    { var wq = Vector.Load(W + 6 * w); var vq = Vector.Load(V + 6 * w);
                      a6 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a6));
                      b6 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b6)); }
                    { var wq = Vector.Load(W + 7 * w); var vq = Vector.Load(V + 7 * w);
                      a7 = Vector.FusedMultiplyAdd(nw0, vq, Vector.FusedMultiplyAdd(nv0, wq, a7));
                      b7 = Vector.FusedMultiplyAdd(nw1, vq, Vector.FusedMultiplyAdd(nv1, wq, b7)); }
                }
                a0.Store(x ); b0.Store(y );
                a1.Store(x + 1 * w); b1.Store(y + 1 * w);
                a2.Store(x + 2 * w); b2.Store(y + 2 * w);
                a3.Store(x + 3 * w); b3.Store(y + 3 * w);
                a4.Store(x + 4 * w); b4.Store(y + 4 * w);
                a5.Store(x + 5 * w); b5.Store(y + 5 * w);
                a6.Store(x + 6 * w); b6.Store(y + 6 * w);
                a7.Store(x + 7 * w); b7.Store(y + 7 * w);
            }
            for (; c + w <= n; c += w)
            {
                var acc0 = Vector.Load(row0 + c);
                var acc1 = Vector.Load(row1 + c);
                for (int t = 0; t < count; t++)
                {
                    var wq = Vector.Load(pw + (long)t * n + c);
                    var vq = Vector.Load(pv + (long)t * n + c);
                    acc0 = Vector.FusedMultiplyAdd(new Vector<double>(-cw0[(long)t * n]), vq, Vector.FusedMultiplyAdd(new Vector<double>(-cv0[(long)t * n]), wq, acc0));
                    acc1 = Vector.FusedMultiplyAdd(new Vector<double>(-cw1[(long)t * n]), vq, Vector.FusedMultiplyAdd(new Vector<double>(-cv1[(long)t * n]), wq, acc1));
                }
                acc0.Store(row0 + c);
                acc1.Store(row1 + c);
            }
            for (; c < n; c++)
            {
                double acc0 = row0[c], acc1 = row1[c];
                for (int t = 0; t < count; t++)
                {
                    double wq = pw[(long)t * n + c], vq = pv[(long)t * n + c];
                    acc0 = Math.FusedMultiplyAdd(-cw0[(long)t * n], vq, Math.FusedMultiplyAdd(-cv0[(long)t * n], wq, acc0));
                    acc1 = Math.FusedMultiplyAdd(-cw1[(long)t * n], vq, Math.FusedMultiplyAdd(-cv1[(long)t * n], wq, acc1));
                }
                row0[c] = acc0;
                row1[c] = acc1;
            }
        }
    }
}
