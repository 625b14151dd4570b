using Mspgt.Numerics;
using Mspgt.Interventions.Statistics;

namespace Mspgt.Tests.Interventions;

/// <summary>The per-document contrast with the control windows, on data whose truth is known.</summary>
public class ControlContrastTests
{
    private const int Documents = 24, Windows = 19;

    /// <summary>A KL-like effect (≥ 0, skewed) per document and window: document difficulty × a gamma-ish draw.
    /// The segment's draws are scaled by <paramref name="segmentScale"/>; 1 makes it one more random window.</summary>
    private static (double?[] Segment, IReadOnlyList<double?>[] Controls) Draw(int seed, double segmentScale)
    {
        var rng = SplitMix64.ForStream(seed, 77);
        double U() => (rng.NextUInt64() >> 11) * (1.0 / (1UL << 53));
        double Kl() => -Math.Log(1 - U()) * (0.5 + U()); // exponential × uniform: positive, skewed
        var level = Enumerable.Range(0, Documents).Select(_ => 0.5 + U()).ToArray();
        var segment = level.Select(a => (double?)(a * segmentScale * Kl())).ToArray();
        var controls = Enumerable.Range(0, Windows).Select(_ => (IReadOnlyList<double?>)level.Select(a => (double?)(a * Kl())).ToArray()).ToArray();
        return (segment, controls);
    }

    [Fact]
    public void HandComputedWithUndefinedDocuments()
    {
        // Document 0: 3 − mean(1, 2) = 1.5; document 1: only window 1 defined, 5 − 4 = 1; document 2: segment undefined.
        double?[] seg = [3, 5, null];
        IReadOnlyList<double?>[] ctl = [[1, null, 3], [2, 4, 8]];
        var r = ControlContrast.Compare(seg, ctl, 0, 100, 100);
        Assert.Equal([1.5, 1.0], r.Differences);
        Assert.Equal(1.25, r.Paired!.Interval.Mean, 12);
        Assert.Equal(0.5, r.Paired.Permutation.PValue); // exact: of the sums ±1.5 ± 1, two of four reach |2.5|
        Assert.Equal([2.0, Math.Round(14.0 / 3, 12)], r.ControlEffects.Select(v => Math.Round(v!.Value, 12)));
        Assert.Equal(4.0, r.Exceedance!.Effect);             // the segment's mean over its defined documents
        Assert.Equal(2.0 / 3, r.Exceedance.ExceedanceP, 12); // (one window ≥ 4, + 1) / (2 + 1)
    }

    [Fact]
    public void ASegmentLikeItsControlsIsRarelySignificantWhileTheTestAgainstZeroAlwaysIs()
    {
        int contrastHits = 0, exceedHits = 0;
        const int seeds = 200;
        for (int seed = 0; seed < seeds; seed++)
        {
            var (seg, ctl) = Draw(seed, 1.0);
            var r = ControlContrast.Compare(seg, ctl, seed, 200, 999);
            if (r.Paired!.Permutation.PValue < 0.05) contrastHits++;
            if (r.Exceedance!.ExceedanceP <= 0.05) exceedHits++;
            // The old test, a KL's mean against 0, "succeeds" on the same null data every time: it cannot fail.
            var raw = PairedStatistics.PermutationPValue(seg.Select(v => v!.Value).ToArray(), seed, 999);
            Assert.True(raw.PValue < 0.05);
        }
        // Nominal rate 5%; 10% is about 3 binomial sd above it at 200 seeds.
        Assert.True(contrastHits <= seeds / 10, $"contrast p < 0.05 in {contrastHits} of {seeds} null seeds");
        Assert.True(exceedHits <= seeds / 10, $"exceedance p ≤ 0.05 in {exceedHits} of {seeds} null seeds");
    }

    [Fact]
    public void ASegmentThatDisruptsMoreIsSignificant()
    {
        int contrastHits = 0;
        const int seeds = 50;
        for (int seed = 0; seed < seeds; seed++)
        {
            var (seg, ctl) = Draw(1000 + seed, 3.0);
            var r = ControlContrast.Compare(seg, ctl, seed, 200, 999);
            if (r.Paired!.Permutation.PValue < 0.05 && r.Paired.Interval.Low > 0) contrastHits++;
        }
        Assert.True(contrastHits >= seeds * 9 / 10, $"contrast significant in only {contrastHits} of {seeds} seeds");
    }

    [Fact]
    public void ExceedanceReachesItsFloorWithNineteenWindows()
    {
        var (_, ctl) = Draw(1, 1.0);
        var big = Enumerable.Repeat((double?)100.0, Documents).ToArray();
        var r = ControlContrast.Compare(big, ctl, 0, 100, 100);
        Assert.Equal(0.05, r.Exceedance!.ExceedanceP, 12);
        Assert.Equal(1.0, r.Exceedance.Percentile);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<MspgtException>(() => ControlContrast.Compare([1.0, 2.0], [], 0));
        Assert.Throws<MspgtException>(() => ControlContrast.Compare([1.0, 2.0], [new double?[] { 1.0 }], 0));
        Assert.Throws<MspgtException>(() => ControlContrast.Compare([1.0, double.NaN], [new double?[] { 1.0, 2.0 }], 0));
        // No document has both sides: no paired statistics, no crash.
        var empty = ControlContrast.Compare([1.0, null], [new double?[] { null, 2.0 }], 0);
        Assert.Empty(empty.Differences);
        Assert.Null(empty.Paired);
        Assert.NotNull(empty.Exceedance);
    }
}
