using System.Text.Json;
using Mspgt.Reporting;
using Mspgt.Tests.Cli;
using Mspgt.Files;
using Mspgt.Interventions;

namespace Mspgt.Tests.Interventions;

/// <summary>`mspgt intervene` end to end on stories260K with a tiny corpus, and its one-line errors.</summary>
[Collection("Console")]
public class InterventionCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-intervene").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");
    private static string Stories5 => TestData.Path("corpora", "tinystories-sample", "stories.jsonl");

    private static string[] Tiny(params string[] extra) => TinyWith("1", extra);

    private static string[] TinyWith(string continuations, params string[] extra) =>
    [
        "intervene", "--model", Stories, "--corpus", Stories5, "--documents", "3", "--max-tokens", "20",
        "--interventions", "noise,skip", "--alpha", "0,0.5", "--controls", "2", "--continuations", continuations, "--gen-tokens", "6",
        "--prompt-tokens", "8", "--bootstrap", "100", "--permutations", "100", .. extra,
    ];

    [Fact]
    public void WritesAllFourFilesAndPrintsPureJson()
    {
        string outDir = Path.Combine(_dir, "out");
        var (code, output, err) = CliHarness.Run(Tiny("--segments", "local=0-1,intermediate=2-3,global=4-4", "--out", outDir, "--json"));
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output); // the whole of stdout is one JSON document
        var root = doc.RootElement;
        Assert.Equal(["effects", "dissociation", "manifest"], root.EnumerateObject().Select(p => p.Name));
        var effects = root.GetProperty("effects").EnumerateArray().ToList();
        Assert.NotEmpty(effects);
        foreach (var name in new[] { "segment", "intervention", "component", "alpha", "metric", "effect", "ci", "p_vs_zero", "p_holm", "cohens_d", "vs_controls", "confirmatory", "effect_per_block" })
            Assert.All(effects, e => Assert.True(e.TryGetProperty(name, out _), $"effect lacks {name}"));
        var first = effects.First(e => e.GetProperty("segment").GetString() == "local" && e.GetProperty("metric").GetString() == "brittleness_kl");
        Assert.Equal(2, first.GetProperty("ci").GetArrayLength());
        Assert.Equal(2, first.GetProperty("vs_controls").GetProperty("windows").GetInt32());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("vs_controls").GetProperty("p").ValueKind);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("p_vs_zero").ValueKind); // a KL ≥ 0 is not tested against 0
        Assert.False(first.GetProperty("confirmatory").GetBoolean()); // noise at α = 0 is the clean model: no hypothesis
        var half = effects.First(e => e.GetProperty("segment").GetString() == "local" && e.GetProperty("metric").GetString() == "brittleness_kl"
                                      && e.GetProperty("alpha").ValueKind == JsonValueKind.Number && e.GetProperty("alpha").GetDouble() == 0.5);
        Assert.True(half.GetProperty("confirmatory").GetBoolean());
        Assert.Equal(JsonValueKind.Number, half.GetProperty("p_holm").ValueKind);
        Assert.Equal(["local", "intermediate", "global", "random", "none"],
            effects.Select(e => e.GetProperty("segment").GetString()!).Distinct());
        var dis = root.GetProperty("dissociation");
        Assert.Equal(3, dis.GetProperty("matrix").GetArrayLength());
        Assert.True(dis.TryGetProperty("diagonal_dominance", out _));
        Assert.True(dis.TryGetProperty("dominance_test", out _));
        Assert.Equal(["local", "intermediate", "global"], dis.GetProperty("rows").EnumerateArray().Select(x => x.GetString()));

        string[] files = ["interventions.parquet", "effects.json", "dissociation.png", "dose_response.png"];
        Assert.Equal(files.Order(), Directory.GetFiles(outDir).Select(Path.GetFileName).Order()); // no temporary files left
        Assert.Equal(output.Trim(), File.ReadAllText(Path.Combine(outDir, "effects.json")).Trim());
        foreach (var png in files.Where(f => f.EndsWith(".png")))
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(outDir, png)).Take(4));
        var rows = InterventionTable.Read(Path.Combine(outDir, "interventions.parquet"));
        Assert.Contains(rows, r => r.Segment == "random");
        Assert.Contains(rows, r => r.Continuation == 0 && r.Metric == "type_token_ratio");
        Assert.All(rows.Where(r => r.Intervention == "noise" && r.Alpha == 0), r => Assert.Equal(0.0, r.Effect));
        var table = ParquetTable.Read(Path.Combine(outDir, "interventions.parquet"));
        Assert.Contains("control_for", table.ColumnNames);
        Assert.Contains("first_layer", table.ColumnNames);
    }

    [Fact]
    public void ScalesFromAnAnalyzeSummaryGiveTheSameEffectsAsSegments()
    {
        string summary = Path.Combine(_dir, "summary.json");
        File.WriteAllText(summary, """{"n_layers": 5, "segments": {"local": [0, 1], "intermediate": [2, 3], "global": [4, 4]}, "other": [1, 2]}""");
        var a = CliHarness.Run(TinyWith("0", "--scales", summary, "--json"));
        var b = CliHarness.Run(TinyWith("0", "--segments", "local=0-1,intermediate=2-3,global=4-4", "--json"));
        Assert.True(a.Code == 0, a.Err);
        Assert.True(b.Code == 0, b.Err);
        using var da = JsonDocument.Parse(a.Out);
        using var db = JsonDocument.Parse(b.Out);
        Assert.Equal(db.RootElement.GetProperty("effects").GetRawText(), da.RootElement.GetProperty("effects").GetRawText());
        Assert.StartsWith("--scales", da.RootElement.GetProperty("manifest").GetProperty("segments_source").GetString());
    }

    [Fact]
    public void HumanOutputShowsTheTableAndTheDissociation()
    {
        var (code, output, err) = CliHarness.Run(Tiny());
        Assert.True(code == 0, err);
        Assert.Contains("equal thirds", output);
        Assert.Contains("brittleness_kl", output);
        Assert.Contains("diagonal dominance", output);
        Assert.Contains("− controls", output);
        Assert.Contains("confirmatory rows", output);
    }

    [Theory]
    [InlineData("--segments", "local=0-1,intermediate=1-3")]
    [InlineData("--segments", "local=0-5")]
    [InlineData("--segments", "middle=0-1")]
    [InlineData("--scales", "/nonexistent/summary.json")]
    [InlineData("--alpha", "big")]
    [InlineData("--interventions", "blur")]
    [InlineData("--component", "ffn")]
    [InlineData("--controls", "0")]
    [InlineData("--corpus", "/nonexistent/corpus.jsonl")]
    public void BadInputIsAOneLineError(string option, string value)
    {
        string line = CliHarness.AssertOneLineError("intervene", "--model", Stories, "--continuations", "0", option, value);
        Assert.Contains(option == "--scales" || option == "--corpus" ? value : option, line);
    }

    [Fact]
    public void SegmentsAndScalesTogetherIsAnError()
    {
        CliHarness.AssertOneLineError("intervene", "--model", Stories, "--segments", "local=0-1", "--scales", "x.json");
    }
}
