using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class BoundaryBootstrapTests
{
    [Fact]
    public void NinetyFivePercentIntervalCoversPlantedBoundaries()
    {
        // 40 documents, each the planted means + noise sd 4 (the mean has sd 4/√40 ≈ 0.63 against unit jumps),
        // so intervals are a few layers wide and coverage is not trivial.
        int seeds = 60, covered1 = 0, covered2 = 0;
        double width = 0;
        for (int seed = 0; seed < seeds; seed++)
        {
            var rng = new Random(5000 + seed);
            var planted = Synthetic.RandomTwoBoundaries(rng);
            var docs = Synthetic.Documents(rng, Synthetic.PlantedMeans(rng, 24, 6, planted), 40, 4.0);
            var boot = BoundaryBootstrap.Run(Synthetic.Names(6), docs, new BoundaryOptions(), resamples: 50, seed: seed);
            if (boot.BoundaryCi[0][0] <= planted[0] && planted[0] <= boot.BoundaryCi[0][1]) covered1++;
            if (boot.BoundaryCi[1][0] <= planted[1] && planted[1] <= boot.BoundaryCi[1][1]) covered2++;
            width += (boot.BoundaryCi[0][1] - boot.BoundaryCi[0][0]) + (boot.BoundaryCi[1][1] - boot.BoundaryCi[1][0]);
            Assert.Equal(50, boot.BoundaryCounts[0].Sum());
            Assert.Equal(50, boot.KCounts.Sum());
        }
        Assert.True(covered1 >= 0.85 * seeds, $"first boundary covered in {covered1}/{seeds}");
        Assert.True(covered2 >= 0.85 * seeds, $"second boundary covered in {covered2}/{seeds}");
        Assert.True(width / (2 * seeds) < 8, $"mean interval width {width / (2 * seeds):0.0} layers: too wide to mean anything");
    }

    [Fact]
    public void SameSeedSameResultDifferentSeedDifferentDraws()
    {
        var rng = new Random(11);
        var docs = Synthetic.Documents(rng, Synthetic.PlantedMeans(rng, 16, 3, [5, 11]), 20, 3.0);
        var names = Synthetic.Names(3);
        var a = BoundaryDetector.Detect(names, docs, new BoundaryOptions(), resamples: 64, seed: 5);
        var b = BoundaryDetector.Detect(names, docs, new BoundaryOptions(), resamples: 64, seed: 5);
        var c = BoundaryDetector.Detect(names, docs, new BoundaryOptions(), resamples: 64, seed: 6);
        static string Json<T>(T r) => System.Text.Json.JsonSerializer.Serialize(r);
        Assert.Equal(Json(a), Json(b));
        Assert.NotEqual(Json(a.Bootstrap!.BoundaryCounts), Json(c.Bootstrap!.BoundaryCounts));
        Assert.Equal(a.Bootstrap!.BoundaryCi, a.BoundaryCi);
        Assert.Equal(a.Bootstrap.BoundaryMode.Select(m => (double)m / 16), a.Bootstrap.ModeDepthFractions);
    }

    [Fact]
    public void OneDocumentResamplesToItself()
    {
        // With D = 1 every resample is the document itself: the distribution is a point mass at the K = 2 fit.
        var rng = new Random(2);
        var means = Synthetic.PlantedMeans(rng, 12, 2, [3, 9]);
        var docs = Synthetic.Documents(rng, means, 1, 0.2);
        var report = BoundaryDetector.Detect(["a", "b"], docs, new BoundaryOptions(), resamples: 10, seed: 1);
        var k2 = report.ForcedK2!.Boundaries;
        Assert.Equal(k2, report.Bootstrap!.BoundaryMode);
        Assert.Equal([[k2[0], k2[0]], [k2[1], k2[1]]], report.BoundaryCi);
        Assert.Equal(10, report.Bootstrap.BoundaryCounts[0][k2[0]]);
        Assert.Equal(10, report.Bootstrap.KCounts[report.KBic]);
    }

    [Fact]
    public void PercentileIntervalUsesInvertedCdf()
    {
        // 200 draws: 4 at layer 2, 190 at layer 5, 6 at layer 9. The 2.5% point needs 5 draws (layer 5 is the
        // first to reach it); the 97.5% point needs 195 draws, reached only at layer 9.
        var counts = new int[12];
        counts[2] = 4; counts[5] = 190; counts[9] = 6;
        Assert.Equal([5, 9], BoundaryBootstrap.PercentileInterval(counts, 0.95));
        counts[2] = 5; counts[5] = 189;
        Assert.Equal([2, 9], BoundaryBootstrap.PercentileInterval(counts, 0.95));
        counts[9] = 5; counts[5] = 190;
        Assert.Equal([2, 5], BoundaryBootstrap.PercentileInterval(counts, 0.95));
        Assert.Equal(5, BoundaryBootstrap.Mode(counts));
    }
}
