using Mspgt.Numerics;
using Mspgt.Interventions.Statistics;

namespace Mspgt.Tests.Interventions;

public class PairedStatisticsTests
{
    [Fact]
    public void ExactPermutationOfOneTwoThreeIsTwoEighths()
    {
        // Sign patterns of ±1±2±3: sums 6,4,2,0,0,−2,−4,−6; only ±6 reach |6|.
        var t = PairedStatistics.PermutationPValue([1, 2, 3], seed: 0);
        Assert.True(t.Exact);
        Assert.Equal(8, t.Patterns);
        Assert.Equal(0.25, t.PValue);
    }

    [Fact]
    public void ExactPermutationHandCounted()
    {
        // d = [4,1,1,−1], observed 5. With +4: 4±1±1±1 ∈ {7,5,5,5,3,3,3,1}, four reach 5; with −4 the mirror
        // image, four more: 8 of 16.
        Assert.Equal(0.5, PairedStatistics.PermutationPValue([4, 1, 1, -1], 0).PValue);
        Assert.Equal(2.0 / 16, PairedStatistics.PermutationPValue([2, 2, 2, 2], 0).PValue);
        Assert.Equal(1.0, PairedStatistics.PermutationPValue([1, -1], 0).PValue);
        Assert.Equal(1.0, PairedStatistics.PermutationPValue([0, 0, 0], 0).PValue);
        // Ties that only hold in exact arithmetic: ±0.3 plus three ±0.6 reaches |0.9| in 2 + 3 + 3 + 2 = 10 of 16
        // patterns (2.1/1.5, three 0.9, three −0.9, −1.5/−2.1), but in floating point some of the 0.9s are
        // 0.8999999999999999 and a strict comparison would count only 6.
        Assert.Equal(10.0 / 16, PairedStatistics.PermutationPValue([-0.3, -0.6, -0.6, 0.6], 0).PValue);
    }

    [Fact]
    public void MonteCarloPermutationMatchesExactCount()
    {
        // n = 20 > 16 takes the Monte Carlo branch; the exact p comes from counting signed sums by dynamic
        // programming over the integers (an independent method).
        int[] d = [3, -1, 4, 1, -5, 9, 2, -6, 5, 3, -5, 8, 9, -7, 9, 3, -2, 3, 8, -4];
        var counts = new Dictionary<int, long> { [0] = 1 };
        foreach (int x in d)
        {
            var next = new Dictionary<int, long>();
            foreach (var (s, c) in counts)
            {
                next[s + x] = next.GetValueOrDefault(s + x) + c;
                next[s - x] = next.GetValueOrDefault(s - x) + c;
            }
            counts = next;
        }
        int observed = Math.Abs(d.Sum());
        double exact = counts.Where(kv => Math.Abs(kv.Key) >= observed).Sum(kv => kv.Value) / (double)(1 << 20);
        Assert.Equal(0.14748, exact, 5);

        var t = PairedStatistics.PermutationPValue(d.Select(x => (double)x).ToArray(), seed: 7);
        Assert.False(t.Exact);
        Assert.Equal(10_000, t.Patterns);
        Assert.InRange(t.PValue, exact - 0.015, exact + 0.015); // ≈ 4 Monte Carlo standard errors
        Assert.Equal(t, PairedStatistics.PermutationPValue(d.Select(x => (double)x).ToArray(), seed: 7));
    }

    [Fact]
    public void MonteCarloPermutationNeverReturnsZero()
    {
        var d = Enumerable.Repeat(1.0, 40).ToArray(); // only 2 of 2^40 patterns reach the observed sum
        var t = PairedStatistics.PermutationPValue(d, seed: 1, resamples: 999);
        Assert.Equal(1.0 / 1000, t.PValue);
    }

    [Fact]
    public void BootstrapOfConstantDifferencesIsThePoint()
    {
        var ci = PairedStatistics.BootstrapMean([2, 2, 2], seed: 3);
        Assert.Equal((2.0, 2.0, 2.0), (ci.Mean, ci.Low, ci.High));
        Assert.Equal(2000, ci.Resamples);
        var one = PairedStatistics.BootstrapMean([-1.5], seed: 3);
        Assert.Equal((-1.5, -1.5), (one.Low, one.High));
    }

    [Fact]
    public void BootstrapOfTwoPairsSpansBothEnds()
    {
        // Resample means of [0, 1] are 0, ½, 1 with probabilities ¼, ½, ¼: about 500 of 2000 are 0 and 500 are 1,
        // so the 2.5% and 97.5% points are the extremes.
        var ci = PairedStatistics.BootstrapMean([0, 1], seed: 11);
        Assert.Equal(0.5, ci.Mean);
        Assert.Equal(0.0, ci.Low);
        Assert.Equal(1.0, ci.High);
    }

