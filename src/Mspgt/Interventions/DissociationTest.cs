using Mspgt.Numerics;
using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;

namespace Mspgt.Interventions;

/// <summary>Uncertainty and null distribution of a dissociation matrix's diagonal dominance.</summary>
/// <param name="Observed">The diagonal dominance of the data (as <see cref="DissociationMatrix.Build"/> gives it).</param>
/// <param name="Low">Lower end of the bootstrap percentile interval; null when fewer than half the resamples had
/// three complete rows.</param>
/// <param name="BootstrapUsed">Resamples with three complete rows (the others are left out).</param>
/// <param name="NullMean">Mean score over the label permutations used (null when none gave three complete rows).</param>
/// <param name="PValue">(#{null ≥ observed} + 1) / (used + 1), one-sided.</param>
public sealed record DissociationTestResult(double Observed, double? Low, double? High, double Level,
    int BootstrapResamples, int BootstrapUsed, double? NullMean, double PValue, int Permutations, int PermutationsUsed,
    int Documents);

/// <summary>
/// Tests the diagonal dominance of the segment × metric-family matrix from the per-document paired differences
/// of the three named segments.
/// <list type="bullet">
/// <item>Interval: B times, resample the documents with replacement (one draw serves all segments and metrics, so
/// their dependence within a document is kept), recompute every d_z, the matrix and the score; the 95% interval is
/// the type-7 percentile interval of the scores. Resamples in which some row is incomplete (a d_z undefined for
/// every metric of a family) are left out and counted.</item>
/// <item>Null: H0 "no scale-specific effect": within a document the three segments' difference vectors are
/// exchangeable, so which segment is called local, intermediate or global is arbitrary. Each permutation
/// relabels every document independently with a uniform permutation of the three labels (a document's metrics
/// move together), recomputes the score; p = (#{null ≥ observed} + 1) / (B + 1), one-sided since the prediction
/// is dominance &gt; 0 (Phipson &amp; Smyth 2010). Exact as a randomisation test when H0 holds. Note that
/// segments which differ only in overall strength already violate H0, so a small p says "the segments are not
/// interchangeable in the direction of the diagonal", and the score itself should be read beside it.</item>
/// </list>
/// Cells are mean |d_z|, and |·| is biased upwards where the true effect is near 0 (by about √(2/(πn)) for
/// n documents); the interval inherits that bias for such cells.
/// </summary>
public static class DissociationTest
{
    private const string Source = "dissociation test";
    private static readonly int[][] Permutations3 = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

    /// <param name="metrics">The metrics of <paramref name="values"/> (next-token metrics are ignored by the matrix).</param>
    /// <param name="values">values[row][metric][document]: the paired difference, null where undefined; rows in
    /// <see cref="DissociationMatrix.Rows"/> order, every array over the same documents.</param>
    /// <param name="stream">Distinguishes tests run from the same seed (one per intervention condition).</param>
    /// <returns>The result, or null with the reason when the data have no three complete rows.</returns>
    public static (DissociationTestResult? Result, string? Reason) Run(IReadOnlyList<string> metrics, double?[][][] values,
        int seed, ulong stream, int bootstrapResamples = PairedStatistics.DefaultBootstrapResamples,
        int permutations = PairedStatistics.DefaultPermutationResamples, double level = 0.95)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(values);
        if (bootstrapResamples < 1) throw new MspgtException(Source, $"bootstrap resamples must be at least 1, got {bootstrapResamples}");
        if (permutations < 1) throw new MspgtException(Source, $"permutations must be at least 1, got {permutations}");
        if (!(level > 0 && level < 1)) throw new MspgtException(Source, $"interval level must be in (0, 1), got {level}");
        if (values.Length != 3) throw new MspgtException(Source, $"{values.Length} segments; the test needs local, intermediate and global");
        int n = values[0].Length == 0 ? 0 : values[0][0].Length;
        for (int r = 0; r < 3; r++)
        {
            if (values[r].Length != metrics.Count)
                throw new MspgtException(Source, $"segment {r} has {values[r].Length} metrics, expected {metrics.Count}");
            foreach (var column in values[r])
            {
                if (column.Length != n) throw new MspgtException(Source, $"segment {r} has {column.Length} documents in one metric, {n} in another");
                foreach (var v in column)
                    if (v is double x && !double.IsFinite(x)) throw new MspgtException(Source, $"a difference of segment {r} is {x}");
            }
        }
        if (n < 2) return (null, $"{n} document(s): d_z needs at least 2");

