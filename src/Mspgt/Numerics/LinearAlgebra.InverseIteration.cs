namespace Mspgt.Numerics;

/// <summary>A few eigenvectors of a symmetric tridiagonal matrix by inverse iteration (LAPACK's dstein scheme).</summary>
public static partial class LinearAlgebra
{
    /// <summary>Inverse-iteration solves per vector before it is declared unconverged (dstein's MAXITS).</summary>
    private const int InverseIterationSolves = 5;

    /// <summary>
    /// The eigenvectors of the symmetric tridiagonal T (diagonal <paramref name="d"/>, T[i, i+1] = <paramref name="e"/>[i])
    /// for its eigenvalues <paramref name="values"/> (largest first, as QL found them), as the columns of an n × k matrix.
    /// This is what LAPACK's dsyevx does for a subset of vectors (dstein): each vector solves (T − λI)x = b from a
    /// seeded start until it has grown by about 1/√(10n) times ‖T‖·n, then twice more; vectors whose eigenvalues lie
    /// within 10⁻³‖T‖ of the previous one form a cluster, and each is re-orthogonalised against the cluster's earlier
    /// ones after every solve (an eigenvalue equal to its neighbour to 10 ulps is moved apart by that much first, so the
    /// solves differ). Residuals and orthogonality are QL's (about ε‖T‖, and ε‖T‖ over the eigenvalue gap); the cost is
    /// O(n) per solve instead of running QL's n² rotations again. Inside a cluster of equal eigenvalues any orthonormal
    /// basis of the eigenspace is an answer, and this gives one, not the one the full decomposition gives. Each vector is
    /// scaled to unit length (its sign is set by the caller, once the vector is taken back to the original basis).
    /// </summary>
    internal static DenseMatrix TridiagonalVectors(ReadOnlySpan<double> d, ReadOnlySpan<double> e, ReadOnlySpan<double> values)
    {
        int n = d.Length, k = values.Length;
        var z = new DenseMatrix(n, k);
        if (k == 0) return z;
        const double eps = 2.220446049250313e-16;
        double norm = 0;   // ‖T‖₁
        for (int i = 0; i < n; i++)
            norm = Math.Max(norm, Math.Abs(d[i]) + (i > 0 ? Math.Abs(e[i - 1]) : 0) + (i < n - 1 ? Math.Abs(e[i]) : 0));
        if (n == 1 || norm == 0)
        {
            // T is 1 × 1 or zero: the unit vectors, in order.
            for (int j = 0; j < k; j++) z[j, j] = 1;
            return z;
        }
        double clusterGap = 1e-3 * norm, grown = Math.Sqrt(0.1 / n);
        var lu = new TridiagonalLu(n);
        var x = new double[n];
        var columns = new double[k][];
        int clusterStart = 0;
        double previous = 0;
        for (int j = 0; j < k; j++)
        {
            double lambda = values[j];
            if (j > 0)
            {
                if (previous - lambda > clusterGap) clusterStart = j;
                double apart = 10 * eps * Math.Abs(lambda);
                if (previous - lambda < apart) lambda = previous - apart;
            }
            lu.Factor(d, e, lambda);
            // A seeded start in (−1, 1), the same for vector j whatever else runs.
            var random = new SplitMix64(0x5EED_0000UL + (ulong)j);
            for (int i = 0; i < n; i++) x[i] = 2 * ((random.NextUInt64() >> 11) * (1.0 / (1UL << 53))) - 1;
            int solves = 0, checks = 0;
            while (true)
            {
                if (++solves > InverseIterationSolves)
                    throw new InvalidOperationException($"inverse iteration did not converge for eigenvalue {values[j]:R} of a {n} x {n} tridiagonal matrix");
                double sum = 0;
                for (int i = 0; i < n; i++) sum += Math.Abs(x[i]);
                double scale = n * norm * Math.Max(eps, Math.Abs(lu.LastPivot)) / sum;
                for (int i = 0; i < n; i++) x[i] *= scale;
                lu.Solve(x, eps * norm);
                for (int c = clusterStart; c < j; c++)
                {
                    var q = columns[c];
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += q[i] * x[i];
                    for (int i = 0; i < n; i++) x[i] -= dot * q[i];
                }
                if (Math.Abs(x[LargestEntry(x)]) < grown) continue;
                if (++checks < 3) continue;
                break;
            }
            double length = 0;
            for (int i = 0; i < n; i++) length += x[i] * x[i];
            double unit = 1 / Math.Sqrt(length);
            var col = columns[j] = new double[n];
            for (int i = 0; i < n; i++) col[i] = x[i] * unit;
            for (int i = 0; i < n; i++) z[i, j] = col[i];
            previous = lambda;
        }
        return z;
    }

