using CsCheck;
using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class SegmentationSearchTests
{
    /// <summary>Least-squares cost computed the slow way: squared deviations from each segment's mean.</summary>
    private static double NaiveCost(double[,] x, IReadOnlyList<int> boundaries)
    {
        int l = x.GetLength(0), s = x.GetLength(1);
        var cuts = new List<int> { 0 };
        cuts.AddRange(boundaries);
        cuts.Add(l);
        double total = 0;
        for (int c = 0; c + 1 < cuts.Count; c++)
            for (int j = 0; j < s; j++)
            {
                double mean = 0;
                for (int i = cuts[c]; i < cuts[c + 1]; i++) mean += x[i, j];
                mean /= cuts[c + 1] - cuts[c];
                for (int i = cuts[c]; i < cuts[c + 1]; i++) total += (x[i, j] - mean) * (x[i, j] - mean);
            }
        return total;
    }

    /// <summary>All boundary sets with K change points and every segment at least m long.</summary>
    private static IEnumerable<int[]> AllSegmentations(int l, int k, int m)
    {
        IEnumerable<int[]> Rec(int start, int left)
        {
            if (left == 0) { if (l - start >= m) yield return []; yield break; }
            for (int b = start + m; b <= l - m * left; b++)
                foreach (var rest in Rec(b, left - 1))
                    yield return [b, .. rest];
        }
        return Rec(0, k);
    }

    private static readonly Gen<(int L, int S, int M, int Seed)> SmallCases =
        Gen.Select(Gen.Int[2, 10], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int);

    [Fact]
    public void PrefixSumCostMatchesNaiveCost()
    {
        var rng = new Random(7);
        var x = Synthetic.Random(rng, 13, 3);
        // A large offset would cancel badly in Σx² − (Σx)²/n without the centring in LeastSquaresCost.
        for (int i = 0; i < 13; i++) x[i, 1] += 1e6;
        var cost = new LeastSquaresCost(x);
        for (int a = 0; a < 13; a++)
            for (int b = a + 1; b <= 13; b++)
            {
                double naive = NaiveCost(Slice(x, a, b), []);
                Assert.Equal(naive, cost.Cost(a, b), 1e-6);
            }
        Assert.Equal(0.0, cost.Cost(4, 5)); // a single layer has no spread
    }

    private static double[,] Slice(double[,] x, int a, int b)
    {
        var y = new double[b - a, x.GetLength(1)];
        for (int i = a; i < b; i++)
            for (int j = 0; j < x.GetLength(1); j++) y[i - a, j] = x[i, j];
        return y;
    }

    [Fact]
    public void DynamicProgrammingEqualsBruteForce()
    {
        SmallCases.Sample((l, s, m, seed) =>
        {
            if (OptimalSegmentation.FeasibleMaxChangePoints(l, m) < 0) return;
            var x = Synthetic.Random(new Random(seed), l, s);
            var dp = OptimalSegmentation.Fit(new LeastSquaresCost(x), 5, m);
            Assert.Equal(Math.Min(5, l / m - 1), dp.MaxChangePoints);
            for (int k = 0; k <= dp.MaxChangePoints; k++)
            {
                double best = AllSegmentations(l, k, m).Min(b => NaiveCost(x, b));
                var fit = dp.Predict(k);
                Assert.Equal(k, fit.Boundaries.Length);
                Assert.Equal(best, fit.Cost, 1e-8 * (1 + best));
                Assert.Equal(best, NaiveCost(x, fit.Boundaries), 1e-8 * (1 + best)); // the boundaries achieve it
                Assert.True(SegmentLengths(fit.Boundaries, l).All(len => len >= m));
            }
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void PeltEqualsDynamicProgrammingOptimumOfPenalisedObjective()
    {
        Gen.Select(SmallCases, Gen.Double[0, 60]).Sample((c, penalty) =>
        {
            var (l, s, m, seed) = c;
            if (OptimalSegmentation.FeasibleMaxChangePoints(l, m) < 0) return;
            var x = Synthetic.Random(new Random(seed), l, s);
            var cost = new LeastSquaresCost(x);
            var dp = OptimalSegmentation.Fit(cost, l, m);
            double best = Enumerable.Range(0, dp.MaxChangePoints + 1).Min(k => dp.OptimalCost(k) + penalty * k);
            var pelt = PeltSearch.Fit(cost, penalty, m);
            Assert.Equal(best, pelt.Cost + penalty * pelt.ChangePoints, 1e-8 * (1 + best));
            Assert.Equal(NaiveCost(x, pelt.Boundaries), pelt.Cost, 1e-8 * (1 + best));
            Assert.True(SegmentLengths(pelt.Boundaries, l).All(len => len >= m));
        }, iter: 400, threads: 1);
    }

    [Fact]
    public void PeltOnLongerSeriesEqualsDynamicProgramming()
    {
        // Longer than the property cases so that pruning actually removes candidates.
        for (int seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            var x = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, 60, 3, [10, 25, 26, 40]), 0.4);
            var cost = new LeastSquaresCost(x);
            foreach (int m in new[] { 1, 3 })
            {
                var dp = OptimalSegmentation.Fit(cost, 60, m);
                foreach (double penalty in new[] { 0.5, 2.0, 8.0 })
                {
                    var costs = Enumerable.Range(0, dp.MaxChangePoints + 1).Select(k => dp.OptimalCost(k) + penalty * k).ToArray();
                    int kBest = Array.IndexOf(costs, costs.Min());
                    var pelt = PeltSearch.Fit(cost, penalty, m);
                    Assert.Equal(costs[kBest], pelt.Cost + penalty * pelt.ChangePoints, 1e-9 * (1 + costs[kBest]));
                    Assert.Equal(dp.Predict(kBest).Boundaries, pelt.Boundaries);
                }
            }
        }
    }

    [Fact]
    public void PeltWithMinimumSegmentLengthDelaysPruning()
    {
        // Pruning a candidate at once (as ruptures' Pelt does) loses the optimum here: with min length 2 the
        // candidate dominated at t is still needed at t + 1, where t itself cannot yet be a boundary.
        double[,] x = { { 1 }, { 3 }, { 2 }, { 1 }, { 1 }, { 3 } };
        var cost = new LeastSquaresCost(x);
        var dp = OptimalSegmentation.Fit(cost, 6, 2);
        const double penalty = 0.3;
        double best = Enumerable.Range(0, dp.MaxChangePoints + 1).Min(k => dp.OptimalCost(k) + penalty * k);
        var pelt = PeltSearch.Fit(cost, penalty, 2);
        Assert.Equal(best, pelt.Cost + penalty * pelt.ChangePoints, 12);
    }

    [Fact]
    public void NoiselessStepsAreFoundExactly()
    {
        var x = new double[10, 1];
        for (int i = 0; i < 10; i++) x[i, 0] = i < 3 ? 0 : i < 7 ? 5 : 1;
        var cost = new LeastSquaresCost(x);
        var fit = OptimalSegmentation.Fit(cost, 4).Predict(2);
        Assert.Equal([3, 7], fit.Boundaries);
        Assert.Equal(0.0, fit.Cost, 12);
        // K = 1, by hand: split at 3 leaves [5,5,5,5,1,1,1] (mean 23/7): 4·(12/7)² + 3·(16/7)² = 1344/49 ≈ 27.4;
        // split at 7 leaves [0,0,0,5,5,5,5]: 2100/49 ≈ 42.9; split at 2: ≈ 36.9; splits inside the 5s are worse.
        var one = OptimalSegmentation.Fit(cost, 1).Predict(1);
        Assert.Equal([3], one.Boundaries);
        Assert.Equal(1344.0 / 49, one.Cost, 9);
        // PELT with the default penalty finds the two steps and nothing else.
        Assert.Equal([3, 7], PeltSearch.Fit(cost, PeltSearch.DefaultPenalty(x)).Boundaries);
    }

    [Fact]
    public void BoundaryConventionGivesInclusiveSegmentsAndDepthFractions()
    {
        var seg = new Segmentation(10, [3, 7], 0);
        Assert.Equal([[0, 2], [3, 6], [7, 9]], seg.Segments());
        Assert.Equal([0.3, 0.7], seg.DepthFractions());
        Assert.Equal([[0, 9]], Segmentation.SegmentsOf([], 10));
        Assert.Throws<ArgumentException>(() => Segmentation.SegmentsOf([0, 5], 10));
        Assert.Throws<ArgumentException>(() => Segmentation.SegmentsOf([5, 10], 10));
        Assert.Throws<ArgumentException>(() => Segmentation.SegmentsOf([5, 5], 10));
    }

    private static IEnumerable<int> SegmentLengths(int[] boundaries, int l)
    {
        int start = 0;
        foreach (int b in boundaries) { yield return b - start; start = b; }
        yield return l - start;
    }
}
