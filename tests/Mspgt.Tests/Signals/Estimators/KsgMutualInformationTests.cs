using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class KsgMutualInformationTests
{
    [Theory]
    [InlineData(0.8)]
    [InlineData(0.5)]
    public void OneDimensionalGaussianMatchesTheClosedForm(double rho)
    {
        var (x, y) = CorrelatedPairs(2000, new[] { rho }, new Random(11));
        var r = new KsgMutualInformation().Estimate(x, y);
        Assert.Equal(2000, r.Samples);
        Assert.Equal(1, r.ComponentsX);
        Assert.Equal(GaussianMi(new[] { rho }), r.Nats, 0.05);
    }

    [Fact]
    public void TwoDimensionalGaussianMatchesTheClosedForm()
    {
        var rho = new[] { 0.9, 0.5 };
        var rng = new Random(12);
        var (x, y) = CorrelatedPairs(2500, rho, rng);
        // an invertible mixing of each side must not matter (both are whitened first)
        var r = new KsgMutualInformation().Estimate(Multiply(x, Invertible(2, rng)), Multiply(y, Invertible(2, rng)));
        Assert.Equal(GaussianMi(rho), r.Nats, 0.08);
    }

    [Fact]
    public void IndependentVariablesGiveAboutZero()
    {
        var rng = new Random(13);
        var r = new KsgMutualInformation().Estimate(Gaussian(1500, 2, rng), Gaussian(1500, 2, rng));
        Assert.InRange(r.Nats, -0.03, 0.03);
    }

    [Fact]
    public void SubsamplesDeterministicallyAboveTheCap()
    {
        var (x, y) = CorrelatedPairs(2000, new[] { 0.8 }, new Random(14));
        var est = new KsgMutualInformation { MaxSamples = 1000, Seed = 5 };
        var a = est.Estimate(x, y);
        var b = est.Estimate(x, y);
        Assert.Equal(1000, a.Samples);
        Assert.Equal(a.Nats, b.Nats);   // bit-identical
        var c = new KsgMutualInformation { MaxSamples = 1000, Seed = 6 }.Estimate(x, y);
        Assert.NotEqual(a.Nats, c.Nats);
        Assert.Equal(GaussianMi(new[] { 0.8 }), a.Nats, 0.08);
    }

    [Fact]
    public void DuplicateSamplesDoNotBreakTheEstimate()
    {
        var (x, y) = CorrelatedPairs(1000, new[] { 0.8 }, new Random(15));
        for (int i = 0; i < 20; i++) { x[i, 0] = 0.25; y[i, 0] = -0.5; }   // 20 identical samples
        var r = new KsgMutualInformation().Estimate(x, y);
        Assert.True(double.IsFinite(r.Nats));
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        var rng = new Random(16);
        var est = new KsgMutualInformation();
        Assert.Throws<MspgtException>(() => est.Estimate(Gaussian(100, 2, rng), Gaussian(90, 2, rng)));
        Assert.Throws<MspgtException>(() => est.Estimate(Gaussian(4, 2, rng), Gaussian(4, 2, rng)));
        var inf = Gaussian(100, 2, rng);
        inf[3, 0] = double.PositiveInfinity;
        Assert.Throws<MspgtException>(() => est.Estimate(inf, Gaussian(100, 2, rng)));
        Assert.Throws<MspgtException>(() => new KsgMutualInformation { Neighbors = 0 }.Estimate(Gaussian(100, 2, rng), Gaussian(100, 2, rng)));
    }
}