    [Fact]
    public void BootstrapIntervalMatchesBinomialQuantiles()
    {
        // 50 zeros and 50 ones: a resample mean is Binomial(100, ½)/100, whose 2.5% and 97.5% quantiles are
        // 0.40 and 0.60 (P(X ≤ 39) = 0.018, P(X ≤ 40) = 0.028).
        var d = Enumerable.Range(0, 100).Select(i => (double)(i % 2)).ToArray();
        var ci = PairedStatistics.BootstrapMean(d, seed: 5);
        Assert.Equal(0.5, ci.Mean, 12);
        Assert.InRange(ci.Low, 0.39, 0.41);
        Assert.InRange(ci.High, 0.59, 0.61);
    }

    [Fact]
    public void ResamplingIsDeterministicPerSeed()
    {
        double[] d = [0.3, -1.2, 2.5, 0.7, 1.1, -0.4, 0.9];
        var a = PairedStatistics.AnalyzeDifferences(d, seed: 42);
        var b = PairedStatistics.AnalyzeDifferences(d, seed: 42);
        var c = PairedStatistics.AnalyzeDifferences(d, seed: 43);
        Assert.Equal(a.Interval, b.Interval);
        Assert.Equal(a.Permutation, b.Permutation);
        Assert.NotEqual(a.Interval, c.Interval);
        Assert.Equal(3.9 / 7, a.Interval.Mean, 12);
        // Regression values (recorded, not derived): reported intervals must not change silently when the
        // generator or the resampling order changes. Plausible: mean ± 1.96·sd/√n ≈ 0.56 ± 0.87.
        Assert.Equal(-0.22857142857142851, a.Interval.Low, 12);
        Assert.Equal(1.4000000000000001, a.Interval.High, 12);
    }

    [Fact]
    public void QuantileIsTypeSeven()
    {
        // R: quantile(c(1,2,3,4), c(0, .25, .5, .9, 1)) = 1, 1.75, 2.5, 3.7, 4
        double[] s = [1, 2, 3, 4];
        Assert.Equal(1.0, PairedStatistics.Quantile(s, 0));
        Assert.Equal(1.75, PairedStatistics.Quantile(s, 0.25), 12);
        Assert.Equal(2.5, PairedStatistics.Quantile(s, 0.5), 12);
        Assert.Equal(3.7, PairedStatistics.Quantile(s, 0.9), 12);
        Assert.Equal(4.0, PairedStatistics.Quantile(s, 1));
    }

    [Fact]
    public void CohensDzHandComputed()
    {
        Assert.Equal(2.0, PairedStatistics.CohensDz([1, 2, 3])!.Value, 12);          // mean 2, sd 1
        Assert.Equal(Math.Sqrt(2), PairedStatistics.CohensDz([1, 3])!.Value, 12);   // mean 2, sd √2
        Assert.Equal(Math.Sqrt(6), PairedStatistics.CohensDz([2, 4, 4, 6])!.Value, 12); // mean 4, sd √(8/3)
        Assert.Equal(-2.0, PairedStatistics.CohensDz([-1, -2, -3])!.Value, 12);
    }

    [Fact]
    public void CohensDzDegenerateCases()
    {
        Assert.Equal(0.0, PairedStatistics.CohensDz([0, 0, 0]));
        Assert.Null(PairedStatistics.CohensDz([0.1, 0.1, 0.1])); // constant non-zero shift: unbounded, reported as null
        Assert.Null(PairedStatistics.CohensDz([5]));
        Assert.Throws<MspgtException>(() => PairedStatistics.CohensDz([]));
    }

    [Fact]
    public void PairsAreIntervenedMinusClean()
    {
        var e = PairedStatistics.Analyze([1, 2, 3], [2, 4, 6], seed: 0);
        Assert.Equal(3, e.N);
        Assert.Equal(2.0, e.Interval.Mean, 12);
        Assert.Equal(0.25, e.Permutation.PValue);
        Assert.Equal(2.0, e.CohensDz!.Value, 12);
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        Assert.Throws<MspgtException>(() => PairedStatistics.Differences([1, 2], [1]));
        Assert.Throws<MspgtException>(() => PairedStatistics.Differences([1, double.NaN], [1, 2]));
        Assert.Throws<MspgtException>(() => PairedStatistics.BootstrapMean([], 0));
        Assert.Throws<MspgtException>(() => PairedStatistics.BootstrapMean([1, double.PositiveInfinity], 0));
        Assert.Throws<MspgtException>(() => PairedStatistics.BootstrapMean([1, 2], 0, resamples: 0));
        Assert.Throws<MspgtException>(() => PairedStatistics.PermutationPValue([], 0));
    }
}

public class SplitMix64Tests
{
    [Fact]
    public void MatchesTheReferenceSequence()
    {
        // Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var g = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, g.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, g.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, g.NextUInt64());
    }

    [Fact]
    public void NextIntStaysInRange()
    {
        var g = new SplitMix64(9);
        var seen = new int[3];
        for (int i = 0; i < 3000; i++) seen[g.NextInt(3)]++;
        Assert.All(seen, c => Assert.InRange(c, 850, 1150));
    }
}
