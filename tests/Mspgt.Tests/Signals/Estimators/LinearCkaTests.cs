using CsCheck;
using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class LinearCkaTests
{
    [Fact]
    public void IdenticalRepresentationsGiveOne()
    {
        var x = Gaussian(300, 12, new Random(21));
        Assert.Equal(1, LinearCka.Compute(x, x), tolerance: 1e-12);
        Assert.Equal(1, LinearCka.Compute(x, x.Clone()), tolerance: 1e-12);
    }

    [Fact]
    public void OneDimensionalCkaIsTheSquaredCorrelation()
    {
        var (x, y) = CorrelatedPairs(500, new[] { 0.6 }, new Random(22));
        double mx = 0, my = 0;
        for (int i = 0; i < 500; i++) { mx += x[i, 0]; my += y[i, 0]; }
        mx /= 500; my /= 500;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < 500; i++)
        {
            sxy += (x[i, 0] - mx) * (y[i, 0] - my);
            sxx += (x[i, 0] - mx) * (x[i, 0] - mx);
            syy += (y[i, 0] - my) * (y[i, 0] - my);
        }
        Assert.Equal(sxy * sxy / (sxx * syy), LinearCka.Compute(x, y), tolerance: 1e-12);
    }

    [Fact]
    public void InvariantToOrthogonalTransformsAndIsotropicScaling()
    {
        Gen.Int[1, 1_000_000].Sample(seed =>
        {
            var rng = new Random(seed);
            int n = 40 + rng.Next(60), dx = 2 + rng.Next(10), dy = 2 + rng.Next(10);
            var x = Gaussian(n, dx, rng);
            var y = Multiply(x, Gaussian(dx, dy, rng));
            var noise = Gaussian(n, dy, rng);
            for (int k = 0; k < y.Data.Length; k++) y.Data[k] += noise.Data[k];
            double before = LinearCka.Compute(x, y);
            var q = OrthonormalColumns(dx, dx, rng);
            double scale = 0.01 + 100 * rng.NextDouble();
            var xt = Multiply(x, q);
            for (int k = 0; k < xt.Data.Length; k++) xt.Data[k] = xt.Data[k] * scale + 3;   // + translation
            double after = LinearCka.Compute(xt, y);
            Assert.Equal(before, after, tolerance: 1e-9);
            Assert.Equal(before, LinearCka.Compute(y, x), tolerance: 1e-12);   // symmetric
            Assert.InRange(before, 0, 1);
        }, iter: 40);
    }

    [Fact]
    public void IndependentRepresentationsGiveAboutZero()
    {
        var rng = new Random(23);
        double cka = LinearCka.Compute(Gaussian(5000, 10, rng), Gaussian(5000, 10, rng));
        Assert.InRange(cka, 0, 0.01);   // expected ≈ √(dx·dy)/n = 0.002
    }

    [Fact]
    public void SampleSpaceAndFeatureSpaceFormsAgree()
    {
        // n = 20 < d = 50 takes the Gram route; the triple loop below is the definition.
        var rng = new Random(24);
        var x = Gaussian(20, 50, rng);
        var y = Multiply(x, Gaussian(50, 60, rng));
        var xc = LinearAlgebra.Center(x);
        var yc = LinearAlgebra.Center(y);
        double Fro2(DenseMatrix m) => m.Data.Sum(v => v * v);
        double expected = Fro2(NaiveTransposeMultiply(yc, xc)) /
                          Math.Sqrt(Fro2(NaiveTransposeMultiply(xc, xc)) * Fro2(NaiveTransposeMultiply(yc, yc)));
        Assert.Equal(expected, LinearCka.Compute(x, y), 10);
        var small = Gaussian(200, 5, rng);   // feature route
        var other = Gaussian(200, 7, rng);
        var sc = LinearAlgebra.Center(small);
        var oc = LinearAlgebra.Center(other);
        double expected2 = Fro2(NaiveTransposeMultiply(oc, sc)) /
                           Math.Sqrt(Fro2(NaiveTransposeMultiply(sc, sc)) * Fro2(NaiveTransposeMultiply(oc, oc)));
        Assert.Equal(expected2, LinearCka.Compute(small, other), tolerance: 1e-12);
    }

    private static DenseMatrix NaiveTransposeMultiply(DenseMatrix a, DenseMatrix b)
    {
        var c = new DenseMatrix(a.Cols, b.Cols);
        for (int i = 0; i < a.Cols; i++)
            for (int j = 0; j < b.Cols; j++)
                for (int r = 0; r < a.Rows; r++)
                    c[i, j] += a[r, i] * b[r, j];
        return c;
    }

    [Fact]
    public void LayerMatrixIsSymmetricWithUnitDiagonalAndMatchesPairs()
    {
        var rng = new Random(25);
        var layers = new List<DenseMatrix> { Gaussian(400, 8, rng) };
        for (int l = 1; l < 5; l++)
        {
            var next = Multiply(layers[^1], Invertible(8, rng));
            var noise = Gaussian(400, 8, rng);
            for (int k = 0; k < next.Data.Length; k++) next.Data[k] += 0.5 * noise.Data[k];
            layers.Add(next);
        }
        var m = LinearCka.LayerMatrix(layers);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(1, m[i, i]);
            for (int j = 0; j < 5; j++)
            {
                Assert.Equal(m[i, j], m[j, i]);
                Assert.Equal(LinearCka.Compute(layers[i], layers[j]), m[i, j], tolerance: 1e-12);
            }
        }
        Assert.True(m[0, 1] > m[0, 4]);   // similarity decays with distance along the chain
        var sub = LinearCka.LayerMatrix(layers, maxSamples: 100, seed: 3);
        Assert.Equal(sub.Data, LinearCka.LayerMatrix(layers, maxSamples: 100, seed: 3).Data);
        Assert.NotEqual(m.Data, sub.Data);
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        var rng = new Random(26);
        Assert.Throws<MspgtException>(() => LinearCka.Compute(Gaussian(10, 3, rng), Gaussian(11, 3, rng)));
        Assert.Throws<MspgtException>(() => LinearCka.Compute(new DenseMatrix(10, 3), Gaussian(10, 3, rng)));
        Assert.Throws<MspgtException>(() => LinearCka.LayerMatrix(new List<DenseMatrix>()));
        Assert.Throws<MspgtException>(() => LinearCka.LayerMatrix(new[] { Gaussian(10, 3, rng), Gaussian(12, 3, rng) }));
        var nan = Gaussian(10, 3, rng);
        nan[0, 0] = double.NaN;
        Assert.Throws<MspgtException>(() => LinearCka.Compute(nan, Gaussian(10, 3, rng)));
    }
}
