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

    private static float[] AsFloats(DenseMatrix x) => x.Data.Select(v => (float)v).ToArray();

    private static CenteredGram WithSampleGram(DenseMatrix x)
    {
        var g = CenteredGram.Of(x);
        g.AddSampleGram();
        return g;
    }

    /// <summary>
    /// The float-row entry (analyze's representations, never widened whole) gives the matrix entry's result on the
    /// widened rows bit for bit: on distinct rows with the sample Gram (its own path: each exact distance widens its
    /// two rows), in the feature form and the sample form, and where it hands over to the matrix path (duplicate
    /// rows, a subsample, no sample Gram).
    /// </summary>
    [Theory]
    [InlineData(300, 40, 0)]      // feature form, sample Gram added
    [InlineData(60, 200, 0)]      // sample form
    [InlineData(300, 40, 25)]     // 25 duplicate rows: the matrix path
    public void FloatRowsGiveTheWidenedMatrixResultBitForBit(int n, int d, int duplicates)
    {
        var rng = new Random(n + d + duplicates);
        var x = Gaussian(n, d, rng);
        for (int i = 0; i < duplicates; i++) x.Row(3 * i).CopyTo(x.Row(n - 1 - i));
        var f = AsFloats(x);
        var widened = DenseMatrix.FromFloats(f, n, d);
        var g = WithSampleGram(widened);
        foreach (var est in new[] { new TwoNnIntrinsicDimension { Seed = 3 }, new TwoNnIntrinsicDimension { Fit = TwoNnFit.LinearFit } })
        {
            var expected = est.Estimate(widened, g);
            var got = est.Estimate(f, n, d, g);
            Assert.Equal(expected, got);   // the record: dimension, points and duplicates dropped, exactly
            Assert.Equal(duplicates, got.DuplicatesDropped);
        }
        var capped = new TwoNnIntrinsicDimension { MaxSamples = n / 2, Seed = 4 };
        Assert.Equal(capped.Estimate(widened, g), capped.Estimate(f, n, d, g));
        var featureOnly = CenteredGram.Of(widened);   // no sample Gram when n > d: the candidates from the rows
        if (featureOnly.SampleGram == null) Assert.Equal(new TwoNnIntrinsicDimension().Estimate(widened, featureOnly), new TwoNnIntrinsicDimension().Estimate(f, n, d, featureOnly));
    }

    [Fact]
    public void FloatRowsFailAsTheMatrixDoes()
    {
        var x = Gaussian(20, 3, new Random(48));
        var f = AsFloats(x);
        var g = WithSampleGram(DenseMatrix.FromFloats(f, 20, 3));
        f[7] = float.PositiveInfinity;
        var e = Assert.Throws<MspgtException>(() => new TwoNnIntrinsicDimension().Estimate(f, 20, 3, g));
        var expected = Assert.Throws<MspgtException>(() => new TwoNnIntrinsicDimension().Estimate(DenseMatrix.FromFloats(f, 20, 3), g));
        Assert.Equal(expected.Message, e.Message);
        Assert.Throws<ArgumentException>(() => new TwoNnIntrinsicDimension().Estimate(f, 19, 3, g));
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
