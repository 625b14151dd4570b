using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mspgt.Experiments;
using Mspgt.Experiments.Predictions;
using Mspgt.Reporting;
using Mspgt.Tests.Cli;
using SkiaSharp;
using Mspgt.Files;
using Mspgt.Signals;

namespace Mspgt.Tests.Experiments;

/// <summary>
/// One small real study, run once for the class: stories260K as a llama2.c .bin and as its GGUF copy (the same
/// weights in two formats, so P5 is evaluable and must find no shift) over the real TinyStories sample.
/// </summary>
public sealed class SmallStudy : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("mspgt-study").FullName;
    public string StudyPath { get; }
    public StudyResult Result { get; }
    public static readonly DateTimeOffset Date = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public SmallStudy()
    {
        StudyPath = Path.Combine(Dir, "small.json");
        File.WriteAllText(StudyPath, JsonSerializer.Serialize(new
        {
            title = "small",
            output = "full",
            corpus = new { path = TestData.Path("corpora", "tinystories-sample", "stories.jsonl") },
            analyze = new { bootstrap = 20, max_tokens = 64, seed = 1 },
            models = new object[]
            {
                new { name = "s260k", path = TestData.Path("models", "stories260K", "stories260K.bin"), family = "llama", size = "260K", precision = "f32 bin", @base = "s260k" },
                new { name = "s260k-gguf", path = TestData.Path("models", "stories260K", "tinyllamas-stories-260k-f32.gguf"), family = "llama", size = "260K", precision = "f32 gguf", @base = "s260k" },
            },
        }));
        Result = StudyRunner.Run(StudyFile.Load(StudyPath), Options());
        StudyReport.Write(Result);
    }

    public static StudyOptions Options(Action<string, int, int>? progress = null, Action<string>? log = null,
        CancellationToken token = default, Action<int, StudyModelResult>? after = null) => new()
    {
        Now = () => Date, PredictionResamples = 200, Progress = progress, Log = log, Cancellation = token, AfterModel = after,
    };

    public string Output => Path.Combine(Dir, "full");

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

[Collection("Console")]
public class StudyRunTests(SmallStudy study) : IClassFixture<SmallStudy>
{
    [Fact]
    public void WritesTheOutputsWithModelsPredictionsAndManifest()
    {
        foreach (var f in new[] { "study.json", "signals.parquet", "predictions.parquet", "report.html" })
            Assert.True(File.Exists(Path.Combine(study.Output, f)), f);
        Assert.Empty(Directory.GetFiles(study.Output, "*.tmp", SearchOption.AllDirectories));
        var s = study.Result.Summary;
        Assert.Equal(["s260k", "s260k-gguf"], s.Models.Select(m => m.Name));
        foreach (var m in s.Models)
        {
            Assert.Equal(5, m.NLayers);
            Assert.Equal(m.KSelected, m.Boundaries.Length);
            Assert.True(m.KSelected <= 1, "5 layers with segments of 2 hold at most one boundary");
            Assert.Equal(m.Boundaries.Select(b => b / 5.0), m.DepthFractions);
            Assert.Equal(2, m.ForcedK2Boundaries.Length);
            Assert.True(Directory.Exists(Path.Combine(study.Output, m.Folder)), m.Folder);
            Assert.Equal($"models/{m.Name}", m.Folder); // named after the model; the cache key is in model.json
        }
        Assert.Equal("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696", s.Models[0].ModelSha256);
        Assert.Equal(["P1", "P2", "P3", "P4", "P5", "P6", "P7"], s.Predictions.Select(p => p.Id));
        Assert.All(s.Predictions, p => Assert.True(p.Reason is { Length: > 0 } && p.Threshold.Length > 0 && p.Null.Length > 0, p.Id));
        Assert.Equal("interventions not run", s.Predictions[2].Reason);
        Assert.Equal("interventions not run", s.Predictions[3].Reason);
        Assert.Equal(Verdict.NotEvaluable, s.Predictions[1].Supported); // one network in two files, and 5 layers hold no two boundaries
        Assert.Equal(Verdict.NotEvaluable, s.Predictions[0].Supported); // 5 layers cannot hold two boundaries of 2
        // The same weights in two formats: identical boundaries and bootstrap distributions, so P5 holds exactly.
        var p5 = s.Predictions[4];
        Assert.Equal(Verdict.Supported, p5.Supported);
        Assert.Equal(0, p5.PValue);
        Assert.Equal("[0,0]", p5.Numbers["pairs"]![0]!["boundary_shift_layers"]!.ToJsonString());
        Assert.Equal("2026-01-02T03:04:05Z", s.Manifest.Date);
        Assert.Equal(64, s.Manifest.Models[0].Settings.MaxTokens);
        Assert.Equal(File.ReadAllText(Path.Combine(study.Output, "study.json")).Trim(), JsonOutput.Serialize(s));
    }

