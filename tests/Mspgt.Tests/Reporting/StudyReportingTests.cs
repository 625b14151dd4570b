using Mspgt.Reporting;
using SkiaSharp;
using Mspgt.Files;

namespace Mspgt.Tests.Reporting;

/// <summary>The pieces of reporting the study added: the boundary depth plot and nullable int columns.</summary>
public class StudyReportingTests
{
    private static BoundaryDepthData Sample() => new("depths",
    [
        new BoundaryDepthRow("llama 1B", [0.25, 0.75], [[0.2, 0.3], [0.7, 0.8]]),
        new BoundaryDepthRow("qwen 1B", [0.1, 0.5], [[0.1, 0.1], [0.4, 0.6]]),
        new BoundaryDepthRow("random", [0.5, 0.75], null, Control: true),
    ]);

    [Fact]
    public void BoundaryDepthPlotDrawsEveryRowAtItsFractions()
    {
        var fig = BoundaryDepthPlot.Create(Sample());
        Assert.Equal(170 + 56 * 3, fig.Height);
        string svg = fig.ToSvg();
        PlotTests.AssertSvgContains(svg, "llama 1B", "qwen 1B", "random (control)", "boundary 1 (95% interval)", "depth fraction b / L");
        string dir = Directory.CreateTempSubdirectory("mspgt-depth").FullName;
        try
        {
            string png = Path.Combine(dir, "d.png");
            fig.SavePng(png);
            PlotTests.AssertPng(png, fig.Width, fig.Height);
            // The first boundary colour (#0072B2) is drawn: markers and interval bars.
            using var bmp = SKBitmap.Decode(png);
            int blue = bmp.Pixels.Count(c => Math.Abs(c.Red - 0x00) + Math.Abs(c.Green - 0x72) + Math.Abs(c.Blue - 0xB2) < 30);
            Assert.True(blue > 100, $"{blue} blue pixels");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BoundaryDepthPlotRejectsBadInput()
    {
        Assert.Throws<MspgtException>(() => BoundaryDepthPlot.Create(new BoundaryDepthData("x", [])));
        Assert.Throws<MspgtException>(() => BoundaryDepthPlot.Create(new BoundaryDepthData("x", [new BoundaryDepthRow("a", [1.2])])));
        Assert.Throws<MspgtException>(() => BoundaryDepthPlot.Create(new BoundaryDepthData("x", [new BoundaryDepthRow("a", [double.NaN])])));
        Assert.Throws<MspgtException>(() => BoundaryDepthPlot.Create(new BoundaryDepthData("x", [new BoundaryDepthRow("a", [0.5], [[0.6, 0.7]])])));
        Assert.Throws<MspgtException>(() => BoundaryDepthPlot.Create(new BoundaryDepthData("x", [new BoundaryDepthRow("a", [0.5, 0.6], [[0.4, 0.6]])])));
    }

    [Fact]
    public void NullableIntColumnsRoundTripWithTheirNulls()
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-nint").FullName;
        try
        {
            string p = Path.Combine(dir, "t.parquet");
            new ParquetTable().AddNullableInts("layer", [3, null, -1, int.MaxValue]).AddInts("n", [1, 2, 3, 4]).Write(p);
            var t = ParquetTable.Read(p);
            Assert.Equal(new int?[] { 3, null, -1, int.MaxValue }, t.NullableInts("layer"));
            Assert.Equal([1, 2, 3, 4], t.Ints("n"));
            Assert.Throws<MspgtException>(() => t.Ints("layer"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
