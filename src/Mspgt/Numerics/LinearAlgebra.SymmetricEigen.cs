using System.Numerics;
using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>Eigen-decomposition of a symmetric matrix: <c>A = V diag(Values) Vᵀ</c>.</summary>
/// <param name="Values">Eigenvalues, largest first.</param>
/// <param name="Vectors">Orthonormal eigenvectors as columns, in the order of <paramref name="Values"/>.</param>
public sealed record SymmetricEigen(double[] Values, DenseMatrix Vectors);

/// <summary>The symmetric eigen-decomposition: Householder tridiagonalisation, then implicit QL.</summary>
public static partial class LinearAlgebra
{
    /// <summary>
    /// Eigenvalues and eigenvectors of a symmetric matrix (Householder tridiagonalisation, then implicit QL with
    /// Wilkinson-type shifts). O(d³): d = 256 takes about 10 ms, d = 1024 a second or so; when only the leading
    /// vectors are needed, <see cref="SymmetricEigen(DenseMatrix, int)"/> costs about a third of that.
    /// Only symmetry up to rounding is assumed; the upper triangle is what is read.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a) => Decompose(a, a.Rows, 0);

    /// <summary>
    /// Every eigenvalue (largest first) and the eigenvectors of the <paramref name="vectors"/> largest only
    /// (<see cref="SymmetricEigen.Vectors"/> is n × min(vectors, n)). The QL iteration runs without vectors, keeping
    /// its plane rotations; each wanted eigenvector is then e_j taken back through those rotations and the
    /// Householder reflections. That is the full decomposition's own product of orthogonal factors applied to one
    /// vector instead of to the identity, so the vectors are the same (to round-off, also inside clusters of equal
    /// eigenvalues) for O(n²) per vector after the O(n³) tridiagonalisation, instead of about 3n³ more for all of them.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a, int vectors) =>
        Decompose(a, Math.Clamp(vectors, 0, a.Rows), QlStretch(a.Rows));

    /// <summary>The same with QL's rotations remade in stretches of <paramref name="stretch"/> (tests: 1 keeps the
    /// state before every sweep, int.MaxValue keeps only the first and remakes them all in one run).</summary>
    internal static SymmetricEigen SymmetricEigen(DenseMatrix a, int vectors, int stretch) =>
        Decompose(a, Math.Clamp(vectors, 0, a.Rows), stretch);

    /// <summary>Eigenvalues only (largest first); much cheaper than <see cref="SymmetricEigen(DenseMatrix)"/>.</summary>
    public static double[] SymmetricEigenvalues(DenseMatrix a) => Decompose(a, 0, 0).Values;

    private static SymmetricEigen Decompose(DenseMatrix input, int wanted, int stretch)
    {
        RequireSquare(input, "eigen-decomposition");
        RequireFinite(input, "eigen-decomposition");
        int n = input.Rows;
        // The working copy (only its upper triangle, j ≥ i, is read and kept up to date below) is rented up to 1 MB
        // (n up to 362): a fresh 0.5 MB clone per decomposition at n = 255 was 0.8 of its 5.9 ms (large-object
        // allocation, page faults, the copy), and an analysis makes about 125 of them. Larger ones are new (every
        // value read is first copied from the input), since the shared pool would keep one per thread and more, for
        // good: at n = 896 (1,024 tokens of the 0.5B shape) 8 MB a thread, against a decomposition of about 100 ms.
        var work = RentScratch(n * n);
        try { return Decompose(input, wanted, stretch, work); }
        finally { ReturnScratch(work); }
    }

