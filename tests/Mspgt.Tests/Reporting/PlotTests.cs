using System.Buffers.Binary;
using Mspgt.Reporting;
using SkiaSharp;

namespace Mspgt.Tests.Reporting;

public class PlotTests
{
    /// <summary>Set MSPGT_KEEP_PLOTS=/some/dir to keep the rendered files for a look by eye.</summary>
    private static string OutDir(string name)
    {
        string? keep = Environment.GetEnvironmentVariable("MSPGT_KEEP_PLOTS");
        if (!string.IsNullOrEmpty(keep)) { Directory.CreateDirectory(keep); return keep; }
        return Directory.CreateTempSubdirectory("mspgt-plot-" + name).FullName;
    }

    internal static SignalsPlotData SampleSignals(int layers = 24)
    {
        double[] Wave(double phase, double scale) =>
            Enumerable.Range(0, layers).Select(l => scale * Math.Sin(l / 3.0 + phase) + 0.05 * l).ToArray();
        return new SignalsPlotData(
            "toy-llama-1B",
            layers,
            [
                new SignalSeries("attention distance", Wave(0, 1.2)),
                new SignalSeries("attention entropy", Wave(1, 0.9)),
                new SignalSeries("adjacent MI", Wave(2, 1.0)[..^1], Enumerable.Range(0, layers - 1).Select(l => l + 0.5).ToArray()),
                new SignalSeries("CKA drift", Wave(3, 0.7)),
            ],
            Wave(0.5, 1.5),
            [new BoundaryMarker(6.5, 5.5, 8.5), new BoundaryMarker(16.5, 15.5, 17.5)]);
    }

    [Fact]
    public void SignalsPlotRendersPngAndSvgWithLabels()
    {
        string dir = OutDir("signals");
        var fig = SignalsPlot.Create(SampleSignals());
        fig.SavePngAndSvg(Path.Combine(dir, "signals"));
        AssertPng(Path.Combine(dir, "signals.png"), fig.Width, fig.Height);
        string svg = File.ReadAllText(Path.Combine(dir, "signals.svg"));
        AssertSvgContains(svg, "toy-llama-1B", "local", "intermediate", "global", "fused", "attention entropy", "layer");
    }

    [Fact]
    public void HeatmapRendersLabelsValuesAndColourBar()
    {
        string dir = OutDir("heatmap");
        string[] rows = ["local", "intermediate", "global"];
        string[] cols = ["lexical", "syntactic", "discourse", "length"];
        var m = new double[3, 4];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                m[r, c] = (r == c ? 0.8 : -0.2) + 0.05 * c - 0.1 * r;
        var fig = HeatmapPlot.Create(new HeatmapData("Dissociation: toy", m, rows, cols, "effect size", HeatmapScale.Diverging));
        fig.SavePngAndSvg(Path.Combine(dir, "dissociation"));
        AssertPng(Path.Combine(dir, "dissociation.png"), fig.Width, fig.Height);
        AssertSvgContains(File.ReadAllText(Path.Combine(dir, "dissociation.svg")),
            "Dissociation: toy", "intermediate", "discourse", "effect size", "0.80", "-0.30");
    }

    [Fact]
    public void HeatmapDrawsFirstRowAtTheTop()
    {
        // One hot cell at [0, 0]: it must be in the top-left quadrant of the data area.
        var m = new double[4, 4];
        m[0, 0] = 1;
        var fig = HeatmapPlot.Create(new HeatmapData("orientation", m, ["r0", "r1", "r2", "r3"], ["c0", "c1", "c2", "c3"],
            "v", PrintValues: false));
        using var bmp = SKBitmap.Decode(fig.ToPng());
        var dataRect = fig.Plot.LastRender.DataRect;
        var topLeft = bmp.GetPixel((int)(dataRect.Left + dataRect.Width / 8), (int)(dataRect.Top + dataRect.Height / 8));
        var bottomLeft = bmp.GetPixel((int)(dataRect.Left + dataRect.Width / 8), (int)(dataRect.Bottom - dataRect.Height / 8));
        // Viridis: the maximum is yellow (high red+green), the minimum dark purple.
        Assert.True(topLeft.Red > 200 && topLeft.Green > 200, $"top-left cell is {topLeft}");
        Assert.True(bottomLeft.Red < 100 && bottomLeft.Green < 60, $"bottom-left cell is {bottomLeft}");
    }

