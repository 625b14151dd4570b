using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class BoundaryBootstrapTests
{
    [Fact]
    public void SameSeedSameDistributionDifferentSeedDifferentDraws()
    {
        var rng = new Random(11);
        var docs = Synthetic.Documents(rng, Synthetic.PlantedMeans(rng, 16, 3, [5, 11]), 20, 3.0);
        var p = SignalPanel.FromDocuments(Synthetic.Names(3), docs);
        double[] w = [1 / 3.0, 1 / 3.0, 1 / 3.0];
        static string Json<T>(T r) => System.Text.Json.JsonSerializer.Serialize(r);
        var a = BoundaryBootstrap.Run(p, w, [(2, 2)], 64, 5);
        var b = BoundaryBootstrap.Run(p, w, [(2, 2)], 64, 5);
        var c = BoundaryBootstrap.Run(p, w, [(2, 2)], 64, 6);
        Assert.Equal(Json(a), Json(b));
        Assert.NotEqual(Json(a[0].Counts), Json(c[0].Counts));
        Assert.All(a[0].Counts, counts => Assert.Equal(64, counts.Sum()));
    }

    [Fact]
    public void IdenticalDocumentsResampleToOnePoint()
    {
        // Every document equal: every resample is the same mean curve, so the distribution is a point mass at the
        // full-data fit and the interval is that layer.
        var rng = new Random(2);
        var means = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, 12, 2, [3, 9]), 0.1);
        var docs = new double[5, 12, 2];
        for (int d = 0; d < 5; d++)
            for (int l = 0; l < 12; l++)
                for (int s = 0; s < 2; s++) docs[d, l, s] = means[l, s] + (d % 2 == 0 ? 0.01 * l : -0.01 * l);
        var report = BoundaryDetector.Detect(["a", "b"], docs, new BoundaryOptions { Bootstrap = 10, Seed = 1 });
        var k2 = report.ForcedK2;
        Assert.Equal([3, 9], k2.Boundaries);
        Assert.Equal(k2.Boundaries, k2.BootstrapMode);
        Assert.Equal([[3, 3], [9, 9]], k2.BoundaryCi);
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