    [Fact]
    public void StudyTablesHoldEveryModelsRowsWithTheirLabelsAndDefinitions()
    {
        var t = ParquetTable.Read(Path.Combine(study.Output, "signals.parquet"));
        int expected = 0;
        foreach (var m in study.Result.Models)
            expected += SignalTable.Read(Path.Combine(study.Output, m.Folder, "signals.parquet")).Count;
        Assert.Equal(expected, t.RowCount);
        Assert.True(expected > 0);
        Assert.Equal(["s260k", "s260k-gguf"], t.Strings("model").Distinct());
        Assert.All(t.Strings("family"), x => Assert.Equal("llama", x));
        Assert.All(t.Strings("size"), x => Assert.Equal("260K", x));
        Assert.Equal(["f32 bin", "f32 gguf"], t.NullableStrings("precision").Distinct());
        Assert.All(t.Bools("control"), c => Assert.False(c));
        Assert.All(t.NullableStrings("student"), x => Assert.Null(x));
        Assert.All(t.Ints("layer"), l => Assert.InRange(l, 0, 4));
        Assert.DoesNotContain("continuation", t.ColumnNames); // one table per file
        // Definitions travel with the data: every column, and every signal's meaning and unit.
        var columns = JsonDocument.Parse(t.Metadata["mspgt.columns"]).RootElement;
        Assert.All(t.ColumnNames, c => Assert.True(columns.TryGetProperty(c, out _), c));
        Assert.Contains("nats", t.Metadata["mspgt.signals"]);
        // The model name is the study's everywhere, in each model's own table too.
        Assert.All(SignalTable.Read(Path.Combine(study.Output, study.Result.Models[0].Folder, "signals.parquet")), r => Assert.Equal("s260k", r.Model));

        var p = ParquetTable.Read(Path.Combine(study.Output, "predictions.parquet"));
        Assert.Equal(["P1", "P2", "P3", "P4", "P5", "P6", "P7"], p.Strings("id"));
        Assert.Equal(study.Result.Predictions.Select(x => x.Supported switch { Verdict.Supported => true, Verdict.NotSupported => (bool?)false, _ => null }),
            p.NullableBools("supported"));
        Assert.Equal(study.Result.Predictions.Select(x => x.PValue), p.NullableDoubles("p_value"));
        // Row for row the same values as the model's own signals.parquet.
        var own = SignalTable.Read(Path.Combine(study.Output, study.Result.Models[0].Folder, "signals.parquet"));
        Assert.Equal(own.Select(r => r.Value), t.Doubles("value").Take(own.Count));
    }

    [Fact]
    public void AnInterruptedStudyResumesWithoutRecomputingAndEqualsAnUninterruptedRun()
    {
        string resumeDir = Path.Combine(study.Dir, "resume");
        var def = StudyFile.Load(study.StudyPath, outputOverride: resumeDir);
        // Interrupt in the middle of the second model's documents.
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => StudyRunner.Run(def, SmallStudy.Options(
            progress: (what, done, _) => { if (what.StartsWith("[2/2]") && done == 1) cts.Cancel(); }, token: cts.Token)));
        var folders = Directory.GetDirectories(Path.Combine(resumeDir, "models"));
        Assert.Single(folders); // the second model never wrote its folder
        Assert.False(File.Exists(Path.Combine(resumeDir, "study.json")));
        string firstSummary = Path.Combine(folders[0], "summary.json");
        var stamp = File.GetLastWriteTimeUtc(firstSummary);
        var record = File.ReadAllBytes(Path.Combine(folders[0], "model.json"));