    // a: the working copy, at least n · n values.
    private static SymmetricEigen Decompose(DenseMatrix input, int wanted, int stretch, double[] a)
    {
        int n = input.Rows;
        input.Data.AsSpan(0, n * n).CopyTo(a);

        var diag = new double[n];
        var off = new double[n];            // off[i] = T[i, i+1]; off[n-1] = 0
        var householder = new List<(int Start, double[] V)>();
        Tridiagonalize(a, n, off, householder);
        for (int i = 0; i < n; i++) diag[i] = a[i * n + i];

        // zt holds the eigenvectors as ROWS so the QL rotations touch contiguous memory. It starts as Qᵀ = H_m…H_0.
        bool all = wanted == n;
        DenseMatrix? zt = null;
        if (all)
        {
            zt = DenseMatrix.Identity(n);
            var tmp = new double[n];
            foreach (var (start, v) in householder)
            {
                // zt ← H zt, H = I − 2vvᵀ acting on rows start..n-1
                Array.Clear(tmp);
                for (int i = 0; i < v.Length; i++) TensorPrimitives.MultiplyAdd(zt.Row(start + i), v[i], tmp, tmp);
                for (int i = 0; i < v.Length; i++) TensorPrimitives.MultiplyAdd(tmp, -2 * v[i], zt.Row(start + i), zt.Row(start + i));
            }
        }

        var trace = !all && wanted > 0 ? new QlTrace(stretch) : null;
        var cursor = new QlCursor();
        int none = 0;
        TridiagonalQl(diag, off, ref cursor, long.MaxValue, zt, null, ref none, trace);

        var order = Enumerable.Range(0, n).OrderByDescending(i => diag[i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => diag[i]).ToArray();
        var vecs = new DenseMatrix(n, wanted);
        if (zt != null)
            for (int c = 0; c < n; c++)
            {
                var src = zt.Row(order[c]);
                for (int r = 0; r < n; r++) vecs.Data[r * n + c] = src[r];
            }
        else if (trace != null) BackTransform(order, trace, cursor.Rotations, householder, vecs);
        return new SymmetricEigen(values, vecs);
    }

    /// <summary>Rotations per replayed stretch of QL for an n × n decomposition (<see cref="QlTrace"/>): 32n, so the
    /// checkpoints (about n² / 32n of them, 2n values each) and one stretch's rotations (3 values each) both stay near
    /// 100n values: 0.2 MB at n = 255, 0.7 MB at n = 896.</summary>
    internal static int QlStretch(int n) => Math.Max(1024, 32 * n);

    /// <summary>About what <see cref="QlTrace"/> holds for an n × n decomposition, in values, with stretches of
    /// <see cref="QlStretch"/>: n/32 kept states of 2n values (n²/16) and one stretch of 33n rotations of 3 (99n).</summary>
    internal static long QlTraceValues(long n) => n * n / 16 + 99 * n;

    /// <summary>Where QL stands when a sweep is about to begin: with d and e as they are then, enough to run it on
    /// from there, making the same rotations bit for bit.</summary>
    private struct QlCursor
    {
        public int L, M, Iter;
        public double F, Tst1;
        public bool Sweeping;    // L's sweeps have begun (M is found)
        public long Sweeps, Rotations;
    }

    /// <summary>
    /// What taking the leading eigenvectors back through QL's rotations needs, without keeping the rotations
    /// (about n² of them, 24 bytes each: 1.6 MB at n = 255, 19 MB at n = 896, so two decompositions at 1,024 tokens of
    /// the 0.5B shape held 38 MB of them, and the spares kept for the next ones 16 MB more): QL's state is kept every
    /// <see cref="QlStretch"/> rotations or so (at the start of a sweep), and the back-transform, going from the last
    /// stretch to the first, runs QL again from each kept state to the next to remake that stretch's rotations, then
    /// applies them in reverse. QL is deterministic, so the remade rotations are the first run's bit for bit and the
    /// vectors are exactly what a kept log gave, for one more run of QL's arithmetic (a chain of divisions and square
    /// roots; whole decompositions at n = 255 and 896 timed within noise of the logged ones, 2026-12-08).
    /// </summary>
    private sealed class QlTrace(int stretch)
    {
        private readonly List<(QlCursor Cursor, double[] D, double[] E)> _kept = [];

        /// <summary>Before a sweep: keeps the state when a stretch's worth of rotations has been made since the last.</summary>
        public void AtSweep(in QlCursor cur, double[] d, double[] e)
        {
            if (_kept.Count > 0 && cur.Rotations - _kept[^1].Cursor.Rotations < stretch) return;
            _kept.Add((cur, (double[])d.Clone(), (double[])e.Clone()));
        }

        /// <summary>y's rows (the n × k wanted vectors, begun as e_j) taken back through every rotation, last to first.</summary>
        public void Unwind(DenseMatrix y, long rotations)
        {
            long longest = 0;   // a stretch ends at the first sweep past `stretch` rotations: under stretch + n of them
            for (int k = 0; k < _kept.Count; k++)
                longest = Math.Max(longest, (k + 1 < _kept.Count ? _kept[k + 1].Cursor.Rotations : rotations) - _kept[k].Cursor.Rotations);
            var log = RentScratch(checked((int)(3 * Math.Max(1, longest))));
            try
            {
                long stop = long.MaxValue;   // the stretch after this one begins at this sweep
                for (int k = _kept.Count - 1; k >= 0; k--)
                {
                    var (cur, d, e) = _kept[k];
                    _kept.RemoveAt(k);
                    int count = 0;
                    long start = cur.Sweeps;
                    TridiagonalQl(d, e, ref cur, stop, null, log, ref count, null);   // on the kept copies: each is run once
                    stop = start;
                    for (int r = count - 1; r >= 0; r--)
                    {
                        int i = (int)log[3 * r];
                        Rotate(y.Row(i + 1), y.Row(i), log[3 * r + 1], log[3 * r + 2]);   // (y_i, y_i1) ← (c·y_i + s·y_i1, c·y_i1 − s·y_i)
                    }
                }
            }
            finally { ReturnScratch(log); }
        }
    }

    // Row j of the final zt = e_jᵀ G_N…G_1 Qᵀ, i.e. the eigenvector is Q G_1ᵀ…G_Nᵀ e_j with Q = H_0…H_m: apply the
    // transposed rotations last to first, then the reflections last to first, to all wanted e_j at once (the rows
    // of the n × k result are contiguous k-vectors).
    private static void BackTransform(int[] order, QlTrace trace, long rotations, List<(int Start, double[] V)> householder, DenseMatrix y)
    {
        int k = y.Cols;
        for (int c = 0; c < k; c++) y[order[c], c] = 1;
        trace.Unwind(y, rotations);
        var t = new double[k];
        for (int h = householder.Count - 1; h >= 0; h--)
        {
            var (start, v) = householder[h];
            Array.Clear(t);
            for (int r = 0; r < v.Length; r++) TensorPrimitives.MultiplyAdd(y.Row(start + r), v[r], t, t);
            for (int r = 0; r < v.Length; r++) TensorPrimitives.MultiplyAdd(t, -2 * v[r], y.Row(start + r), y.Row(start + r));
        }
    }

    // Returns Σ row[t]·v[t] and adds vi·row[t] to p[t]: one pass over the strict upper part of a row serves both its
    // own entry of A·v and (by symmetry) the column's contributions to the entries below.
    private static double SymmetricRowProduct(ReadOnlySpan<double> row, ReadOnlySpan<double> v, double vi, Span<double> p)
    {
        int t = 0, wd = Vector<double>.Count, len = row.Length;
        var acc = Vector<double>.Zero;
        var vvi = new Vector<double>(vi);
        for (; t + wd <= len; t += wd)
        {
            var r = new Vector<double>(row.Slice(t));
            acc = Vector.MultiplyAddEstimate(r, new Vector<double>(v.Slice(t)), acc);
            Vector.MultiplyAddEstimate(r, vvi, new Vector<double>(p.Slice(t))).CopyTo(p.Slice(t));
        }
        double sum = Vector.Sum(acc);
        for (; t < len; t++)
        {
            sum += row[t] * v[t];
            p[t] += vi * row[t];
        }
        return sum;
    }

    // Implicit QL on the symmetric tridiagonal (d, e) with e[i] = T[i,i+1] (EISPACK tql2 scheme), from cur on until the
    // sweep numbered stopAt would begin (or the end). A sweep's rotations go to the rows of zt when given and to log
    // (i, c, s; count of them so far) when given; before each sweep, trace may keep the state.
    private static void TridiagonalQl(double[] d, double[] e, ref QlCursor cur, long stopAt, DenseMatrix? zt, double[]? log, ref int count, QlTrace? trace)
    {
        int n = d.Length;
        const double eps = 2.220446049250313e-16;
        while (cur.L < n)
        {
            int l = cur.L;
            if (!cur.Sweeping)
            {
                cur.Tst1 = Math.Max(cur.Tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
                int mm = l;
                while (mm < n - 1 && Math.Abs(e[mm]) > eps * cur.Tst1) mm++;
                if (mm == l)
                {
                    d[l] += cur.F;
                    e[l] = 0;
                    cur.L++;
                    continue;
                }
                (cur.M, cur.Iter, cur.Sweeping) = (mm, 0, true);
            }
            if (cur.Sweeps == stopAt) return;
            trace?.AtSweep(cur, d, e);
            if (++cur.Iter > 100) throw new InvalidOperationException("symmetric eigen-decomposition did not converge");
            int m = cur.M;
            double g = d[l];
            double p = (d[l + 1] - g) / (2 * e[l]);
            double r = Hypot(p, 1);
            if (p < 0) r = -r;
            d[l] = e[l] / (p + r);
            d[l + 1] = e[l] * (p + r);
            double dl1 = d[l + 1];
            double h = g - d[l];
            for (int i = l + 2; i < n; i++) d[i] -= h;
            cur.F += h;

            p = d[m];
            double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
            for (int i = m - 1; i >= l; i--)
            {
                c3 = c2; c2 = c; s2 = s;
                g = c * e[i];
                h = c * p;
                r = Hypot(p, e[i]);
                e[i + 1] = s * r;
                s = e[i] / r;
                c = p / r;
                p = c * d[i] - s * g;
                d[i + 1] = h + s * (c * g + s * d[i]);
                // (row i, row i+1) ← (c·zi − s·zi1, s·zi + c·zi1)
                if (zt != null) Rotate(zt.Row(i), zt.Row(i + 1), c, s);
                if (log != null)
                {
                    log[3 * count] = i;
                    log[3 * count + 1] = c;
                    log[3 * count + 2] = s;
                    count++;
                }
            }
            p = -s * s2 * c3 * el1 * e[l] / dl1;
            e[l] = s * p;
            d[l] = c * p;
            cur.Sweeps++;
            cur.Rotations += m - l;
            if (!(Math.Abs(e[l]) > eps * cur.Tst1))
            {
                // l's sweeps are done (as tql2's do-while ends: also when e[l] is NaN).
                d[l] += cur.F;
                e[l] = 0;
                cur.L++;
                cur.Sweeping = false;
            }
        }
    }

    /// <summary>(zi, zi1) ← (c·zi − s·zi1, s·zi + c·zi1), vectorised with separate multiplies and adds (no fused
    /// multiply-add), so every element is rounded exactly as the scalar expression rounds it.</summary>
    private static void Rotate(Span<double> zi, Span<double> zi1, double c, double s)
    {
        int k = 0, w = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (; k + w <= zi.Length; k += w)
            {
                var a = new Vector<double>(zi.Slice(k));
                var b = new Vector<double>(zi1.Slice(k));
                (vs * a + vc * b).CopyTo(zi1.Slice(k));
                (vc * a - vs * b).CopyTo(zi.Slice(k));
            }
        }
        for (; k < zi.Length; k++)
        {
            double hk = zi1[k];
            zi1[k] = s * zi[k] + c * hk;
            zi[k] = c * zi[k] - s * hk;
        }
    }

    private static double Hypot(double a, double b)
    {
        double aa = Math.Abs(a), bb = Math.Abs(b);
        if (aa < bb) (aa, bb) = (bb, aa);
        if (aa == 0) return 0;
        double r = bb / aa;
        return aa * Math.Sqrt(1 + r * r);
    }
}
