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
    public static SymmetricEigen SymmetricEigen(DenseMatrix a) => Decompose(a, a.Rows);

    /// <summary>
    /// Every eigenvalue (largest first) and the eigenvectors of the <paramref name="vectors"/> largest only
    /// (<see cref="SymmetricEigen.Vectors"/> is n × min(vectors, n)). The QL iteration runs without vectors, keeping
    /// its plane rotations; each wanted eigenvector is then e_j taken back through those rotations and the
    /// Householder reflections. That is the full decomposition's own product of orthogonal factors applied to one
    /// vector instead of to the identity, so the vectors are the same (to round-off, also inside clusters of equal
    /// eigenvalues) for O(n²) per vector after the O(n³) tridiagonalisation, instead of about 3n³ more for all of them.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a, int vectors) =>
        Decompose(a, Math.Clamp(vectors, 0, a.Rows));

    /// <summary>Eigenvalues only (largest first); much cheaper than <see cref="SymmetricEigen(DenseMatrix)"/>.</summary>
    public static double[] SymmetricEigenvalues(DenseMatrix a) => Decompose(a, 0).Values;

    private static SymmetricEigen Decompose(DenseMatrix input, int wanted)
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
        try { return Decompose(input, wanted, work); }
        finally { ReturnScratch(work); }
    }

    // a: the working copy, at least n · n values.
    private static SymmetricEigen Decompose(DenseMatrix input, int wanted, double[] a)
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

        var rotations = !all && wanted > 0 ? new RotationLog() : null;
        TridiagonalQl(diag, off, zt, rotations);

        var order = Enumerable.Range(0, n).OrderByDescending(i => diag[i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => diag[i]).ToArray();
        var vecs = new DenseMatrix(n, wanted);
        if (zt != null)
            for (int c = 0; c < n; c++)
            {
                var src = zt.Row(order[c]);
                for (int r = 0; r < n; r++) vecs.Data[r * n + c] = src[r];
            }
        else if (rotations != null) BackTransform(order, rotations, householder, vecs);
        rotations?.Release();
        return new SymmetricEigen(values, vecs);
    }

    /// <summary>QL rotation chunks kept for the next decomposition now, and the most ever kept (tests).</summary>
    internal static int SpareRotationChunks => RotationLog.SpareCount;
    internal const int SpareRotationChunksBound = RotationLog.SpareChunks;

    /// <summary>One QL plane rotation: rows (I, I+1) of the vector matrix zt ← (C·zi − S·zi1, S·zi + C·zi1).</summary>
    private readonly record struct PlaneRotation(int I, double C, double S);

    /// <summary>
    /// QL's rotations in order (about n² of them: 69k, 1.7 MB, for n = 255; four times that for n = 511), kept in
    /// chunks small enough for the young generation (2,048 rotations, 48 KB). One growing list per decomposition cost
    /// more than the QL arithmetic itself (9 against 1.3 ms at n = 255 on the 2-core VM): its doublings put about 6 MB
    /// of large-object arrays on fresh pages each time, and that garbage brought full collections. Chunks rented from
    /// the shared array pool fared better but not well from n ≈ 500 on: the pool keeps a few dozen arrays of a size,
    /// so a decomposition's other chunks were new each time, fresh pages the kernel had to fault in and zero (page
    /// faults were 10% of an n = 511 decomposition with 8 vectors). Used chunks are kept for the next decomposition, up
    /// to <see cref="SpareChunks"/> (16 MB) for the whole process; only the entries written are ever read. Until
    /// 2026-12-08 each thread kept its own 8 MB, so the spares grew with the thread count (128 MB at 16 threads).
    /// </summary>
    private sealed class RotationLog
    {
        private const int ChunkSize = 2048;

        /// <summary>Chunks the process keeps between decompositions: 16 MB, what two threads kept when each had its own
        /// (all of the rotations of a decomposition up to n ≈ 590), whatever the thread count.</summary>
        internal const int SpareChunks = 340;

        private static readonly System.Collections.Concurrent.ConcurrentBag<PlaneRotation[]> s_spare = [];
        private static int s_spareCount;

        /// <summary>Spare chunks kept now (tests: never above <see cref="SpareChunks"/>, whatever ran on how many threads).</summary>
        internal static int SpareCount => s_spare.Count;

        private readonly List<PlaneRotation[]> _chunks = [];
        private int _last = ChunkSize;   // entries used in the last chunk

        public void Add(PlaneRotation r)
        {
            if (_last == ChunkSize)
            {
                if (s_spare.TryTake(out var spare)) Interlocked.Decrement(ref s_spareCount);
                _chunks.Add(spare ?? new PlaneRotation[ChunkSize]);
                _last = 0;
            }
            _chunks[^1][_last++] = r;
        }

        /// <summary>Hands the chunks to the spares, as many as they have room for.</summary>
        public void Release()
        {
            foreach (var c in _chunks)
            {
                if (Interlocked.Increment(ref s_spareCount) > SpareChunks) { Interlocked.Decrement(ref s_spareCount); break; }
                s_spare.Add(c);
            }
            _chunks.Clear();
            _last = ChunkSize;
        }

        public int ChunkCount => _chunks.Count;
        public PlaneRotation[] Chunk(int i) => _chunks[i];
        public int Used(int i) => i == _chunks.Count - 1 ? _last : ChunkSize;
    }

    // Row j of the final zt = e_jᵀ G_N…G_1 Qᵀ, i.e. the eigenvector is Q G_1ᵀ…G_Nᵀ e_j with Q = H_0…H_m: apply the
    // transposed rotations last to first, then the reflections last to first, to all wanted e_j at once (the rows
    // of the n × k result are contiguous k-vectors).
    private static void BackTransform(int[] order, RotationLog rotations, List<(int Start, double[] V)> householder, DenseMatrix y)
    {
        int k = y.Cols;
        for (int c = 0; c < k; c++) y[order[c], c] = 1;
        for (int chunk = rotations.ChunkCount - 1; chunk >= 0; chunk--)
        {
            var rs = rotations.Chunk(chunk);
            for (int r = rotations.Used(chunk) - 1; r >= 0; r--)
            {
                var (i, co, si) = rs[r];
                Rotate(y.Row(i + 1), y.Row(i), co, si);   // (y_i, y_i1) ← (c·y_i + s·y_i1, c·y_i1 − s·y_i)
            }
        }
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

    // Implicit QL on the symmetric tridiagonal (d, e) with e[i] = T[i,i+1] (EISPACK tql2 scheme). Rotations are applied
    // to the rows of zt when given.
    private static void TridiagonalQl(double[] d, double[] e, DenseMatrix? zt, RotationLog? rotations)
    {
        int n = d.Length;
        double f = 0, tst1 = 0;
        const double eps = 2.220446049250313e-16;
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > eps * tst1) m++;
            if (m > l)
            {
                int iter = 0;
                do
                {
                    if (++iter > 100) throw new InvalidOperationException("symmetric eigen-decomposition did not converge");
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;

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
                        if (zt != null)
                        {
                            // (row i, row i+1) ← (c·zi − s·zi1, s·zi + c·zi1)
                            Rotate(zt.Row(i), zt.Row(i + 1), c, s);
                        }
                        rotations?.Add(new PlaneRotation(i, c, s));
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
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
