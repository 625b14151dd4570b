using System.Text.Json;
using Mspgt.Reporting;
using Mspgt.Tests.Cli;
using Mspgt.Signals;

namespace Mspgt.Tests.Experiments;

/// <summary>`mspgt analyze` end to end on the trained stories260K model and the real TinyStories sample.</summary>
[Collection("Console")]
public class AnalyzeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-analyze").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");
    private static string Sample => TestData.Path("corpora", "tinystories-sample", "stories.jsonl");

    [Fact]
    public void WritesEveryOutputAndTheSummaryHasTheDocumentedFields()
    {
        string outDir = Path.Combine(_dir, "a");
        var (code, output, err) = CliHarness.Run("analyze", "--model", Stories, "--corpus", Sample, "--bootstrap", "30", "--out", outDir, "--json");
        Assert.True(code == 0, err);
        foreach (var f in new[] { "signals.parquet", "summary.json", "timings.json", "signals.png", "signals.svg", "cka.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
        Assert.Equal(File.ReadAllText(Path.Combine(outDir, "summary.json")).Trim(), output.Trim());

        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        // The stage timings: every stage ran and took time, they describe this run, and the ratio is theirs. They stay
        // out of summary.json, which a seed fixes bit for bit.
        using (var timings = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "timings.json"))))
        {
            var tm = timings.RootElement;
            double Seconds(string name) => tm.GetProperty(name).GetDouble();
            foreach (var stage in new[] { "forward_seconds", "document_signals_seconds", "corpus_signals_seconds", "boundaries_seconds" })
                Assert.True(Seconds(stage) > 0 && Seconds(stage) < 600, $"{stage} = {Seconds(stage)}");
            Assert.Equal(r.GetProperty("n_documents").GetInt32(), tm.GetProperty("documents").GetInt32());
            Assert.Equal(r.GetProperty("n_tokens").GetInt64(), tm.GetProperty("tokens").GetInt64());
            Assert.Equal(r.GetProperty("manifest").GetProperty("threads").GetInt32(), tm.GetProperty("threads").GetInt32());
            Assert.Equal("cpu", tm.GetProperty("device").GetString());
            Assert.Equal((Seconds("document_signals_seconds") + Seconds("corpus_signals_seconds")) / Seconds("forward_seconds"),
                Seconds("signals_over_forward"), 12);
        }
        Assert.DoesNotContain("seconds", output);
        int L = r.GetProperty("n_layers").GetInt32();
        Assert.Equal(5, L);
        Assert.Equal(5, r.GetProperty("n_documents").GetInt32());
        foreach (var s in r.GetProperty("signals").EnumerateObject())
            Assert.Equal(L, s.Value.GetArrayLength());
        Assert.Equal(L, r.GetProperty("fused").GetArrayLength());
        // 5 layers with segments of at least 2 hold at most one boundary; the two-boundary fit is reported apart.
        int k = r.GetProperty("k_selected").GetInt32();
        Assert.InRange(k, 0, 1);
        Assert.Equal(k, r.GetProperty("boundaries").GetArrayLength());
        Assert.True(r.GetProperty("k_tests").GetArrayLength() >= 1);
        foreach (var name in new[] { "description", "replicates", "alpha", "max_edf" }) Assert.True(r.GetProperty("null").TryGetProperty(name, out _), name);
        var k2 = r.GetProperty("forced_k2");
        Assert.Equal(1, k2.GetProperty("min_segment_length").GetInt32());
        Assert.InRange(k2.GetProperty("p_value_vs_smooth").GetDouble(), 0, 1);
        var b = k2.GetProperty("boundaries").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        Assert.Equal(2, b.Length);
        Assert.True(1 <= b[0] && b[0] < b[1] && b[1] <= L - 1, $"boundaries {b[0]}, {b[1]}");
        var ci = k2.GetProperty("boundary_ci").EnumerateArray().Select(x => x.EnumerateArray().Select(y => y.GetInt32()).ToArray()).ToArray();
        Assert.All(ci.Zip(b), p => Assert.True(p.First[0] <= p.Second && p.Second <= p.First[1]));
        var df = k2.GetProperty("depth_fractions").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(b.Select(x => x / (double)L), df);
        var seg = r.GetProperty("segments");
        var covered = new[] { "local", "intermediate", "global" }.SelectMany(n =>
        {
            var ab = seg.GetProperty(n).EnumerateArray().Select(x => x.GetInt32()).ToArray();
            return Enumerable.Range(ab[0], ab[1] - ab[0] + 1);
        }).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, L), covered);
        var m = r.GetProperty("manifest");
        Assert.Equal("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696", m.GetProperty("model_sha256").GetString());
        Assert.Equal(64, m.GetProperty("corpus_sha256").GetString()!.Length);
        Assert.Equal(L + 1, r.GetProperty("cka_matrix").GetArrayLength());

        var rows = SignalTable.Read(Path.Combine(outDir, "signals.parquet"));
        int signals = r.GetProperty("signals").EnumerateObject().Count();
        Assert.Equal(5 * L * signals, rows.Count);
    }

    [Fact]
    public void SameSeedGivesAnIdenticalSummaryOnASampledCorpus()
    {
        string a = Path.Combine(_dir, "s1"), b = Path.Combine(_dir, "s2");
        string[] args = ["analyze", "--model", Stories, "--documents", "6", "--max-tokens", "96", "--bootstrap", "20", "--seed", "3"];
        Assert.Equal(0, CliHarness.Run([.. args, "--out", a]).Code);
        Assert.Equal(0, CliHarness.Run([.. args, "--out", b]).Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "summary.json")), File.ReadAllBytes(Path.Combine(b, "summary.json")));
        var (_, other, _) = CliHarness.Run([.. args[..^1], "4", "--json"]);
        Assert.NotEqual(File.ReadAllText(Path.Combine(a, "summary.json")).Trim(), other.Trim());
    }

    [Fact]
    public void IncludeBosReachesTheSettingsAndTheSummaryReportsSaturationAndSkips()
    {
        var (code, output, err) = CliHarness.Run("analyze", "--model", Stories, "--corpus", Sample, "--bootstrap", "5", "--include-bos", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        var m = r.GetProperty("manifest");
        Assert.True(m.GetProperty("settings").GetProperty("include_bos").GetBoolean());
        Assert.Equal(0, m.GetProperty("skipped_documents").GetProperty("measurement_failed").GetInt32());
        Assert.Equal(0, m.GetProperty("skipped_document_list").GetArrayLength());
        var sat = r.GetProperty("saturation").GetProperty("mi_ksg");
        Assert.Equal(5, sat.GetProperty("ceiling").GetArrayLength());
        Assert.Equal(5, r.GetProperty("mi_gaussian_pooled").GetProperty("standard_error").GetArrayLength());
        Assert.Equal(5, r.GetProperty("probes").GetProperty("probe_local").GetProperty("folds").GetInt32());
    }

    [Fact]
    public void BadCorporaAreOneLineErrors()
    {
        string empty = Path.Combine(_dir, "empty.txt");
        File.WriteAllText(empty, "\n\n  \n");
        Assert.Contains("corpus is empty", CliHarness.AssertOneLineError("analyze", "--model", Stories, "--corpus", empty));
        Assert.Contains("not found", CliHarness.AssertOneLineError("analyze", "--model", Stories, "--corpus", Path.Combine(_dir, "nope.jsonl")));
        string bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"text\": \"fine\"}\n{\"txt\": 3}\n");
        Assert.Contains("line 2", CliHarness.AssertOneLineError("analyze", "--model", Stories, "--corpus", bad));
        Assert.Contains("--weights", CliHarness.AssertOneLineError("analyze", "--model", Stories, "--corpus", Sample, "--weights", "nonsense"));
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }
}
