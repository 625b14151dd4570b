using Mspgt.Interventions;

namespace Mspgt.Tests.Interventions;

public class ControlWindowsTests
{
    private static bool Overlaps((int First, int Last) w, LayerSegment s) => w.First <= s.Last && w.Last >= s.First;

    [Fact]
    public void EverySegmentOfATwelveLayerModelGetsAllItsNonOverlappingWindows()
    {
        const int layers = 12;
        for (int f = 0; f < layers; f++)
            for (int l = f; l < layers; l++)
            {
                var seg = new LayerSegment("local", f, l);
                var set = ControlWindows.Choose(seg, layers, ControlWindows.DefaultCount, seed: 3, segmentIndex: 0);
                int w = l - f + 1;
                // Windows entirely before the segment start at 0..f−w, entirely after at l+1..L−w.
                int expected = Math.Max(0, f - w + 1) + Math.Max(0, layers - l - w);
                Assert.Equal(expected, set.Candidates);
                Assert.True(expected < ControlWindows.DefaultCount); // 12 layers never have 19: all are used
                Assert.Equal(expected, set.Windows.Count);
                Assert.Equal(expected, set.Windows.Distinct().Count());
                Assert.All(set.Windows, x => Assert.Equal(w, x.Last - x.First + 1));
                Assert.All(set.Windows, x => Assert.InRange(x.First, 0, layers - w));
                Assert.All(set.Windows, x => Assert.False(Overlaps(x, seg), $"{f}-{l}: window {x.First}-{x.Last} overlaps"));
                Assert.Equal(set.Windows.OrderBy(x => x.First), set.Windows);
                Assert.Equal(expected == 0 ? null : 1.0 / (expected + 1), set.ExceedancePFloor);
            }
    }

    [Fact]
    public void FewerThanNineteenCandidatesUsesThemAllAndSaysSo()
    {
        var set = ControlWindows.Choose(new LayerSegment("local", 0, 1), 12, 19, 0, 0);
        Assert.Equal(Enumerable.Range(2, 9).Select(s => (s, s + 1)), set.Windows);
        Assert.Equal(0.1, set.ExceedancePFloor);
        Assert.Contains("only 9", set.Note);

        var none = ControlWindows.Choose(new LayerSegment("intermediate", 2, 9), 12, 19, 0, 1);
        Assert.Empty(none.Windows);
        Assert.Null(none.ExceedancePFloor);
        Assert.Contains("no window", none.Note);
    }

    [Fact]
    public void MoreCandidatesThanRequestedAreDrawnUniformlyWithoutReplacement()
    {
        // 40 blocks, segment 10-10: 39 candidates, 19 drawn; each should be chosen with probability 19/39.
        var seg = new LayerSegment("global", 10, 10);
        var counts = new int[40];
        const int seeds = 2000;
        for (int seed = 0; seed < seeds; seed++)
        {
            var set = ControlWindows.Choose(seg, 40, 19, seed, 2);
            Assert.Equal(39, set.Candidates);
            Assert.Null(set.Note);
            Assert.Equal(19, set.Windows.Count);
            Assert.Equal(19, set.Windows.Distinct().Count());
            Assert.Equal(set.Windows.OrderBy(x => x.First), set.Windows);
            Assert.All(set.Windows, x => Assert.NotEqual(10, x.First));
            foreach (var x in set.Windows) counts[x.First]++;
        }
        Assert.Equal(0, counts[10]);
        // Binomial sd of a frequency: √(0.487·0.513/2000) ≈ 0.011; ±0.05 is over 4 sd.
        foreach (int s in Enumerable.Range(0, 40).Where(s => s != 10))
            Assert.InRange(counts[s] / (double)seeds, 19.0 / 39 - 0.05, 19.0 / 39 + 0.05);

        // Seeded: the same seed gives the same windows, another seed (almost surely) others; segments draw apart.
        Assert.Equal(ControlWindows.Choose(seg, 40, 19, 7, 2).Windows, ControlWindows.Choose(seg, 40, 19, 7, 2).Windows);
        Assert.NotEqual(ControlWindows.Choose(seg, 40, 19, 7, 2).Windows, ControlWindows.Choose(seg, 40, 19, 8, 2).Windows);
        Assert.NotEqual(ControlWindows.Choose(seg, 40, 19, 7, 2).Windows, ControlWindows.Choose(seg, 40, 19, 7, 1).Windows);
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        Assert.Throws<MspgtException>(() => ControlWindows.Choose(new LayerSegment("local", 0, 1), 12, 0, 0, 0));
        Assert.Throws<MspgtException>(() => ControlWindows.Choose(new LayerSegment("local", 10, 12), 12, 19, 0, 0));
    }
}
