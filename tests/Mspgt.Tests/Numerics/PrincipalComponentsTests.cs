using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

public class PrincipalComponentsTests
{
    [Fact]
    public void RecoversTheVariancesOfARotatedAxisAlignedCloud()
    {
        // Exact construction: ±a along each axis (so the sample variance is known exactly), then rotated.
        double[] sd = { 3, 2, 1 };
        var rows = new List<double[]>();
        for (int axis = 0; axis < 3; axis++)
            foreach (int sign in new[] { -1, 1 })
            {
                var r = new double[3];
                r[axis] = sign * sd[axis];
                rows.Add(r);
            }
        var x = DenseMatrix.FromRows(rows);   // 6 points; variance along axis a = 2·sd²/(6−1)
        var q = LinearAlgebra.SymmetricEigen(LinearAlgebraTests.RandomSymmetric(3, 4)).Vectors;
        var rotated = LinearAlgebra.MultiplyTransposed(x, q);   // rows · Qᵀ
        for (int k = 0; k < rotated.Data.Length; k++) rotated.Data[k] += 10;
        var pca = PrincipalComponents.Fit(rotated, 5);
        Assert.Equal(3, pca.Count);
        for (int a = 0; a < 3; a++) Assert.Equal(2 * sd[a] * sd[a] / 5, pca.Variances[a], 10);
        Assert.Equal(2 * (9 + 4 + 1) / 5.0, pca.TotalVariance, 10);
        for (int a = 0; a < 3; a++)   // direction a is ±column a of Q
            Assert.Equal(1, Math.Abs(Enumerable.Range(0, 3).Sum(r => pca.Directions[r, a] * q[r, a])), 10);
    }

    [Fact]
    public void WhitenedScoresHaveIdentityCovariance()
    {
        var x = LinearAlgebraTests.RandomMatrix(200, 7, 5);
        var z = PrincipalComponents.Fit(x, 7).Project(x, whiten: true);
        var cov = LinearAlgebra.Covariance(z);
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++)
                Assert.Equal(i == j ? 1 : 0, cov[i, j], 10);
    }

    [Fact]
    public void SampleSpaceRouteAgreesWithFeatureSpaceRoute()
    {
        // n = 12 < d = 30 uses the Gram matrix; compare with the covariance eigenvalues directly.
        var x = LinearAlgebraTests.RandomMatrix(12, 30, 6);
        var pca = PrincipalComponents.Fit(x, 20);
        Assert.Equal(11, pca.Count);   // centered rank n − 1
        var cov = LinearAlgebra.Covariance(x);
        var expected = LinearAlgebra.SymmetricEigenvalues(cov);
        for (int i = 0; i < 11; i++) Assert.Equal(expected[i], pca.Variances[i], 10);
        var scores = pca.Project(x, whiten: false);
        var scoreCov = LinearAlgebra.Covariance(scores);
        for (int i = 0; i < 11; i++) Assert.Equal(expected[i], scoreCov[i, i], 9);
        var dtd = LinearAlgebra.TransposeMultiply(pca.Directions, pca.Directions);
        for (int i = 0; i < 11; i++) for (int j = 0; j < 11; j++) Assert.Equal(i == j ? 1 : 0, dtd[i, j], 9);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<MspgtException>(() => PrincipalComponents.Fit(new DenseMatrix(1, 3), 2));
        Assert.Throws<MspgtException>(() => PrincipalComponents.Fit(new DenseMatrix(5, 3), 2));   // identical rows
        Assert.Throws<MspgtException>(() => PrincipalComponents.Fit(LinearAlgebraTests.RandomMatrix(5, 3, 1), 0));
        var pca = PrincipalComponents.Fit(LinearAlgebraTests.RandomMatrix(5, 3, 1), 2);
        Assert.Throws<MspgtException>(() => pca.Project(new DenseMatrix(2, 4), whiten: false));
    }
}
