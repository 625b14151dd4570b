using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class BoundaryDetectorTests
{
    private const int Layers = 24, Signals = 6;

    [Fact]
    public void PlantedBoundariesAreRecoveredWithinOneLayer()
    {
        // Unit jumps, noise sd 0.5 (per-signal SNR 2): the K = 2 optimum must land within ±1 layer of both
        // planted boundaries in at least 95% of 120 seeds.
        int hits = 0, seeds = 120;
        for (int seed = 0; seed < seeds; seed++)
        {
            var rng = new Random(seed);
            var planted = Synthetic.RandomTwoBoundaries(rng);
            var x = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, Layers, Signals, planted), 0.5);
            var report = BoundaryDetector.Detect(Synthetic.Names(Signals), x, new BoundaryOptions { ForcedK = 2 });
            Assert.Equal(2, report.KSelected);
            Assert.Equal(report.Boundaries, report.ForcedK2!.Boundaries);
            if (Math.Abs(report.Boundaries[0] - planted[0]) <= 1 && Math.Abs(report.Boundaries[1] - planted[1]) <= 1) hits++;
        }
        Assert.True(hits >= 0.95 * seeds, $"recovered {hits}/{seeds}");
    }

    [Fact]
    public void BicPicksTwoOnClearDataAndZeroOnNoise()
    {
        int two = 0, zero = 0, seeds = 100;
        for (int seed = 0; seed < seeds; seed++)
        {
            var rng = new Random(seed);
            var planted = Synthetic.RandomTwoBoundaries(rng);
            var clear = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, Layers, Signals, planted), 0.3);
            var report = BoundaryDetector.Detect(Synthetic.Names(Signals), clear, new BoundaryOptions());
            if (report.KSelected == 2) two++;
            Assert.Equal(report.KBic, report.KSelected);
            Assert.Equal(5, report.PerK.Length);
            Assert.Equal(report.PerK.MinBy(f => f.Bic)!.K, report.KBic);

            var noise = Synthetic.AddNoise(rng, new double[Layers, Signals], 1.0);
            if (BoundaryDetector.Detect(Synthetic.Names(Signals), noise, new BoundaryOptions()).KSelected == 0) zero++;
        }
        Assert.True(two >= 0.85 * seeds, $"K = 2 on clear data in {two}/{seeds}");
        Assert.True(zero >= 0.85 * seeds, $"K = 0 on noise in {zero}/{seeds}");
    }

    [Fact]
    public void BicMatchesFormulaByHand()
    {
        // One signal, L = 6, boundary at 3: RSS = 2·(0.5² + 0.5² + 0)... computed from the data below.
        double[,] x = { { 0 }, { 1 }, { 0 }, { 4 }, { 5 }, { 4 } };
        var cost = new LeastSquaresCost(x);
        // Segment [0,1,0]: mean 1/3, SS = 2/9 + 4/9 + 1/9·... = (1/9 + 4/9 + 1/9) = 6/9; same for [4,5,4].
        double rss = 2 * (6.0 / 9);
        double variance = rss / 6;
        int parameters = 1 + 1 * 2 + 1;
        double expected = 6 * Math.Log(2 * Math.PI * variance) + 6 + parameters * Math.Log(6);
        Assert.Equal(expected, BicSelection.Bic(cost, [3]), 10);
    }

    [Fact]
    public void PeltWithDefaultPenaltyFindsPlantedBoundaries()
    {
        int exact = 0, seeds = 40;
        for (int seed = 0; seed < seeds; seed++)
        {
            var rng = new Random(seed);
            var planted = Synthetic.RandomTwoBoundaries(rng);
            var x = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, Layers, Signals, planted), 0.3);
            var report = BoundaryDetector.Detect(Synthetic.Names(Signals), x, new BoundaryOptions { Method = SearchMethod.Pelt });
            Assert.Equal("pelt", report.Method);
            Assert.NotNull(report.Penalty);
            if (report.Boundaries.SequenceEqual(planted)) exact++;
        }
        Assert.True(exact >= 0.85 * seeds, $"PELT exact in {exact}/{seeds}");
    }

    [Fact]
    public void WeightsSteerTheSegmentation()
    {
        // Signal a changes at 4, signal b at 8: with all weight on one signal, K = 1 must follow that signal.
        var x = new double[12, 2];
        for (int i = 0; i < 12; i++) { x[i, 0] = i < 4 ? 0 : 1; x[i, 1] = i < 8 ? 0 : 1; }
        string[] names = ["a", "b"];
        var onA = BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 1, Weights = new Dictionary<string, double> { ["a"] = 1 } });
        var onB = BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 1, Weights = new Dictionary<string, double> { ["b"] = 2 } });
        Assert.Equal([4], onA.Boundaries);
        Assert.Equal([8], onB.Boundaries);
        Assert.Equal([1.0, 0.0], onA.Weights);
        Assert.Equal([0.0, 1.0], onB.Weights);
        Assert.Equal(onB.Fused, SignalFusion.Standardize(x).Cast<double>().Where((_, k) => k % 2 == 1));
    }

    [Fact]
    public void BadOptionsThrowMspgtException()
    {
        var x = Synthetic.Random(new Random(1), 10, 2);
        string[] names = ["a", "b"];
        Assert.Equal("--k", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 10 })).Source);
        Assert.Equal("--k", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 2, Method = SearchMethod.Pelt })).Source);
        Assert.Equal("--penalty", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { Penalty = 1 })).Source);
        Assert.Equal("--min-size", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { MinSegmentLength = 11 })).Source);
        Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, new double[2, 2], new BoundaryOptions()));
        var nan = (double[,])x.Clone();
        nan[3, 1] = double.NaN;
        Assert.Contains("layer 3", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, nan, new BoundaryOptions())).Message);
    }

    [Fact]
    public void ReportSerialisesWithSnakeCaseNames()
    {
        var rng = new Random(3);
        var x = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, 12, 2, [4, 8]), 0.1);
        var report = BoundaryDetector.Detect(["a", "b"], x, new BoundaryOptions { ForcedK = 2 });
        using var doc = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(report));
        var root = doc.RootElement;
        foreach (var name in new[] { "k_selected", "k_bic", "boundaries", "boundary_ci", "depth_fractions", "segments", "per_k", "n_layers", "signals", "fused", "forced_k2" })
            Assert.True(root.TryGetProperty(name, out _), name);
        Assert.Equal(2, root.GetProperty("k_selected").GetInt32());
        Assert.Equal("[4,8]", root.GetProperty("boundaries").GetRawText());
        Assert.Equal("[[0,3],[4,7],[8,11]]", root.GetProperty("segments").GetRawText());
        Assert.Equal("[0.3333333333333333,0.6666666666666666]", root.GetProperty("depth_fractions").GetRawText());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("boundary_ci").ValueKind);
        Assert.True(root.GetProperty("per_k")[2].TryGetProperty("bic", out _));
    }
}
