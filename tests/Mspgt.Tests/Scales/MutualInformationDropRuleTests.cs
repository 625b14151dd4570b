using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class MutualInformationDropRuleTests
{
    [Fact]
    public void PlantedStepDownInMiGivesBoundaryAfterThePair()
    {
        // 24 layers → 23 adjacent pairs. I(l) is high for pairs 0..9 and low from pair 10 (layers 10 and 11) on:
        // the break is between layers 10 and 11, so the boundary is 11.
        for (int seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            var mi = Enumerable.Range(0, 23).Select(l => (l < 10 ? 2.0 : 1.0) + 0.05 * Synthetic.Gaussian(rng)).ToArray();
            Assert.Equal([11], MutualInformationDropRule.Find(mi));
        }
    }

    [Fact]
    public void SingleDipAndIndexMapping()
    {
        // Flat MI with a dip at pair 5: ΔI(4) = −1 (the drop), ΔI(5) = +1. Drop at ΔI index 4 → boundary 6.
        var mi = Enumerable.Repeat(3.0, 12).ToArray();
        mi[5] = 2.0;
        var delta = MutualInformationDropRule.Differences(mi);
        Assert.Equal(-1.0, delta[4]);
        Assert.Equal(1.0, delta[5]);
        Assert.Equal([6], MutualInformationDropRule.Find(mi));
        // Same mapping by hand: 11 differences, mean 0, sample sd √(2/10); threshold −2·√0.2 ≈ −0.894 < −1? yes.
        Assert.True(-1.0 < -2 * Math.Sqrt(0.2));
    }

    [Fact]
    public void SmoothCurveHasNoBoundaryAndBadInputThrows()
    {
        Assert.Empty(MutualInformationDropRule.Find(Enumerable.Range(0, 20).Select(l => 5.0 - 0.1 * l).ToArray()));
        Assert.Throws<MspgtException>(() => MutualInformationDropRule.Find([1.0, 2.0]));
        Assert.Throws<MspgtException>(() => MutualInformationDropRule.Find([1.0, double.NaN, 2.0, 3.0]));
    }
}
