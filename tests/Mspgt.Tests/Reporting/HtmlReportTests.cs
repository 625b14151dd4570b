using System.Text.RegularExpressions;
using Mspgt.Reporting;

namespace Mspgt.Tests.Reporting;

public class HtmlReportTests
{
    private static HtmlReport SampleReport(out Figure signals, out Figure cka)
    {
        signals = SignalsPlot.Create(PlotTests.SampleSignals());
        var m = new double[6, 6];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                m[i, j] = Math.Exp(-Math.Abs(i - j) / 2.0);
        var labels = Enumerable.Range(0, 6).Select(i => i.ToString()).ToArray();
        cka = HeatmapPlot.Create(new HeatmapData("CKA", m, labels, labels, "CKA"));
        return new HtmlReport("mspgt study <toy>")
            .Section("Boundaries & segments")
            .Paragraph("Two boundaries were found; intervals are 95% bootstrap <b>not bold</b>.")
            .Table(["model", "boundary 1", "boundary 2"],
                [["toy-llama <1B>", "6.5", "16.5"], ["a & b", "-0.25", "1e-3"]], caption: "Boundary modes")
            .Figure(signals, "Per-layer signals")
            .Section("Similarity")
            .Heading("Linear CKA")
            .Figure(cka, "Layer × layer CKA")
            .ManifestJson(new { Seed = 42, Models = new[] { "toy-llama" }, Note = "</pre><script>x</script>" });
    }

    [Fact]
    public void ReportIsSelfContainedEscapedAndHoldsTheFigures()
    {
        string html = SampleReport(out _, out _).Build();
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotMatch(new Regex(@"https?://", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"<(script|link|img|iframe|object|embed)\b", RegexOptions.IgnoreCase), html);
        // Only in-page references (#id) and embedded data (the colour bar's bitmap as a data: URI).
        Assert.DoesNotMatch(new Regex(@"\b(src|href)\s*=\s*""(?!#|data:image/)", RegexOptions.IgnoreCase), html);
        Assert.Contains("<td>toy-llama &lt;1B&gt;</td>", html);
        Assert.Contains("<td>a &amp; b</td>", html);
        Assert.Contains("<td class=\"num\">-0.25</td>", html);
        Assert.Contains("&lt;b&gt;not bold&lt;/b&gt;", html);
        Assert.Contains("<title>mspgt study &lt;toy&gt;</title>", html);
        Assert.Contains("&lt;/pre&gt;&lt;script&gt;", html);
        Assert.Contains("&quot;seed&quot;: 42", html);
        Assert.Equal(2, Regex.Matches(html, "<svg").Count);
        Assert.Equal(2, Regex.Matches(html, "</svg>").Count);
        Assert.DoesNotContain("<?xml", html);
        Assert.Contains("<svg width=\"1000\" height=\"560\" viewBox=\"0 0 1000 560\">", html);
        Assert.Contains("Per-layer signals: toy-llama-1B", html);
        Assert.Contains("intermediate", html);
        Assert.Equal(2, Regex.Matches(html, "<section>").Count);
        Assert.Equal(2, Regex.Matches(html, "</section>").Count);
    }

    [Fact]
    public void SvgIdsArePrefixedPerFigureSoClipPathsDoNotCollide()
    {
        string html = SampleReport(out var signals, out var cka).Build();
        var ids = Regex.Matches(html, @"\bid=""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches(@"^fig[12]-", id));
        // Every url(#...) reference points at an id that exists in the page.
        var refs = Regex.Matches(html, @"url\(#([^)]+)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(refs);
        Assert.All(refs, r => Assert.Contains(r, ids));
        // The raw ScottPlot SVGs really do reuse ids across figures, which is why the prefix matters.
        var raw1 = Regex.Matches(signals.ToSvg(), @"\bid=""([^""]+)""").Select(m => m.Groups[1].Value);
        var raw2 = Regex.Matches(cka.ToSvg(), @"\bid=""([^""]+)""").Select(m => m.Groups[1].Value);
        Assert.NotEmpty(raw1);
        Assert.NotEmpty(raw2);
    }

    [Fact]
    public void SaveWritesTheSameHtml()
    {
        var report = SampleReport(out _, out _);
        string? keep = Environment.GetEnvironmentVariable("MSPGT_KEEP_PLOTS");
        string dir = string.IsNullOrEmpty(keep) ? Directory.CreateTempSubdirectory("mspgt-html").FullName : keep;
        string path = Path.Combine(dir, "report.html");
        report.Save(path);
        Assert.Equal(report.Build(), File.ReadAllText(path));
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        var r = new HtmlReport("t");
        Assert.Throws<MspgtException>(() => r.Table(["a", "b"], [["1"]]));
        Assert.Throws<MspgtException>(() => r.Svg("<div>not svg</div>", "x"));
        Assert.Throws<MspgtException>(() => r.Svg("<svg><script>alert(1)</script></svg>", "x"));
        Assert.Throws<MspgtException>(() => r.Svg("<svg><image href=\"https://example.org/a.png\"/></svg>", "x"));
        Assert.Throws<MspgtException>(() => r.Heading("x", 2));
        Assert.Throws<MspgtException>(() => new HtmlReport(" "));
    }
}