    private static int LargestEntry(double[] x)
    {
        int at = 0;
        for (int i = 1; i < x.Length; i++)
            if (Math.Abs(x[i]) > Math.Abs(x[at])) at = i;
        return at;
    }

    /// <summary>
    /// T − λI = P L U for a symmetric tridiagonal T, by Gaussian elimination with partial pivoting (LAPACK's dgttrf:
    /// U has two superdiagonals where rows were exchanged), and solves with it whose pivots below a tolerance are
    /// raised to it (dlagts's perturbation), since λ is an eigenvalue and T − λI singular to working precision.
    /// </summary>
    private sealed class TridiagonalLu(int n)
    {
        private readonly double[] _diag = new double[n], _lower = new double[n], _upper = new double[n], _upper2 = new double[n];
        private readonly bool[] _swapped = new bool[n];

        /// <summary>U's last diagonal entry: how singular the factored matrix came out (dstein scales its start by it).</summary>
        public double LastPivot => _diag[n - 1];

        public void Factor(ReadOnlySpan<double> d, ReadOnlySpan<double> e, double lambda)
        {
            for (int i = 0; i < n; i++) _diag[i] = d[i] - lambda;
            for (int i = 0; i < n - 1; i++) (_lower[i], _upper[i], _upper2[i]) = (e[i], e[i], 0);
            for (int i = 0; i < n - 1; i++)
            {
                if (Math.Abs(_diag[i]) >= Math.Abs(_lower[i]))
                {
                    // No exchange: eliminate the subdiagonal entry with row i.
                    _swapped[i] = false;
                    double factor = _diag[i] != 0 ? _lower[i] / _diag[i] : 0;
                    _lower[i] = factor;
                    _diag[i + 1] -= factor * _upper[i];
                }
                else
                {
                    // Rows i and i + 1 exchanged: row i + 1 (subdiagonal, diagonal, superdiagonal) becomes the pivot row.
                    _swapped[i] = true;
                    double factor = _diag[i] / _lower[i];
                    _diag[i] = _lower[i];
                    _lower[i] = factor;
                    double up = _upper[i];
                    _upper[i] = _diag[i + 1];
                    _diag[i + 1] = up - factor * _diag[i + 1];
                    if (i < n - 2)
                    {
                        _upper2[i] = _upper[i + 1];
                        _upper[i + 1] = -factor * _upper[i + 1];
                    }
                }
            }
        }

        /// <summary>x ← (T − λI)⁻¹ x, with |pivots| under <paramref name="tolerance"/> taken as ±tolerance.</summary>
        public void Solve(double[] x, double tolerance)
        {
            for (int i = 0; i < n - 1; i++)
            {
                if (_swapped[i]) (x[i], x[i + 1]) = (x[i + 1], x[i]);
                x[i + 1] -= _lower[i] * x[i];
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double v = x[i];
                if (i + 1 < n) v -= _upper[i] * x[i + 1];
                if (i + 2 < n) v -= _upper2[i] * x[i + 2];
                double pivot = _diag[i];
                if (Math.Abs(pivot) < tolerance) pivot = pivot < 0 ? -tolerance : tolerance;
                x[i] = v / pivot;
            }
        }
    }
}
