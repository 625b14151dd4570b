using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

/// <summary>
/// The boundary test where the truth is known, at the sample sizes the analysis uses (16 documents, 12–36 layers):
/// it must say "no boundary" on smooth and flat curves, find both planted jumps, cover them with its intervals,
/// and never select more boundaries than the depth allows.
/// </summary>
public class CalibrationTests
{
    private static BoundaryReport Detect(SyntheticPanels.Panel p, int seed, BoundaryOptions? options = null) =>
        BoundaryDetector.Detect(SyntheticPanels.Names, p.Documents,
            (options ?? new BoundaryOptions()) with { Seed = seed, Families = SyntheticPanels.FamilyOf });

    [Theory]
    [InlineData(12)]
    [InlineData(24)]
    [InlineData(36)]
    public void SmoothCurvesWithoutJumpsSelectFewerThanTwoBoundaries(int layers)
    {
        int seeds = 30, fewer = 0;
        for (int seed = 0; seed < seeds; seed++)
            if (Detect(SyntheticPanels.Make(PanelKind.Smooth, layers, 100 + seed), seed).KSelected < 2) fewer++;
        Assert.True(fewer >= 0.9 * seeds, $"K < 2 in {fewer}/{seeds} smooth cases at L = {layers}");
    }

    [Theory]
    [InlineData(12, 0.0, false)]
    [InlineData(24, 0.0, false)]
    [InlineData(36, 0.0, false)]
    [InlineData(24, 0.8, false)]
    [InlineData(24, 0.0, true)]
    public void FlatNoiseSelectsNoBoundary(int layers, double autocorrelation, bool growing)
    {
        // The null must hold also when a document's noise is correlated across layers or grows with depth: the
        // replicates resample whole documents, so they carry both.
        int seeds = 30, zero = 0;
        for (int seed = 0; seed < seeds; seed++)
            if (Detect(SyntheticPanels.Make(PanelKind.Flat, layers, 200 + seed, autocorrelation: autocorrelation, noiseGrowsWithDepth: growing), seed).KSelected == 0) zero++;
        Assert.True(zero >= 0.9 * seeds, $"K = 0 in {zero}/{seeds} flat cases at L = {layers}");
    }

    [Theory]
    [InlineData(12)]
    [InlineData(24)]
    [InlineData(36)]
    public void TwoJumpsOnTrendsAreFoundWithinOneLayerAndCovered(int layers)
    {
        int seeds = 30, found = 0, covered = 0;
        double width = 0;
        for (int seed = 0; seed < seeds; seed++)
        {
            var p = SyntheticPanels.Make(PanelKind.TwoJumps, layers, 300 + seed);
            var r = Detect(p, seed);
            if (r.KSelected == 2 && r.Boundaries.Zip(p.Planted).All(x => Math.Abs(x.First - x.Second) <= 1)) found++;
            var ci = r.ForcedK2.BoundaryCi!;
            for (int i = 0; i < 2; i++)
            {
                if (ci[i][0] <= p.Planted[i] && p.Planted[i] <= ci[i][1]) covered++;
                width += ci[i][1] - ci[i][0];
            }
        }
        Assert.True(found >= 0.85 * seeds, $"K = 2 within ±1 layer in {found}/{seeds} at L = {layers}");
        Assert.True(covered >= 0.9 * 2 * seeds, $"95% intervals cover {covered}/{2 * seeds} planted boundaries at L = {layers}");
        Assert.True(width / (2 * seeds) <= 3, $"mean interval width {width / (2 * seeds):0.0} layers: too wide to mean anything");
    }

    [Fact]
    public void WeakJumpsGetWiderIntervalsThatStillCoverThem()
    {
        // 3–4 standard errors per jump: found less often, but the intervals must widen rather than miss.
        int seeds = 30, covered = 0;
        double width = 0;
        for (int seed = 0; seed < seeds; seed++)
        {
            var p = SyntheticPanels.Make(PanelKind.TwoJumps, 24, 400 + seed, jumpLow: 0.75, jumpHigh: 1.0);
            var ci = Detect(p, seed).ForcedK2.BoundaryCi!;
            for (int i = 0; i < 2; i++)
            {
                if (ci[i][0] <= p.Planted[i] && p.Planted[i] <= ci[i][1]) covered++;
                width += ci[i][1] - ci[i][0];
            }
        }
        Assert.True(covered >= 0.9 * 2 * seeds, $"covered {covered}/{2 * seeds}");
        Assert.True(width > 0, "weak jumps cannot be located to the layer every time");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void ShallowModelsNeverSelectMoreThanTheirDepthHolds(int layers)
    {
        // With segments of at least 2 layers, 4 or 5 layers hold at most one boundary, whatever the data say.
        for (int seed = 0; seed < 20; seed++)
            foreach (var kind in new[] { PanelKind.Flat, PanelKind.Smooth })
            {
                var r = Detect(SyntheticPanels.Make(kind, layers, 500 + seed), seed);
                Assert.Equal(1, r.KMax);
                Assert.True(r.KSelected <= 1);
                Assert.All(r.Segments, s => Assert.True(s[1] - s[0] + 1 >= 2));
                // The two-boundary fit is still reported, with segments of one layer allowed and said so.
                Assert.Equal(1, r.ForcedK2.MinSegmentLength);
                Assert.Equal(2, r.ForcedK2.Boundaries.Length);
            }
        // Two huge jumps in 5 layers ([0, 1], [2, 3], [4]): still at most one boundary with segments of 2.
        var docs = new double[16, 5, 2];
        var rng = new Random(9);
        for (int d = 0; d < 16; d++)
            for (int l = 0; l < 5; l++)
                for (int s = 0; s < 2; s++) docs[d, l, s] = (l >= 2 ? 20 : 0) + (l >= 4 ? 20 : 0) + Synthetic.Gaussian(rng);
        var jumps = BoundaryDetector.Detect(["a", "b"], docs, new BoundaryOptions { MaxK = 4 });
        Assert.Equal(1, jumps.KSelected);
        Assert.Equal([2, 4], jumps.ForcedK2.Boundaries);
    }

    [Fact]
    public async Task SameSeedSameReportWhateverTheThreadCount()
    {
        var p = SyntheticPanels.Make(PanelKind.TwoJumps, 20, 7, jumpLow: 0.5, jumpHigh: 1.0);
        string Run() => System.Text.Json.JsonSerializer.Serialize(Detect(p, 3));
        string parallel = Run();
        // One thread: Parallel.For runs on the current task's scheduler.
        var oneThread = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, maxConcurrencyLevel: 1).ExclusiveScheduler;
        string sequential = await Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.None, oneThread);
        Assert.Equal(parallel, sequential);
        Assert.Equal(parallel, Run());
        Assert.NotEqual(parallel, System.Text.Json.JsonSerializer.Serialize(Detect(p, 4)));
    }
}
