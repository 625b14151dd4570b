using Mspgt.Numerics;

namespace Mspgt.Tests.Signals.Estimators;

/// <summary>Seeded synthetic data with known structure.</summary>
internal static class Synthetic
{
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static DenseMatrix Gaussian(int rows, int cols, Random rng)
    {
        var m = new DenseMatrix(rows, cols);
        for (int k = 0; k < m.Data.Length; k++) m.Data[k] = Gaussian(rng);
        return m;
    }

    /// <summary>
    /// Paired X, Y (n × ρ.Length each) where coordinate pair i is standard bivariate normal with correlation ρᵢ and
    /// pairs are independent: I(X;Y) = −½ Σ ln(1 − ρᵢ²).
    /// </summary>
    public static (DenseMatrix X, DenseMatrix Y) CorrelatedPairs(int n, double[] rho, Random rng)
    {
        int d = rho.Length;
        var x = new DenseMatrix(n, d);
        var y = new DenseMatrix(n, d);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double a = Gaussian(rng), b = Gaussian(rng);
                x[i, j] = a;
                y[i, j] = rho[j] * a + Math.Sqrt(1 - rho[j] * rho[j]) * b;
            }
        return (x, y);
    }

    public static double GaussianMi(double[] rho) => -0.5 * rho.Sum(r => Math.Log(1 - r * r));

    /// <summary>A random orthogonal matrix with orthonormal columns (rows × cols, cols ≤ rows), by Gram–Schmidt.</summary>
    public static DenseMatrix OrthonormalColumns(int rows, int cols, Random rng)
    {
        var q = Gaussian(rows, cols, rng);
        for (int j = 0; j < cols; j++)
        {
            for (int pass = 0; pass < 2; pass++)   // re-orthogonalise once for accuracy
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < rows; i++) dot += q[i, j] * q[i, k];
                    for (int i = 0; i < rows; i++) q[i, j] -= dot * q[i, k];
                }
            double norm = 0;
            for (int i = 0; i < rows; i++) norm += q[i, j] * q[i, j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < rows; i++) q[i, j] /= norm;
        }
        return q;
    }

    /// <summary>A well-conditioned random invertible matrix (identity plus a small random part).</summary>
    public static DenseMatrix Invertible(int d, Random rng)
    {
        var m = Gaussian(d, d, rng);
        for (int k = 0; k < m.Data.Length; k++) m.Data[k] *= 0.3;
        for (int i = 0; i < d; i++) m[i, i] += 1.5;
        return m;
    }

    public static DenseMatrix Multiply(DenseMatrix a, DenseMatrix b) => LinearAlgebra.Multiply(a, b);
}