    [Fact]
    public void HeatmapCellsFillTheDataArea()
    {
        // A 3×2 matrix: each cell must be exactly a third of the data area high and half of it wide, so the
        // outer rows are not half-clipped.
        var fig = HeatmapPlot.Create(new HeatmapData("cells", new double[,] { { 0, 1 }, { 2, 3 }, { 4, 5 } },
            ["a", "b", "c"], ["x", "y"], "v", PrintValues: false));
        string svg = fig.ToSvg();
        var data = fig.Plot.LastRender.DataRect;
        var rects = System.Text.RegularExpressions.Regex.Matches(svg,
                @"<rect fill=""#[0-9A-F]{6}"" x=""([-\d.]+)"" y=""([-\d.]+)"" width=""([\d.]+)"" height=""([\d.]+)""")
            .Select(m => (X: double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                Y: double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
                W: double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture),
                H: double.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .Where(r => Math.Abs(r.W - data.Width / 2) < 1.5)
            .ToArray();
        Assert.Equal(6, rects.Length);
        Assert.All(rects, r => Assert.Equal(data.Height / 3, r.H, 1.0));
        Assert.Equal(data.Left, rects.Min(r => r.X), 1.0);
        Assert.Equal(data.Top, rects.Min(r => r.Y), 1.0);
        Assert.Equal(data.Bottom, rects.Max(r => r.Y + r.H), 1.0);
    }

    [Fact]
    public void CkaSizedHeatmapThinsLabels()
    {
        int n = 40;
        var m = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[i, j] = Math.Exp(-Math.Abs(i - j) / 6.0);
        var labels = Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
        var fig = HeatmapPlot.Create(new HeatmapData("Linear CKA between layers", m, labels, labels, "CKA",
            XLabel: "layer", YLabel: "layer", Min: 0, Max: 1));
        string dir = OutDir("cka");
        fig.SavePngAndSvg(Path.Combine(dir, "cka"));
        AssertPng(Path.Combine(dir, "cka.png"), fig.Width, fig.Height);
        string svg = File.ReadAllText(Path.Combine(dir, "cka.svg"));
        AssertSvgContains(svg, "Linear CKA between layers");
        var tickLabels = System.Text.RegularExpressions.Regex.Matches(svg, @">\s*(\d+)\s*<").Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        Assert.Contains(38, tickLabels);
        Assert.DoesNotContain(39, tickLabels); // every second label only: 40 labels would overlap
    }

    [Fact]
    public void DoseResponsePlotRendersSegmentsAndControl()
    {
        double[] alphas = [0.5, 1, 2, 4, 8];
        DoseResponseSeries Seg(string name, double k) =>
            new(name, alphas, alphas.Select(a => k * a * a).ToArray());
        var control = new DoseResponseSeries("random control", alphas, alphas.Select(a => 0.02 * a).ToArray(),
            alphas.Select(a => 0.01 * a).ToArray(), alphas.Select(a => 0.03 * a).ToArray());
        var fig = DoseResponsePlot.Create(new DoseResponseData("Brittleness: toy-llama-1B",
            [Seg("local", 0.1), Seg("intermediate", 0.03), Seg("global", 0.01)], control, LogScaleY: true));
        string dir = OutDir("dose");
        fig.SavePngAndSvg(Path.Combine(dir, "dose_response"));
        AssertPng(Path.Combine(dir, "dose_response.png"), fig.Width, fig.Height);
        AssertSvgContains(File.ReadAllText(Path.Combine(dir, "dose_response.svg")),
            "Brittleness: toy-llama-1B", "random control", "intermediate", "1e0", "intervention strength");
    }

    [Fact]
    public void LossPlotRendersBothCurves()
    {
        var train = Enumerable.Range(1, 200).Select(s => new LossPoint(s, 2.0 / Math.Sqrt(s) + 0.3)).ToArray();
        var val = Enumerable.Range(1, 10).Select(k => new LossPoint(20 * k, 2.0 / Math.Sqrt(20 * k) + 0.35)).ToArray();
        var fig = LossPlot.Create("Probe training: lexical", train, val);
        string dir = OutDir("loss");
        fig.SavePngAndSvg(Path.Combine(dir, "loss"));
        AssertPng(Path.Combine(dir, "loss.png"), fig.Width, fig.Height);
        AssertSvgContains(File.ReadAllText(Path.Combine(dir, "loss.svg")), "Probe training: lexical", "training", "validation", "step");
    }

    [Fact]
    public void BadPlotInputThrowsMspgtException()
    {
        var d = SampleSignals();
        Assert.Throws<MspgtException>(() => SignalsPlot.Create(d with { Fused = d.Fused.Take(5).ToArray() }));
        Assert.Throws<MspgtException>(() => SignalsPlot.Create(d with { Fused = [.. d.Fused.Take(23), double.NaN] }));
        Assert.Throws<MspgtException>(() => SignalsPlot.Create(d with { Boundaries = [new BoundaryMarker(5, 6, 7)] , SegmentNames = ["a", "b"] }));
        Assert.Throws<MspgtException>(() => SignalsPlot.Create(d with { SegmentNames = ["only one"] }));
        Assert.Throws<MspgtException>(() => HeatmapPlot.Create(new HeatmapData("x", new double[2, 2], ["a"], ["a", "b"], "v")));
        Assert.Throws<MspgtException>(() => DoseResponsePlot.Create(new DoseResponseData("x",
            [new DoseResponseSeries("s", [1, 2], [0, 1])], LogScaleY: true)));
        Assert.Throws<MspgtException>(() => LossPlot.Create("x", [new LossPoint(2, 1), new LossPoint(1, 1)]));
    }

    internal static void AssertPng(string path, int width, int height)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        using var bmp = SKBitmap.Decode(bytes);
        Assert.NotNull(bmp);
        var colours = new HashSet<uint>();
        int dark = 0;
        for (int y = 0; y < bmp.Height; y += 2)
            for (int x = 0; x < bmp.Width; x += 2)
            {
                var c = bmp.GetPixel(x, y);
                colours.Add((uint)c);
                if (c.Red + c.Green + c.Blue < 200) dark++;
            }
        Assert.True(colours.Count > 50, $"only {colours.Count} distinct colours: blank image?");
        Assert.True(dark > 150, $"only {dark} dark pixels: no text or lines?");
    }

    internal static void AssertSvgContains(string svg, params string[] labels)
    {
        Assert.Contains("<svg", svg);
        var doc = System.Xml.Linq.XDocument.Parse(svg); // well-formed XML with an <svg> root
        Assert.Equal("svg", doc.Root!.Name.LocalName);
        foreach (var l in labels) Assert.Contains(System.Net.WebUtility.HtmlEncode(l), svg);
    }
}
