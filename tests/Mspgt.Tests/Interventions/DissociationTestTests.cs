using Mspgt.Numerics;
using Mspgt.Interventions;
using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;

namespace Mspgt.Tests.Interventions;

/// <summary>The diagonal dominance's bootstrap interval and label-permutation null, on planted matrices.</summary>
public class DissociationTestTests
{
    private static readonly string[] Text = OutcomeMetrics.All.Where(m => m.Family != MetricFamily.NextToken).Select(m => m.Name).ToArray();

    private static int ColumnOf(string metric) => OutcomeMetrics.FamilyOf(metric) switch
    {
        MetricFamily.Lexical => 0,
        MetricFamily.Sentence => 1,
        _ => 2,
    };

    /// <summary>Per-document differences N(mean(row, family), 1): the population d_z of a cell is its mean.</summary>
    private static double?[][][] Draw(int seed, int documents, Func<int, int, double> mean)
    {
        var rng = SplitMix64.ForStream(seed, 91);
        double U() => ((rng.NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));
        double Normal() => Math.Sqrt(-2 * Math.Log(U())) * Math.Cos(2 * Math.PI * U());
        return Enumerable.Range(0, 3).Select(r => Text.Select(m =>
            Enumerable.Range(0, documents).Select(_ => (double?)(mean(r, ColumnOf(m)) + Normal())).ToArray()).ToArray()).ToArray();
    }

    [Fact]
    public void ObservedScoreIsTheMatrixOfTheDocumentDz()
    {
        var values = Draw(1, 20, (r, c) => r == c ? 1 : 0.2);
        var (t, reason) = DissociationTest.Run(Text, values, 0, 0, 100, 100);
        Assert.Null(reason);
        var effects = Enumerable.Range(0, 3).SelectMany(r => Text.Select((m, i) => new SegmentMetricEffect(DissociationMatrix.Rows[r], m,
            PairedStatistics.CohensDz(values[r][i].Select(v => v!.Value).ToArray()))));
        Assert.Equal(DissociationMatrix.Build(effects).DiagonalDominance, t!.Observed);
        Assert.Equal(20, t.Documents);
        Assert.Equal(100, t.BootstrapUsed);
        Assert.Equal(100, t.PermutationsUsed);
        // Seeded; another stream gives other resamples.
        Assert.Equal(t, DissociationTest.Run(Text, values, 0, 0, 100, 100).Result);
        Assert.NotEqual(t.Low, DissociationTest.Run(Text, values, 0, 1, 100, 100).Result!.Low);
    }

    [Fact]
    public void NoStructureIsRarelySignificant()
    {
        // Every segment has the same effects (the families differ, the segments do not): H0 holds exactly.
        int small = 0;
        const int seeds = 40;
        for (int seed = 0; seed < seeds; seed++)
        {
            var (t, _) = DissociationTest.Run(Text, Draw(seed, 30, (_, c) => 0.3 * c), seed, 0, 50, 499);
            if (t!.PValue < 0.05) small++;
        }
        // A randomisation test is exact under H0: about 2 of 40 expected; P(≥ 7) ≈ 0.1%.
        Assert.True(small <= 6, $"p < 0.05 in {small} of {seeds} seeds without structure");
    }

    [Fact]
    public void APlantedDiagonalIsSignificant()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var (t, _) = DissociationTest.Run(Text, Draw(seed, 30, (r, c) => r == c ? 1.0 : 0.0), seed, 0, 50, 499);
            Assert.True(t!.PValue < 0.05, $"seed {seed}: p {t.PValue}");
            Assert.True(t.NullMean < t.Observed / 2, $"seed {seed}: null mean {t.NullMean}, observed {t.Observed}");
            Assert.True(t.Low > 0, $"seed {seed}: interval starts at {t.Low}");
        }
    }

    [Fact]
    public void BootstrapIntervalCoversThePlantedScore()
    {
        // Diagonal d = 1, off-diagonal d = 0.3: the planted score is 1 − 0.3 = 0.7. The off-diagonal effects are kept
        // away from 0 because |d_z| is biased upward near 0 (the interval would then sit above the planted value).
        int covered = 0;
        const int seeds = 20;
        for (int seed = 0; seed < seeds; seed++)
        {
            var (t, _) = DissociationTest.Run(Text, Draw(100 + seed, 60, (r, c) => r == c ? 1.0 : 0.3), seed, 0, 1000, 20);
            Assert.True(t!.Low < t.Observed && t.Observed < t.High);
            if (t.Low <= 0.7 && 0.7 <= t.High) covered++;
        }
        // Nominal 95%: 19 of 20 expected; P(≤ 15) ≈ 0.3%.
        Assert.True(covered >= 16, $"the interval covered 0.7 in {covered} of {seeds} seeds");
    }

    [Fact]
    public void IncompleteRowsGiveAReasonAndBadInputThrows()
    {
        var values = Draw(2, 10, (_, _) => 0.5);
        int coherence = Array.IndexOf(Text, OutcomeMetrics.Coherence), topic = Array.IndexOf(Text, OutcomeMetrics.TopicSimilarity);
        values[2][coherence] = new double?[10];
        values[2][topic] = new double?[10]; // the global segment has no discourse metric
        var (t, reason) = DissociationTest.Run(Text, values, 0, 0, 50, 50);
        Assert.Null(t);
        Assert.Contains("no defined effect size", reason);
        Assert.NotNull(DissociationTest.Run(Text, Draw(2, 1, (_, _) => 0.5), 0, 0, 50, 50).Reason); // one document

        Assert.Throws<MspgtException>(() => DissociationTest.Run(Text, values.Take(2).ToArray(), 0, 0));
        Assert.Throws<MspgtException>(() => DissociationTest.Run(Text, Draw(2, 10, (_, _) => 0.5), 0, 0, 0, 10));
        var bad = Draw(2, 10, (_, _) => 0.5);
        bad[0][0][3] = double.PositiveInfinity;
        Assert.Throws<MspgtException>(() => DissociationTest.Run(Text, bad, 0, 0));
    }
}
