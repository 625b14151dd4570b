using System.Text;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Tests.Reporting;

public class JsonOutputTests
{
    public enum SegmentKind { Local, IntermediateScale }

    public sealed record Inner(double LayerDepth, float? Weight, SegmentKind Kind);

    public sealed record Outer(string ModelName, int LayerCount, IReadOnlyList<double> BoundaryModes, Inner Detail,
        Dictionary<string, double> PerSignal);

    private static Outer Sample(double boundary = 0.1) => new(
        "toy-llama", 16, [boundary, 1.0 / 3.0, 1e-300, -0.0, 12345678.9], new Inner(2.5, 0.25f, SegmentKind.IntermediateScale),
        new() { ["attention_entropy"] = 0.5, ["cka"] = 2.0 / 3.0 });

    [Fact]
    public void UsesSnakeCaseIndentedAndEnumStrings()
    {
        string json = JsonOutput.Serialize(Sample());
        Assert.Contains("\"model_name\": \"toy-llama\"", json);
        Assert.Contains("\"layer_count\": 16", json);
        Assert.Contains("\"boundary_modes\": [", json);
        Assert.Contains("\"layer_depth\": 2.5", json);
        Assert.Contains("\"kind\": \"intermediate_scale\"", json);
        Assert.Contains("\n  \"detail\": {\n    \"layer_depth\"", json);
        Assert.DoesNotContain("\r", json);
    }

    [Fact]
    public void SameObjectGivesByteIdenticalJsonThatRoundTripsExactly()
    {
        byte[] a = Encoding.UTF8.GetBytes(JsonOutput.Serialize(Sample()));
        byte[] b = Encoding.UTF8.GetBytes(JsonOutput.Serialize(Sample()));
        Assert.Equal(a, b);
        // Shortest round-trip formatting: 0.1 is written as 0.1 and 1/3 comes back bit for bit.
        string json = Encoding.UTF8.GetString(a);
        Assert.Contains("0.1,", json);
        Assert.Contains("0.3333333333333333,", json);
        Assert.Contains("1E-300", json);
        var dir = Directory.CreateTempSubdirectory("mspgt-json").FullName;
        string path = Path.Combine(dir, "out.json");
        JsonOutput.WriteFile(path, Sample());
        var back = JsonOutput.ReadFile<Outer>(path);
        Assert.Equal(Sample().BoundaryModes.Select(BitConverter.DoubleToInt64Bits), back.BoundaryModes.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(Sample().Detail, back.Detail);
        Assert.Equal(json + "\n", File.ReadAllText(path));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NonFiniteNumbersThrowWithTheirPath(double bad)
    {
        var ex = Assert.Throws<MspgtException>(() => JsonOutput.Serialize(Sample(bad), "summary.json"));
        Assert.Equal("summary.json", ex.Source);
        Assert.Contains("non-finite", ex.Message);
        Assert.EndsWith("(at $.boundary_modes[0])", ex.Message);
        var ex2 = Assert.Throws<MspgtException>(() => JsonOutput.Serialize(new Inner(1, float.NaN, SegmentKind.Local)));
        Assert.Contains("weight", ex2.Message);
    }

    [Fact]
    public void FailedWriteLeavesNoFile()
    {
        var dir = Directory.CreateTempSubdirectory("mspgt-json").FullName;
        string path = Path.Combine(dir, "out.json");
        Assert.Throws<MspgtException>(() => JsonOutput.WriteFile(path, Sample(double.NaN)));
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void BadFilesThrowMspgtException()
    {
        var dir = Directory.CreateTempSubdirectory("mspgt-json").FullName;
        Assert.Throws<MspgtException>(() => JsonOutput.ReadFile<Outer>(Path.Combine(dir, "missing.json")));
        string truncated = Path.Combine(dir, "truncated.json");
        File.WriteAllText(truncated, JsonOutput.Serialize(Sample())[..40]);
        var ex = Assert.Throws<MspgtException>(() => JsonOutput.ReadFile<Outer>(truncated));
        Assert.Equal(truncated, ex.Source);
        string nan = Path.Combine(dir, "nan.json");
        File.WriteAllText(nan, "{\"layer_depth\": NaN, \"weight\": null, \"kind\": \"local\"}");
        Assert.Throws<MspgtException>(() => JsonOutput.ReadFile<Inner>(nan));
    }
}
