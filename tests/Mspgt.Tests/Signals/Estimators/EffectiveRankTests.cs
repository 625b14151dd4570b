using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class EffectiveRankTests
{
    [Theory]
    [InlineData(1, 40, 20)]
    [InlineData(3, 60, 30)]
    [InlineData(7, 50, 80)]   // d > n: sample-space route
    public void KEqualSingularValuesGiveExactlyK(int k, int n, int d)
    {
        var rng = new Random(30 + k);
        var x = Centered(n, d, Enumerable.Repeat(2.5, k).ToArray(), rng);
        Assert.Equal(k, EffectiveRank.Compute(x), 8);
    }

    [Fact]
    public void UnequalSingularValuesGiveTheEntropyFormula()
    {
        var s = new[] { 3.0, 1.0 };
        var x = Centered(30, 6, s, new Random(35));
        double p = 0.75, q = 0.25;
        Assert.Equal(Math.Exp(-(p * Math.Log(p) + q * Math.Log(q))), EffectiveRank.Compute(x), 9);
    }

    [Fact]
    public void IsotropicGaussianHasNearlyFullEffectiveRank()
    {
        var x = Gaussian(4000, 10, new Random(36));
        Assert.InRange(EffectiveRank.Compute(x), 9.8, 10);
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        Assert.Throws<MspgtException>(() => EffectiveRank.Compute(new DenseMatrix(1, 4)));
        Assert.Throws<MspgtException>(() => EffectiveRank.Compute(new DenseMatrix(10, 4)));   // zero variance
    }

    // Column-centered n × d matrix with singular values s: U diag(s) Vᵀ where U's columns are orthonormal and
    // orthogonal to the all-ones vector; then a constant is added to every entry (centering removes it).
    private static DenseMatrix Centered(int n, int d, double[] s, Random rng)
    {
        int k = s.Length;
        var raw = Gaussian(n, k + 1, rng);
        for (int i = 0; i < n; i++) raw[i, 0] = 1;
        var u = GramSchmidt(raw);
        var v = OrthonormalColumns(d, k, rng);
        var m = new DenseMatrix(n, d);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double sum = 0;
                for (int c = 0; c < k; c++) sum += u[i, c + 1] * s[c] * v[j, c];
                m[i, j] = sum + 5;
            }
        return m;
    }

    private static DenseMatrix GramSchmidt(DenseMatrix q)
    {
        q = q.Clone();
        for (int j = 0; j < q.Cols; j++)
        {
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < q.Rows; i++) dot += q[i, j] * q[i, k];
                    for (int i = 0; i < q.Rows; i++) q[i, j] -= dot * q[i, k];
                }
            double norm = Math.Sqrt(Enumerable.Range(0, q.Rows).Sum(i => q[i, j] * q[i, j]));
            for (int i = 0; i < q.Rows; i++) q[i, j] /= norm;
        }
        return q;
    }
}
