using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class TwoNnIntrinsicDimensionTests
{
    /// <summary>n points uniform in [0,1]^d, embedded by a random rotation into an ambient space, plus an offset.</summary>
    private static DenseMatrix UniformInSubspace(int n, int d, int ambient, Random rng)
    {
        var cube = new DenseMatrix(n, d);
        for (int k = 0; k < cube.Data.Length; k++) cube.Data[k] = rng.NextDouble();
        var basis = OrthonormalColumns(ambient, d, rng);   // ambient × d
        var x = LinearAlgebra.MultiplyTransposed(cube, basis);   // n × ambient
        for (int k = 0; k < x.Data.Length; k++) x.Data[k] += 3;
        return x;
    }

    [Theory]
    [InlineData(2, TwoNnFit.MaximumLikelihood)]
    [InlineData(5, TwoNnFit.MaximumLikelihood)]
    [InlineData(2, TwoNnFit.LinearFit)]
    [InlineData(5, TwoNnFit.LinearFit)]
    public void UniformPointsInARotatedSubspaceGiveTheirDimension(int d, TwoNnFit fit)
    {
        var x = UniformInSubspace(2000, d, 50, new Random(40 + d));
        var r = new TwoNnIntrinsicDimension { Fit = fit }.Estimate(x);
        Assert.Equal(2000, r.Points);
        Assert.Equal(0, r.DuplicatesDropped);
        Assert.InRange(r.Dimension, 0.85 * d, 1.15 * d);
    }

    [Fact]
    public void MaximumLikelihoodOfAHandComputedConfiguration()
    {
        // Points on a line at 0, 1, 3, 7: r2/r1 = 3/1 (point 0), 2/1 (point 1), 3/2 (point 3), 6/4 (point 7)
        // → d = 4 / (ln 3 + ln 2 + 2 ln 1.5).
        var x = DenseMatrix.FromRows(new[] { new[] { 0.0 }, new[] { 1.0 }, new[] { 3.0 }, new[] { 7.0 } });
        var r = new TwoNnIntrinsicDimension().Estimate(x);
        Assert.Equal(4 / (Math.Log(3) + Math.Log(2) + 2 * Math.Log(1.5)), r.Dimension, 12);
    }

    [Fact]
    public void DuplicatePointsAreDropped()
    {
        var rng = new Random(45);
        var x = UniformInSubspace(600, 3, 10, rng);
        var withDuplicates = new DenseMatrix(700, 10);
        x.Data.CopyTo(withDuplicates.Data, 0);
        for (int i = 0; i < 100; i++) x.Row(i * 5).CopyTo(withDuplicates.Row(600 + i));
        var est = new TwoNnIntrinsicDimension();
        var clean = est.Estimate(x);
        var dup = est.Estimate(withDuplicates);
        Assert.Equal(100, dup.DuplicatesDropped);
        Assert.Equal(600, dup.Points);
        Assert.Equal(clean.Dimension, dup.Dimension, 12);
    }

    [Fact]
    public void SubsamplesDeterministicallyAboveTheCap()
    {
        var x = UniformInSubspace(1500, 3, 20, new Random(46));
        var est = new TwoNnIntrinsicDimension { MaxSamples = 500, Seed = 1 };
        var a = est.Estimate(x);
        Assert.Equal(500, a.Points);
        Assert.Equal(a.Dimension, est.Estimate(x).Dimension);
        Assert.NotEqual(a.Dimension, new TwoNnIntrinsicDimension { MaxSamples = 500, Seed = 2 }.Estimate(x).Dimension);
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        var est = new TwoNnIntrinsicDimension();
        Assert.Throws<MspgtException>(() => est.Estimate(new DenseMatrix(2, 3)));
        Assert.Throws<MspgtException>(() => est.Estimate(new DenseMatrix(50, 3)));   // one distinct point
        var nan = Gaussian(20, 3, new Random(47));
        nan[2, 2] = double.NaN;
        Assert.Throws<MspgtException>(() => est.Estimate(nan));
        Assert.Throws<MspgtException>(() => new TwoNnIntrinsicDimension { DiscardFraction = 1 }.Estimate(Gaussian(20, 3, new Random(1))));
    }
}
