using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class ScaleNamingTests
{
    private static double[] Curve(int l, Func<int, double> f) => Enumerable.Range(0, l).Select(f).ToArray();

    [Fact]
    public void ShallowLocalWhenAttentionGrowsWithDepth()
    {
        var a = ScaleNaming.Assign([3, 7], 10, Curve(10, i => i), Curve(10, i => 0.1 * i));
        Assert.Equal([0, 2], a.Local);
        Assert.Equal([3, 6], a.Intermediate);
        Assert.Equal([7, 9], a.Global);
        Assert.Equal("attention+probe", a.DecidedBy);
    }

    [Fact]
    public void DeepLocalWhenTheDataSaySo()
    {
        var a = ScaleNaming.Assign([3, 7], 10, Curve(10, i => 10 - i), null);
        Assert.Equal([7, 9], a.Local);
        Assert.Equal([3, 6], a.Intermediate);
        Assert.Equal([0, 2], a.Global);
        Assert.Equal("attention", a.DecidedBy);
    }

    [Fact]
    public void TiesAndConflictsFallBackToDepthOrder()
    {
        var flat = Curve(10, _ => 4);
        var tie = ScaleNaming.Assign([3, 7], 10, flat, null);
        Assert.Equal([0, 2], tie.Local);
        Assert.Equal("depth-order: tie", tie.DecidedBy);

        var probeOnly = ScaleNaming.Assign([3, 7], 10, flat, Curve(10, i => -i));
        Assert.Equal([7, 9], probeOnly.Local);
        Assert.Equal("probe", probeOnly.DecidedBy);

        var conflict = ScaleNaming.Assign([3, 7], 10, Curve(10, i => 10 - i), Curve(10, i => i));
        Assert.Equal([0, 2], conflict.Local);
        Assert.Equal("depth-order: conflict", conflict.DecidedBy);

        // Attention decides only through the end segments' means: the middle does not matter.
        var middle = ScaleNaming.Assign([3, 7], 10, Curve(10, i => i is >= 3 and < 7 ? 100 : i < 3 ? 2 : 1), null);
        Assert.Equal([7, 9], middle.Local);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<MspgtException>(() => ScaleNaming.Assign([3], 10, Curve(10, i => i)));
        Assert.Throws<MspgtException>(() => ScaleNaming.Assign([3, 7], 10, Curve(9, i => i)));
        Assert.Throws<MspgtException>(() => ScaleNaming.Assign([7, 3], 10, Curve(10, i => i)));
        Assert.Throws<MspgtException>(() => ScaleNaming.Assign([3, 7], 10, Curve(10, i => i == 4 ? double.NaN : i)));
    }

    [Fact]
    public void SerialisesWithLowerCaseScaleNames()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(ScaleNaming.Assign([3, 7], 10, Curve(10, i => i)));
        Assert.Equal("{\"local\":[0,2],\"intermediate\":[3,6],\"global\":[7,9],\"decided_by\":\"attention\"}", json);
    }
}
