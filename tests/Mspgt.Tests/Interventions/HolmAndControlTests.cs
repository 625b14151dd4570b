using Mspgt.Interventions.Statistics;

namespace Mspgt.Tests.Interventions;

public class HolmAndControlTests
{
    [Fact]
    public void HolmHandComputed()
    {
        // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06.
        var adj = HolmBonferroni.Adjust([0.01, 0.04, 0.03, 0.005]);
        Assert.Equal([0.03, 0.06, 0.06, 0.02], adj.Select(p => Math.Round(p, 12)));
    }

    [Fact]
    public void HolmIsCappedMonotoneAndHandlesTies()
    {
        Assert.Equal([1.0, 1.0], HolmBonferroni.Adjust([0.5, 0.6]));
        Assert.Equal([0.04, 0.04], HolmBonferroni.Adjust([0.02, 0.03]).Select(p => Math.Round(p, 12)));
        Assert.Equal([0.03, 0.03, 0.5], HolmBonferroni.Adjust([0.01, 0.01, 0.5]).Select(p => Math.Round(p, 12)));
        Assert.Empty(HolmBonferroni.Adjust([]));
        Assert.Equal([0.2], HolmBonferroni.Adjust([0.2]));
    }

    [Fact]
    public void HolmTableIsOneFamily()
    {
        var t = HolmBonferroni.AdjustTable([[0.01, 0.04], [0.03, 0.005]]);
        Assert.Equal(0.03, t[0][0], 12);
        Assert.Equal(0.06, t[0][1], 12);
        Assert.Equal(0.06, t[1][0], 12);
        Assert.Equal(0.02, t[1][1], 12);
    }

    [Fact]
    public void HolmRejectsInvalidPValues()
    {
        Assert.Throws<MspgtException>(() => HolmBonferroni.Adjust([0.1, double.NaN]));
        Assert.Throws<MspgtException>(() => HolmBonferroni.Adjust([1.5]));
        Assert.Throws<MspgtException>(() => HolmBonferroni.Adjust([-0.1]));
    }

    [Fact]
    public void ControlComparisonHandComputed()
    {
        // |controls| = 1,2,3,4: mean 2.5, sd √(5/3); effect 3.
        var c = ControlComparison.Compare(3, [1, 2, 3, -4]);
        Assert.Equal(4, c.Controls);
        Assert.Equal(2.5, c.ControlMeanMagnitude, 12);
        Assert.Equal(1.2, c.Ratio!.Value, 12);
        Assert.Equal(0.5 / Math.Sqrt(5.0 / 3), c.Z!.Value, 12);
        Assert.Equal(0.625, c.Percentile, 12);   // 2 below, 1 tie
        Assert.Equal(0.6, c.ExceedanceP, 12);    // (2 + 1) / 5
        // The sign of the effect does not matter.
        Assert.Equal(c.Z, ControlComparison.Compare(-3, [1, 2, 3, -4]).Z);
    }

    [Fact]
    public void ControlComparisonDegenerateCases()
    {
        var zero = ControlComparison.Compare(1, [0, 0]);
        Assert.Null(zero.Ratio);
        Assert.Null(zero.Z);
        Assert.Equal(1.0, zero.Percentile);
        Assert.Equal(1.0 / 3, zero.ExceedanceP, 12);
        var single = ControlComparison.Compare(1, [2]);
        Assert.Equal(0.5, single.Ratio);
        Assert.Null(single.Z);
        Assert.Equal(0.0, single.Percentile);
        Assert.Throws<MspgtException>(() => ControlComparison.Compare(1, []));
        Assert.Throws<MspgtException>(() => ControlComparison.Compare(double.NaN, [1]));
    }
}
