using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Mspgt.Cli;
using Mspgt.Cli.Commands;

namespace Mspgt.Tests.Scales;

[Collection("Console")]
public class BoundariesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-boundaries").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Mspgt.Tests.Cli.CliHarness.Run(args);

    private string Write(string name, IEnumerable<string> lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>Two signals on 12 layers with noiseless steps at 4 and 8 (plus a tiny ripple so no signal is flat).</summary>
    private static double Value(int layer, int signal, int document = 0) =>
        (layer < 4 ? 0 : layer < 8 ? (signal == 0 ? 1 : -1) : 2) + 0.01 * ((layer * 7 + signal * 3 + document) % 5);

    [Fact]
    public void WideCsvJson()
    {
        var lines = new List<string> { "layer,attn,mi" };
        for (int l = 0; l < 12; l++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{l},{Value(l, 0)},{Value(l, 1)}"));
        var (code, output, err) = Run("boundaries", "--input", Write("wide.csv", lines), "--k", "2", "--json");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output); // the whole of stdout is exactly one JSON object
        var root = doc.RootElement;
        Assert.Equal(12, root.GetProperty("n_layers").GetInt32());
        Assert.Equal("[\"attn\",\"mi\"]", root.GetProperty("signals").GetRawText());
        Assert.Equal(2, root.GetProperty("k_selected").GetInt32());
        Assert.Equal("[4,8]", root.GetProperty("boundaries").GetRawText());
        Assert.Equal("[[0,3],[4,7],[8,11]]", root.GetProperty("segments").GetRawText());
        Assert.Equal(12, root.GetProperty("fused").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("boundary_ci").ValueKind);
    }

    [Fact]
    public void LongCsvBootstrapsAndPrintsTable()
    {
        var lines = new List<string> { "document,layer,signal,value" };
        for (int d = 0; d < 6; d++)
            for (int l = 0; l < 12; l++)
                for (int s = 0; s < 2; s++)
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"doc{d},{l},{(s == 0 ? "attn" : "mi")},{Value(l, s, d)}"));
        string path = Write("long.csv", lines);

        var (code, output, err) = Run("boundaries", "--input", path, "--bootstrap", "20", "--seed", "3", "--json");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("[[4,4],[8,8]]", root.GetProperty("boundary_ci").GetRawText());
        Assert.Equal(20, root.GetProperty("bootstrap").GetProperty("resamples").GetInt32());
        Assert.Equal("[4,8]", root.GetProperty("forced_k2").GetProperty("boundaries").GetRawText());

        var (code2, table, err2) = Run("boundaries", "--input", path, "--bootstrap", "20");
        Assert.Equal("", err2);
        Assert.Equal(0, code2);
        Assert.Contains("12 layers, 6 document(s), 2 signals (attn, mi)", table);
        Assert.Contains("K = 2 selected", table);
        Assert.Contains("4 (95% CI 4–4)", table);
        Assert.Contains("PELT (exploratory, penalty", table);
    }

    [Fact]
    public void MalformedCsvGivesExitCodeTwoAndOneErrorLine()
    {
        string path = Write("bad.csv", ["a,b", "1,2", "3", "5,6"]);
        var (code, output, err) = Run("boundaries", "--input", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var errorLines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(errorLines);
        Assert.Equal($"error: {path}: line 3: expected 2 fields, found 1", errorLines[0].TrimEnd('\r'));
    }

    [Fact]
    public void BadOptionsGiveExitCodeTwo()
    {
        var lines = new List<string> { "a,b" };
        for (int l = 0; l < 6; l++) lines.Add($"{l},{l % 2}");
        string path = Write("ok.csv", lines);
        Assert.StartsWith("error: --bootstrap:", Run("boundaries", "--input", path, "--bootstrap", "10").Err);
        Assert.StartsWith("error: --weights:", Run("boundaries", "--input", path, "--weights", "c=1").Err);
        Assert.StartsWith("error: --k:", Run("boundaries", "--input", path, "--k", "9").Err);
        Assert.StartsWith("error: --alpha:", Run("boundaries", "--input", path, "--alpha", "2").Err);
        Assert.Equal(2, Run("boundaries", "--input", path, "--method", "binseg").Code);
    }
}
