using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class SignalFusionTests
{
    [Fact]
    public void ZScoreUsesPopulationSd()
    {
        // mean 2, population sd √(2/3)
        var z = SignalFusion.ZScore([1.0, 2.0, 3.0]);
        double sd = Math.Sqrt(2.0 / 3);
        Assert.Equal(-1 / sd, z[0], 12);
        Assert.Equal(0, z[1], 12);
        Assert.Equal(1 / sd, z[2], 12);
    }

    [Fact]
    public void ConstantCurveGivesZeros()
    {
        Assert.All(SignalFusion.ZScore(Enumerable.Repeat(0.1, 10).ToArray()), v => Assert.Equal(0.0, v));
        Assert.All(SignalFusion.ZScore([5.0, 5.0, 5.0]), v => Assert.Equal(0.0, v));
        double[,] x = { { 1, 7 }, { 2, 7 }, { 3, 7 } };
        var z = SignalFusion.Standardize(x);
        Assert.True(SignalFusion.IsConstantColumn(z, 1));
        Assert.False(SignalFusion.IsConstantColumn(z, 0));
        Assert.DoesNotContain(z.Cast<double>(), double.IsNaN);
    }

    [Fact]
    public void FusionIsWeightedMeanOfStandardisedSignals()
    {
        double[,] x = { { 1, 10 }, { 2, 30 }, { 3, 20 } };
        var z = SignalFusion.Standardize(x);
        string[] names = ["attn", "mi"];
        var equal = SignalFusion.Fuse(z, SignalFusion.Weights(names, null));
        var weighted = SignalFusion.Fuse(z, SignalFusion.Weights(names, new Dictionary<string, double> { ["attn"] = 3, ["mi"] = 1 }));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal((z[i, 0] + z[i, 1]) / 2, equal[i], 12);
            Assert.Equal(0.75 * z[i, 0] + 0.25 * z[i, 1], weighted[i], 12);
        }
        Assert.Equal([1.0, 0.0], SignalFusion.Weights(names, new Dictionary<string, double> { ["attn"] = 2 }));
    }

    [Fact]
    public void UnknownOrBadWeightsThrow()
    {
        string[] names = ["attn", "mi"];
        var e = Assert.Throws<MspgtException>(() => SignalFusion.Weights(names, new Dictionary<string, double> { ["cka"] = 1 }));
        Assert.Contains("'cka'", e.Message);
        Assert.Contains("attn, mi", e.Message);
        Assert.Throws<MspgtException>(() => SignalFusion.Weights(names, new Dictionary<string, double> { ["mi"] = -1 }));
        Assert.Throws<MspgtException>(() => SignalFusion.Weights(names, new Dictionary<string, double> { ["mi"] = 0 }));
        Assert.Throws<MspgtException>(() => SignalFusion.Weights(names, new Dictionary<string, double> { ["mi"] = double.NaN }));
    }
}