        var scorer = new Scorer(metrics, values);
        var all = Enumerable.Range(0, n).ToArray();
        if (scorer.Score(all, null) is not double observed)
            return (null, "some segment has no defined effect size in some text family (text outcomes need --continuations > 0)");

        var rng = SplitMix64.ForStream(seed, 0x4449_5353_0000_0000UL + 2 * stream);
        var docs = new int[n];
        var boot = new List<double>(bootstrapResamples);
        for (int b = 0; b < bootstrapResamples; b++)
        {
            for (int i = 0; i < n; i++) docs[i] = rng.NextInt(n);
            if (scorer.Score(docs, null) is double s) boot.Add(s);
        }
        double? low = null, high = null;
        if (boot.Count * 2 >= bootstrapResamples)
        {
            var sorted = boot.ToArray();
            Array.Sort(sorted);
            low = PairedStatistics.Quantile(sorted, (1 - level) / 2);
            high = PairedStatistics.Quantile(sorted, (1 + level) / 2);
        }

        rng = SplitMix64.ForStream(seed, 0x4449_5353_0000_0000UL + 2 * stream + 1);
        var labels = new int[n];
        double threshold = observed - 1e-12 * Math.Max(1.0, Math.Abs(observed)); // equal in exact arithmetic counts
        int used = 0, atLeast = 0;
        double sum = 0;
        for (int b = 0; b < permutations; b++)
        {
            for (int i = 0; i < n; i++) labels[i] = rng.NextInt(6);
            if (scorer.Score(all, labels) is not double s) continue;
            used++;
            sum += s;
            if (s >= threshold) atLeast++;
        }
        return (new DissociationTestResult(observed, low, high, level, bootstrapResamples, boot.Count,
            used == 0 ? null : sum / used, (atLeast + 1.0) / (used + 1.0), permutations, used, n), null);
    }

    /// <summary>Recomputes the score for a list of documents (a bootstrap draw) and, optionally, a relabelling.</summary>
    private sealed class Scorer(IReadOnlyList<string> metrics, double?[][][] values)
    {
        private readonly double[] _buffer = new double[values[0].Length == 0 ? 0 : values[0][0].Length];
        private readonly bool[] _text = metrics.Select(m => OutcomeMetrics.FamilyOf(m) != MetricFamily.NextToken).ToArray();

        /// <param name="labels">Per position of <paramref name="docs"/>, an index into the six permutations: the
        /// data labelled row r come from row Permutations3[label][r]. Null: no relabelling.</param>
        public double? Score(int[] docs, int[]? labels)
        {
            var effects = new List<SegmentMetricEffect>(3 * metrics.Count);
            for (int r = 0; r < 3; r++)
                for (int m = 0; m < metrics.Count; m++)
                {
                    if (!_text[m]) continue;
                    int count = 0;
                    for (int t = 0; t < docs.Length; t++)
                    {
                        int source = labels is null ? r : Permutations3[labels[t]][r];
                        if (values[source][m][docs[t]] is double v) _buffer[count++] = v;
                    }
                    double? dz = count == 0 ? null : PairedStatistics.CohensDz(_buffer.AsSpan(0, count));
                    effects.Add(new SegmentMetricEffect(DissociationMatrix.Rows[r], metrics[m], dz));
                }
            var matrix = DissociationMatrix.Build(effects);
            return matrix.RowMargins.All(x => x is not null) ? matrix.DiagonalDominance : null;
        }
    }
}
