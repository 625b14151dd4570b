using System.Numerics;
using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>Eigen-decomposition of a symmetric matrix: <c>A = V diag(Values) Vᵀ</c>.</summary>
/// <param name="Values">Eigenvalues, largest first.</param>
/// <param name="Vectors">Orthonormal eigenvectors as columns, in the order of <paramref name="Values"/>, each with its
/// largest entry (the first of equal ones) positive.</param>
public sealed record SymmetricEigen(double[] Values, DenseMatrix Vectors);

/// <summary>The symmetric eigen-decomposition: Householder tridiagonalisation, then implicit QL.</summary>
public static partial class LinearAlgebra
{
    /// <summary>
    /// Eigenvalues and eigenvectors of a symmetric matrix (Householder tridiagonalisation, then implicit QL with
    /// Wilkinson-type shifts). O(d³); when only the leading vectors are needed,
    /// <see cref="SymmetricEigen(DenseMatrix, int)"/> costs far less (one thread, 8 vectors, 2026-12-08: d = 255 about
    /// 3 ms, d = 896 about 55 ms).
    /// Only symmetry up to rounding is assumed; the upper triangle is what is read.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a) => Decompose(a, a.Rows);

    /// <summary>
    /// Every eigenvalue (largest first) and the eigenvectors of the <paramref name="vectors"/> largest only
    /// (<see cref="SymmetricEigen.Vectors"/> is n × min(vectors, n)), as LAPACK's dsyevx computes a subset: QL finds
    /// the eigenvalues without vectors (the same run, so the same values bit for bit), inverse iteration on the
    /// tridiagonal matrix finds the wanted vectors (<see cref="TridiagonalVectors"/>), and the Householder reflections
    /// take them back: O(n²) per vector after the O(n³) tridiagonalisation, instead of about 3n³ more for all of them.
    /// The vectors agree with the full decomposition's to round-off over the eigenvalue gap (both with their largest
    /// entry positive); for repeated eigenvalues they are an orthonormal basis of the same eigenspace, not always the
    /// one the full decomposition gives. Until 2026-12-08 the vectors were taken back through QL's rotations, remade
    /// from kept states: the full decomposition's exactly, for a second run of QL that cost more than this.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a, int vectors) => Decompose(a, Math.Clamp(vectors, 0, a.Rows));

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
        // good: at n = 896 (1,024 tokens of the 0.5B shape) 8 MB a thread, against a decomposition of about 55 ms.
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
            foreach (var (start, v) in householder) Reflect(zt, start, v, tmp);
        }

        // Inverse iteration for a few vectors reads T as it was before QL.
        (double[] D, double[] E) tridiagonal = !all && wanted > 0 ? ((double[])diag.Clone(), (double[])off.Clone()) : default;
        TridiagonalQl(diag, off, zt);

        var order = Enumerable.Range(0, n).OrderByDescending(i => diag[i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => diag[i]).ToArray();
        var vecs = new DenseMatrix(n, wanted);
        if (zt != null)
            for (int c = 0; c < n; c++)
            {
                var src = zt.Row(order[c]);
                for (int r = 0; r < n; r++) vecs.Data[r * n + c] = src[r];
            }
        else if (wanted > 0)
        {
            vecs = TridiagonalVectors(tridiagonal.D, tridiagonal.E, values.AsSpan(0, wanted));
            BackTransform(householder, vecs);
        }
        LargestEntryPositive(vecs);
        return new SymmetricEigen(values, vecs);
    }

    // The eigenvectors of T in y's columns (rows indexed as T's) taken back to A's: y ← Q y with Q = H_0…H_m,
    // the reflections applied last to first to all columns at once (the rows of the n × k result are contiguous).
    private static void BackTransform(List<(int Start, double[] V)> householder, DenseMatrix y)
    {
        var t = new double[y.Cols];
        for (int h = householder.Count - 1; h >= 0; h--) Reflect(y, householder[h].Start, householder[h].V, t);
    }

    // m ← H m for H = I − 2vvᵀ acting on rows start .. start + |v| − 1 of m: t = vᵀ(those rows), then each row −= 2v_r·t
    // (whole rows at a time; t is scratch of m.Cols values).
    private static void Reflect(DenseMatrix m, int start, double[] v, double[] t)
    {
        Array.Clear(t);
        for (int r = 0; r < v.Length; r++) TensorPrimitives.MultiplyAdd(m.Row(start + r), v[r], t, t);
        for (int r = 0; r < v.Length; r++) TensorPrimitives.MultiplyAdd(t, -2 * v[r], m.Row(start + r), m.Row(start + r));
    }

    // Each column's sign chosen so that its largest entry (the first of equal ones) is positive: a fixed convention for
    // vectors whose sign is otherwise whatever the start of inverse iteration made it.
    private static void LargestEntryPositive(DenseMatrix y)
    {
        for (int c = 0; c < y.Cols; c++)
        {
            int at = 0;
            for (int r = 1; r < y.Rows; r++)
                if (Math.Abs(y[r, c]) > Math.Abs(y[at, c])) at = r;
            if (y[at, c] < 0)
                for (int r = 0; r < y.Rows; r++) y[r, c] = -y[r, c];
        }
    }

    // Implicit QL on the symmetric tridiagonal (d, e) with e[i] = T[i,i+1] (EISPACK tql2 scheme): d ends as the
    // eigenvalues (unordered); each sweep's rotations also go to the rows of zt when it is given.
    private static void TridiagonalQl(double[] d, double[] e, DenseMatrix? zt)
    {
        int n = d.Length;
        const double eps = 2.220446049250313e-16;
        double f = 0, tst1 = 0;
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > eps * tst1) m++;
            // Sweeps with this m until e[l] is negligible (as tql2's do-while ends: also when e[l] is NaN).
            for (int iter = 1; m > l; iter++)
            {
                if (iter > 100) throw new InvalidOperationException("symmetric eigen-decomposition did not converge");
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
                    // (row i, row i+1) ← (c·zi − s·zi1, s·zi + c·zi1)
                    if (zt != null) Rotate(zt.Row(i), zt.Row(i + 1), c, s);
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if (!(Math.Abs(e[l]) > eps * tst1)) break;
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

    // √(a² + b²). Where neither square can overflow nor the smaller one underflow (|values| between 1e-150 and 1e150,
    // every Gram matrix of finite float rows) directly: QL makes a chain of these, one per rotation, and without the
    // scaled form's division it took 16% less (n = 896, 2026-12-08). Outside that range scaled by the larger, as
    // EISPACK's pythag.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static double Hypot(double a, double b)
    {
        double aa = Math.Abs(a), bb = Math.Abs(b);
        if (aa < bb) (aa, bb) = (bb, aa);
        if (aa < 1e150 && bb > 1e-150) return Math.Sqrt(aa * aa + bb * bb);
        if (aa == 0) return 0;
        double r = bb / aa;
        return aa * Math.Sqrt(1 + r * r);
    }
}
