using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class GaussianMutualInformationTests
{
    private static readonly double[] Rho = { 0.9, 0.6, 0.3, 0.0 };

    [Fact]
    public void PlugInEstimateMatchesTheClosedForm()
    {
        // n = 20000: the plug-in sd is about 0.01 nats and its bias kx·ky/(2n) = 0.0004.
        var (x, y) = CorrelatedPairs(20000, Rho, new Random(1));
        var r = new GaussianMutualInformation { Shrinkage = 0 }.Estimate(x, y);
        Assert.Equal(GaussianMi(Rho), r.Nats, 0.03);
        Assert.Equal(4, r.ComponentsX);
        Assert.Equal(4, r.ComponentsY);
        Assert.Equal(0, r.Shrinkage);
    }

    [Fact]
    public void LedoitWolfEstimateIsCloseToTheClosedForm()
    {
        var (x, y) = CorrelatedPairs(5000, Rho, new Random(2));
        var r = new GaussianMutualInformation().Estimate(x, y);
        Assert.InRange(r.Shrinkage, 0, 0.02);
        Assert.Equal(GaussianMi(Rho), r.Nats, 0.06);
    }

    [Fact]
    public void SingleCorrelatedPairInWideSpaces()
    {
        // Signal in one coordinate of 10, plus 9 independent noise coordinates per side (all kept: d ≤ 16).
        var rng = new Random(3);
        var (x, y) = CorrelatedPairs(6000, new[] { 0.8, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, rng);
        var r = new GaussianMutualInformation { Shrinkage = 0 }.Estimate(x, y);
        Assert.Equal(-0.5 * Math.Log(1 - 0.64), r.Nats, 0.04);
    }

    [Fact]
    public void IndependentSidesGiveAboutZero()
    {
        var rng = new Random(4);
        var x = Gaussian(2000, 20, rng);
        var y = Gaussian(2000, 24, rng);
        var lw = new GaussianMutualInformation().Estimate(x, y);
        Assert.Equal(16, lw.ComponentsX);
        Assert.InRange(lw.Nats, 0, 0.02);
        // The plug-in estimate shows the expected positive bias of about kx·ky/(2n) = 0.064 nats.
        var plugIn = new GaussianMutualInformation { Shrinkage = 0 }.Estimate(x, y);
        Assert.InRange(plugIn.Nats, 0.03, 0.1);
    }

    [Fact]
    public void InvariantToInvertibleLinearMapsOfEitherSide()
    {
        var rng = new Random(5);
        var (x, y) = CorrelatedPairs(1500, Rho, rng);
        var est = new GaussianMutualInformation();
        var a = est.Estimate(x, y);
        var shift = Multiply(x, Invertible(4, rng));
        for (int i = 0; i < shift.Rows; i++) shift[i, 0] += 100;   // translations too
        var b = est.Estimate(shift, Multiply(y, Invertible(4, rng)));
        Assert.Equal(a.Nats, b.Nats, 9);
        Assert.Equal(a.Shrinkage, b.Shrinkage, 9);
        // and symmetric in its arguments
        Assert.Equal(a.Nats, est.Estimate(y, x).Nats, 9);
    }

    [Fact]
    public void RankLimitedInputUsesFewerComponents()
    {
        var rng = new Random(6);
        var (x3, y) = CorrelatedPairs(3000, new[] { 0.7, 0.5, 0.2 }, rng);
        var wide = Multiply(x3, Gaussian(3, 30, rng));   // 30 features of rank 3
        var r = new GaussianMutualInformation { Shrinkage = 0 }.Estimate(wide, y);
        Assert.Equal(3, r.ComponentsX);
        Assert.Equal(GaussianMi(new[] { 0.7, 0.5, 0.2 }), r.Nats, 0.04);
    }

    [Fact]
    public void ProjectionKeepsTheLeadingComponents()
    {
        // The shared signal sits in the high-variance directions of 40-dimensional inputs; k = 4 keeps exactly those.
        var rng = new Random(7);
        var (xs, ys) = CorrelatedPairs(4000, new[] { 0.8, 0.8, 0.8, 0.8 }, rng);
        var x = new DenseMatrix(4000, 40);
        var y = new DenseMatrix(4000, 40);
        var noise = Gaussian(4000, 80, rng);
        for (int i = 0; i < 4000; i++)
            for (int j = 0; j < 40; j++)
            {
                x[i, j] = j < 4 ? 10 * xs[i, j] : noise[i, j];
                y[i, j] = j < 4 ? 10 * ys[i, j] : noise[i, 40 + j];
            }
        var r = new GaussianMutualInformation { Components = 4, Shrinkage = 0 }.Estimate(x, y);
        Assert.Equal(4 * -0.5 * Math.Log(1 - 0.64), r.Nats, 0.06);
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        var rng = new Random(8);
        var est = new GaussianMutualInformation();
        Assert.Throws<MspgtException>(() => est.Estimate(Gaussian(50, 3, rng), Gaussian(49, 3, rng)));
        var nan = Gaussian(50, 3, rng);
        nan[7, 1] = double.NaN;
        Assert.Throws<MspgtException>(() => est.Estimate(nan, Gaussian(50, 3, rng)));
        Assert.Throws<MspgtException>(() => est.Estimate(Gaussian(20, 16, rng), Gaussian(20, 16, rng)));   // n < kx+ky+2
        Assert.Throws<MspgtException>(() => new GaussianMutualInformation { Shrinkage = 1.5 }.Estimate(Gaussian(50, 3, rng), Gaussian(50, 3, rng)));
        Assert.Throws<MspgtException>(() => est.Estimate(new DenseMatrix(50, 3), Gaussian(50, 3, rng)));   // constant
    }
}
