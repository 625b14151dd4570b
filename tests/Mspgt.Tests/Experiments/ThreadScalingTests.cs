using System.Text.Json;
using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Numerics;
using Mspgt.Tests.Cli;

namespace Mspgt.Tests.Experiments;

/// <summary>
/// `bench --scaling`: one point per thread count, the first count's speed-up exactly 1 (each round's ratio with
/// itself), the others finite and positive, the process-wide thread count restored; bad lists are bad input.
/// Structure only: how fast anything runs is not asserted.
/// </summary>
[Collection("Console")]
public class ThreadScalingTests
{
    [Fact]
    public void GivesOnePointPerThreadCountRelativeToTheFirst()
    {
        using var m = SyntheticModel.Build(SyntheticModel.Preset("15m"));
        int before = Parallelism.Threads;
        var r = ThreadScaling.Measure(m, tokens: 8, rounds: 3, threads: [1, 2, 1]);
        Assert.Equal(before, Parallelism.Threads);
        Assert.Equal([1, 2, 1], r.Points.Select(p => p.Threads));
        Assert.Equal(1.0, r.Points[0].SpeedUp);
        Assert.Equal(1.0, r.Points[0].ComputeLoopSpeedUp);
        foreach (var p in r.Points)
        {
            Assert.True(p.TokensPerSecond > 0 && double.IsFinite(p.TokensPerSecond));
            Assert.True(p.SpeedUpP25 <= p.SpeedUp && p.SpeedUp <= p.SpeedUpP75);
            Assert.True(p.ComputeLoopSpeedUp > 0 && double.IsFinite(p.ComputeLoopSpeedUp));
        }
    }

    [Theory]
    [InlineData("1,x")]
    [InlineData("0,2")]
    [InlineData("")]
    public void ABadListIsOneLineNamingTheOption(string counts)
    {
        var line = CliHarness.AssertOneLineError("bench", "--synthetic", "15m", "--scaling", counts);
        Assert.Contains("--scaling", line);
    }

    [Fact]
    public void PrintsTheJsonRecord()
    {
        var (code, output, err) = CliHarness.Run("bench", "--synthetic", "15m", "--tokens", "8", "--runs", "1", "--scaling", "1,2", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var points = doc.RootElement.GetProperty("points");
        Assert.Equal(2, points.GetArrayLength());
        Assert.Equal(2, points[1].GetProperty("threads").GetInt32());
        Assert.Equal(1.0, points[0].GetProperty("speedup").GetDouble());
    }
}