        var fromCache = new List<bool>();
        var log = new List<string>();
        StudyReport.Write(StudyRunner.Run(def, SmallStudy.Options(log: log.Add, after: (_, r) => fromCache.Add(r.FromCache))));
        Assert.Equal([true, false], fromCache);
        Assert.Contains("read from", log[0]);
        Assert.Contains("analysed into", log[1]);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(firstSummary));
        Assert.Equal(record, File.ReadAllBytes(Path.Combine(folders[0], "model.json")));

        foreach (var f in new[] { "study.json", "report.html" })
            Assert.Equal(File.ReadAllText(Path.Combine(study.Output, f)), File.ReadAllText(Path.Combine(resumeDir, f)));
        var a = ParquetTable.Read(Path.Combine(study.Output, "signals.parquet"));
        var b = ParquetTable.Read(Path.Combine(resumeDir, "signals.parquet"));
        Assert.Equal(a.Doubles("value"), b.Doubles("value"));
        Assert.Equal(a.Strings("signal"), b.Strings("signal"));

    }

    [Fact]
    public void TheCacheKeyChangesWithEveryInput()
    {
        var corpus = new StudyCorpusSpec(null, 8, 0);
        var s = new AnalysisSettings();
        string k = StudyRunner.CacheKey("m", null, "c", corpus, s);
        Assert.Equal(k, StudyRunner.CacheKey("m", null, "c", corpus, s));
        Assert.Equal(64, k.Length);
        Assert.NotEqual(k, StudyRunner.CacheKey("m2", null, "c", corpus, s));
        Assert.NotEqual(k, StudyRunner.CacheKey("m", "t", "c", corpus, s));
        Assert.NotEqual(k, StudyRunner.CacheKey("m", null, "c2", corpus, s));
        Assert.NotEqual(k, StudyRunner.CacheKey("m", null, "c", corpus, s with { Bootstrap = 201 }));
        Assert.NotEqual(k, StudyRunner.CacheKey("m", null, "c", corpus, s with { Weights = new() { ["attn_distance"] = 1 } }));
        string sampled = StudyRunner.CacheKey("m", null, null, corpus, s);
        Assert.NotEqual(sampled, StudyRunner.CacheKey("m", null, null, corpus with { Seed = 1 }, s));
        Assert.NotEqual(sampled, StudyRunner.CacheKey("m", null, null, corpus with { Documents = 9 }, s));
    }

    [Fact]
    public void CliPrintsTheStudyJsonAndReadsFinishedModelsFromTheCache()
    {
        // A copy of the finished models' folders: the CLI must find them and compute nothing.
        string cliDir = Path.Combine(study.Dir, "cli");
        foreach (var f in Directory.GetFiles(Path.Combine(study.Output, "models"), "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(cliDir, Path.GetRelativePath(study.Output, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        var (code, output, err) = CliHarness.Run("study", study.StudyPath, "--out", cliDir, "--json");
        Assert.True(code == 0, err);
        Assert.Equal(2, Regex.Matches(err, "read from models/").Count);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        var m = r.GetProperty("models")[0];
        foreach (var key in new[] { "name", "family", "size", "boundaries", "depth_fractions", "k_selected", "boundary_ci", "control" })
            Assert.True(m.TryGetProperty(key, out _), key);
        Assert.Equal("s260k", m.GetProperty("name").GetString());
        var preds = r.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(7, preds.Count);
        foreach (var p in preds)
        {
            foreach (var key in new[] { "id", "statement", "supported", "threshold", "null", "p_value", "interval", "reason", "numbers" })
                Assert.True(p.TryGetProperty(key, out _), key);
            var v = p.GetProperty("supported");
            Assert.True(v.ValueKind is JsonValueKind.True or JsonValueKind.False
                        || v.GetString() is "not evaluable" or "not identifiable", v.GetRawText());
        }
        Assert.Equal("not evaluable", preds[2].GetProperty("supported").GetString());
        var mf = r.GetProperty("manifest");
        Assert.Equal(64, mf.GetProperty("models")[1].GetProperty("model_sha256").GetString()!.Length);
        Assert.Equal(study.StudyPath, mf.GetProperty("study_file").GetString());

        string bad = Path.Combine(study.Dir, "bad.json");
        File.WriteAllText(bad, """{ "output": "x", "models": [ { "path": "/nope", "family": "llama", "size": "1" } ] }""");
        Assert.Contains("models[0].path", CliHarness.AssertOneLineError("study", bad));
    }

    [ChromiumFact]
    public void TheReportDrawsItsFiguresInHeadlessChromium()
    {
        string html = Path.Combine(study.Output, "report.html");
        string text = File.ReadAllText(html);
        Assert.DoesNotContain("<script", text);
        Assert.DoesNotContain("http://", text);
        Assert.DoesNotContain("https://", text);
        // depth plot + (one small panel per signal, CKA) × 2 models
        var grids = Regex.Matches(text, "<div class=\"grid\">(.*?)</div>", RegexOptions.Singleline);
        Assert.Equal(2, grids.Count);
        int panels = grids.Sum(g => Regex.Matches(g.Groups[1].Value, "<svg").Count);
        Assert.True(panels >= 2 * 5, $"{panels} signal panels");
        Assert.Equal(1 + 2 + panels, Regex.Matches(text, "<svg").Count);

        // The same page with its figures removed: what text and tables alone put on screen. Both pages are
        // rendered at once (two browser processes) to keep the test short.
        string stripped = Path.Combine(study.Dir, "stripped.html");
        // The coloured verdict badges go too (they are checked to be there, and coloured, below).
        Assert.Matches("<span class=\"verdict (supported|not-supported|not-evaluable|not-identifiable)\">", text);
        File.WriteAllText(stripped, Regex.Replace(Regex.Replace(text, "<svg.*?</svg>", "", RegexOptions.Singleline),
            "<span class=\"verdict [^\"]*\">", "<span>"));
        var shots = new[] { html, stripped }.AsParallel().AsOrdered().WithDegreeOfParallelism(2).Select(Screenshot).ToArray();
        var (withFigures, without) = (shots[0], shots[1]);

        Assert.True(without.Chromatic < 50, $"the page without figures has {without.Chromatic} coloured pixels");
        Assert.True(withFigures.Chromatic > 5_000, $"only {withFigures.Chromatic} coloured pixels: figures not drawn?");
        Assert.True(withFigures.Colours > without.Colours + 300, $"{withFigures.Colours} vs {without.Colours} distinct colours");
        // Plot colours: the first two series colours (boundary markers, signal lines) and the CKA heatmap's viridis.
        Assert.True(withFigures.Near(0x00, 0x72, 0xB2) > 25, "blue (#0072B2) series not drawn");
        Assert.True(withFigures.Near(0xE6, 0x9F, 0x00) > 25, "orange (#E69F00) series not drawn");
        Assert.True(withFigures.Near(0xFD, 0xE7, 0x25) + withFigures.Near(0x44, 0x01, 0x54) > 25, "viridis heatmap cells not drawn");

        // At 1280 px nothing runs off the right edge: a copy of the page with a probe script puts the document's
        // scroll width and the viewport's width in its title, which --dump-dom prints after layout.
        string probe = Path.Combine(study.Dir, "probe.html");
        File.WriteAllText(probe, text.Replace("</body>",
            "<script>document.title = 'widths ' + document.documentElement.scrollWidth + ' ' + document.documentElement.clientWidth;</script></body>"));
        var dom = Chromium("--dump-dom", "--window-size=1280,900", new Uri(probe).AbsoluteUri);
        var widths = Regex.Match(dom, @"<title>widths (\d+) (\d+)</title>");
        Assert.True(widths.Success, "the probe page reported no widths");
        int scroll = int.Parse(widths.Groups[1].Value), client = int.Parse(widths.Groups[2].Value);
        Assert.True(client > 1000 && scroll <= client, $"the page is {scroll} px wide in a {client} px window: it overflows horizontally");
    }

    /// <summary>Runs headless Chromium with ARGS (own profile, no network) and returns its stdout.</summary>
    private static string Chromium(params string[] args)
    {
        string profile = Directory.CreateTempSubdirectory("mspgt-chromium").FullName;
        try
        {
            var psi = new ProcessStartInfo(ChromiumFactAttribute.Chromium) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile}" }.Concat(args))
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            _ = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); Assert.Fail("chromium did not finish within 120 s"); }
            return stdout.Result;
        }
        finally { Directory.Delete(profile, recursive: true); }
    }

    private sealed record Shot(int Chromatic, int Colours, Dictionary<uint, int> Counts)
    {
        public int Near(byte r, byte g, byte b) => Counts.Where(kv =>
        {
            var c = new SKColor(kv.Key);
            return Math.Abs(c.Red - r) + Math.Abs(c.Green - g) + Math.Abs(c.Blue - b) < 40;
        }).Sum(kv => kv.Value);
    }

    private Shot Screenshot(string html)
    {
        string profile = Directory.CreateTempSubdirectory("mspgt-chromium").FullName;
        string png = Path.Combine(study.Dir, Path.GetFileNameWithoutExtension(html) + ".png");
        try
        {
            var psi = new ProcessStartInfo(ChromiumFactAttribute.Chromium)
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile}", $"--screenshot={png}",
                         "--window-size=1200,6000", new Uri(html).AbsoluteUri })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); Assert.Fail("chromium did not finish within 120 s"); }
            Assert.True(File.Exists(png), $"chromium wrote no screenshot (exit {p.ExitCode}): {stderr.Result}");
        }
        finally { Directory.Delete(profile, recursive: true); }

        using var bmp = SKBitmap.Decode(png);
        Assert.NotNull(bmp);
        Assert.Equal((1200, 6000), (bmp.Width, bmp.Height)); // tall enough for the predictions table and the first model's figures
        var pixels = bmp.Pixels;
        var counts = new Dictionary<uint, int>();
        int chromatic = 0;
        for (int y = 0; y < bmp.Height; y += 2) // every other row and column: plenty for lines ≥ 2 px wide
            for (int x = 0; x < bmp.Width; x += 2)
            {
                var c = pixels[y * bmp.Width + x];
                counts[(uint)c] = counts.GetValueOrDefault((uint)c) + 1;
                if (Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60) chromatic++;
            }
        return new Shot(chromatic, counts.Count, counts);
    }
}

/// <summary>A fact that needs Debian's chromium; skipped, saying so, only when /usr/bin/chromium is absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium)) Skip = $"{Chromium} is not installed (Debian: apt-get install chromium); the report is not checked in a browser";
    }
}
