using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class BoundaryDetectorTests
{
    private const int Layers = 24, Signals = 6;

    [Fact]
    public void PlantedBoundariesOfOneCurvePerSignalAreFound()
    {
        // One curve per signal (a wide CSV): the noise level comes from the curves' second differences, a noisier
        // estimate than documents give. Jumps of 2, noise sd 0.3 (6.7σ): the calibrated choice must be K = 2 at the
        // planted layers (±1) in most seeds.
        int hits = 0, seeds = 40;
        for (int seed = 0; seed < seeds; seed++)
        {
            var rng = new Random(seed);
            var planted = Synthetic.RandomTwoBoundaries(rng);
            var x = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, Layers, Signals, planted, jump: 2), 0.3);
            var report = BoundaryDetector.Detect(Synthetic.Names(Signals), x, new BoundaryOptions { Seed = seed });
            Assert.All(report.NoiseSource, n => Assert.Equal("differences", n));
            Assert.Null(report.BoundaryCi);
            if (report.KSelected == 2 && Math.Abs(report.Boundaries[0] - planted[0]) <= 1 && Math.Abs(report.Boundaries[1] - planted[1]) <= 1) hits++;
        }
        Assert.True(hits >= 0.85 * seeds, $"recovered {hits}/{seeds}");
    }

    [Fact]
    public void PeltWithTheNullPenaltyIsConservative()
    {
        // The default PELT penalty is what one boundary gains over a line under the smooth null (its 95% point), so
        // PELT splits only where a smooth curve could not have produced the gain: on clear jumps it finds planted
        // boundaries and nothing else, on noise nothing.
        int found = 0, quiet = 0, seeds = 20;
        for (int seed = 0; seed < seeds; seed++)
        {
            var jumps = SyntheticPanels.Make(PanelKind.TwoJumps, 24, 600 + seed);
            var r = BoundaryDetector.Detect(SyntheticPanels.Names, jumps.Documents, new BoundaryOptions { Seed = seed, Bootstrap = 0 });
            Assert.All(r.Pelt.Boundaries, b => Assert.Contains(jumps.Planted, p => Math.Abs(p - b) <= 1));
            if (r.Pelt.Boundaries.Length >= 1) found++;
            var flat = SyntheticPanels.Make(PanelKind.Flat, 24, 700 + seed);
            if (BoundaryDetector.Detect(SyntheticPanels.Names, flat.Documents, new BoundaryOptions { Seed = seed, Bootstrap = 0 }).Pelt.Boundaries.Length == 0) quiet++;
        }
        Assert.True(found >= 0.8 * seeds, $"PELT found a planted boundary in {found}/{seeds}");
        Assert.True(quiet >= 0.9 * seeds, $"PELT quiet on noise in {quiet}/{seeds}");
        // A given penalty is used as given.
        var p = SyntheticPanels.Make(PanelKind.TwoJumps, 24, 1);
        var given = BoundaryDetector.Detect(SyntheticPanels.Names, p.Documents, new BoundaryOptions { Penalty = 5, Bootstrap = 0 });
        Assert.Equal(5, given.Pelt.Penalty);
        Assert.Equal("given", given.Pelt.PenaltySource);
    }

    [Fact]
    public void WeightsSteerTheSegmentation()
    {
        // Signal a changes at 4, signal b at 8: with all weight on one signal, the K = 1 fit must follow it.
        var x = new double[12, 2];
        var rng = new Random(1);
        for (int i = 0; i < 12; i++) { x[i, 0] = (i < 4 ? 0 : 1) + 0.01 * Synthetic.Gaussian(rng); x[i, 1] = (i < 8 ? 0 : 1) + 0.01 * Synthetic.Gaussian(rng); }
        string[] names = ["a", "b"];
        var onA = BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 1, Weights = new Dictionary<string, double> { ["a"] = 1 } });
        var onB = BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 1, Weights = new Dictionary<string, double> { ["b"] = 2 } });
        Assert.Equal([4], onA.Forced!.Boundaries);
        Assert.Equal([8], onB.Forced!.Boundaries);
        Assert.Equal([1.0, 0.0], onA.Weights);
        Assert.Equal([0.0, 1.0], onB.Weights);
        Assert.Equal(onB.Fused, SignalFusion.Standardize(x).Cast<double>().Where((_, k) => k % 2 == 1));
    }

    [Fact]
    public void ConstantSignalsAreLeftOutAndSaidSo()
    {
        var p = SyntheticPanels.Make(PanelKind.TwoJumps, 12, 3);
        var docs = (double[,,])p.Documents.Clone();
        for (int d = 0; d < docs.GetLength(0); d++)
            for (int l = 0; l < 12; l++) docs[d, l, 0] = 4.0;
        var r = BoundaryDetector.Detect(SyntheticPanels.Names, docs, new BoundaryOptions { Families = SyntheticPanels.FamilyOf });
        Assert.Equal("constant", r.NoiseSource[0]);
        Assert.Equal(0, r.Weights[0]);
        Assert.Equal(0.25, r.Weights[1], 12);     // its family partner now carries the family's vote alone
        Assert.Equal(2, r.KSelected);
    }

    [Fact]
    public void BadOptionsThrowMspgtException()
    {
        var x = Synthetic.Random(new Random(1), 10, 2);
        string[] names = ["a", "b"];
        Assert.Equal("k", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { ForcedK = 10 })).Setting);
        Assert.Equal("penalty", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { Penalty = -1 })).Setting);
        Assert.Equal("min_size", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { MinSegmentLength = 11 })).Setting);
        Assert.Equal("alpha", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { Alpha = 1 })).Setting);
        Assert.Equal("null_replicates", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { NullReplicates = 10 })).Setting);
        Assert.Equal("null_max_edf", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { MaxEdf = 1 })).Setting);
        Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, new double[2, 2], new BoundaryOptions()));
        var nan = (double[,])x.Clone();
        nan[3, 1] = double.NaN;
        Assert.Contains("layer 3", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, nan, new BoundaryOptions())).Message);
        Assert.Contains("unknown signal 'c'", Assert.Throws<MspgtException>(() => BoundaryDetector.Detect(names, x, new BoundaryOptions { Use = ["c"] })).Message);
    }

    [Fact]
    public void ReportSerialisesWithSnakeCaseNames()
    {
        var p = SyntheticPanels.Make(PanelKind.TwoJumps, 12, 5);
        var report = BoundaryDetector.Detect(SyntheticPanels.Names, p.Documents, new BoundaryOptions { Bootstrap = 20 });
        using var doc = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(report));
        var root = doc.RootElement;
        foreach (var name in new[] { "k_selected", "boundaries", "boundary_ci", "depth_fractions", "segments", "k_tests", "per_k", "n_layers",
                     "signals", "families", "weights", "noise_sd", "noise_source", "fused", "forced_k2", "null", "pelt", "bootstrap" })
            Assert.True(root.TryGetProperty(name, out _), name);
        Assert.Equal(2, root.GetProperty("k_selected").GetInt32());
        Assert.Equal($"[{p.Planted[0]},{p.Planted[1]}]", root.GetProperty("boundaries").GetRawText());
        var test = root.GetProperty("k_tests")[0];
        foreach (var name in new[] { "k", "null", "statistic", "p_value" }) Assert.True(test.TryGetProperty(name, out _), name);
        var k2 = root.GetProperty("forced_k2");
        foreach (var name in new[] { "boundaries", "boundary_ci", "p_value_vs_smooth", "min_segment_length" }) Assert.True(k2.TryGetProperty(name, out _), name);
        Assert.Equal(200, root.GetProperty("null").GetProperty("replicates").GetInt32());
    }
}
