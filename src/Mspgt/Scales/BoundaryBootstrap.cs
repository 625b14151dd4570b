using Mspgt.Numerics;

namespace Mspgt.Scales;

/// <summary>
/// Nonparametric bootstrap over documents of one fit with K boundaries: its distribution over layers per boundary
/// (<see cref="Counts"/>[i][layer]), the mode (ties to the shallower layer), the percentile interval, and every
/// resample's boundaries in resample order (<see cref="Draws"/>[r][i]): two analyses of the same documents with the
/// same seed draw the same documents in resample r, so their draws pair up.
/// </summary>
public sealed record BoundaryDistribution(int K, int MinSegmentLength, int[][] Counts, int[] Mode, int[][] Interval, int[][] Draws);

/// <summary>
/// Intervals for boundary locations: each resample draws D documents with replacement (seeded SplitMix64, one stream
/// per resample), averages them, re-estimates every signal's standard error from the drawn documents, standardises
/// and weights as <see cref="BoundaryDetector"/> does, and records the exact optimal fit for every K asked for.
/// Resamples run in parallel but write only their own slots, and the summaries are formed afterwards in resample
/// order, so the result depends only on the data, the settings and the seed.
/// <para>Percentile interval of an integer boundary at confidence c: lo = the smallest layer whose empirical CDF
/// reaches (1−c)/2, hi = the smallest layer whose CDF reaches 1 − (1−c)/2 (the inverted-CDF percentile).</para>
/// </summary>
public static class BoundaryBootstrap
{
    public const int DefaultResamples = 200;
    public const double Confidence = 0.95;
    private const ulong Stream = 0xB007;

    /// <summary>One distribution per requested (K ≥ 1, minimum segment length) fit, in order.</summary>
    public static IReadOnlyList<BoundaryDistribution> Run(SignalPanel panel, double[] weights, IReadOnlyList<(int K, int MinSize)> fits,
        int resamples, int seed)
    {
        if (resamples < 1) throw new MspgtException("bootstrap", $"needs at least 1 resample, got {resamples}");
        if (panel.Documents < 2) throw new MspgtException(panel.Source, "a bootstrap over documents needs at least 2 documents");
        int D = panel.Documents, L = panel.Layers, S = panel.Signals;
        var drawn = new int[fits.Count][][];
        for (int f = 0; f < fits.Count; f++)
        {
            drawn[f] = new int[resamples][];
            if (fits[f].K < 1) throw new ArgumentException("a bootstrap distribution needs K >= 1");
        }
        Parallel.For(0, resamples, Mspgt.Numerics.Parallelism.Options, () => (Draw: new int[D], SumSq: new double[L * S], Z: new double[L * S]), (r, _, buf) =>
        {
            var rng = SplitMix64.ForStream(seed, Stream << 32 | (uint)r);
            for (int i = 0; i < D; i++) buf.Draw[i] = rng.NextInt(D);
            var mean = panel.MeanOf(buf.Draw, buf.SumSq);
            for (int s = 0; s < S; s++)
            {
                double sigma = panel.Noise[s] == NoiseSource.Documents
                    ? Math.Max(SignalPanel.DocumentNoiseSd(buf.SumSq, L, S, s, D), 1e-6 * panel.NoiseSd[s])
                    : panel.NoiseSd[s];
                for (int l = 0; l < L; l++) buf.Z[l * S + s] = sigma > 0 ? mean[l * S + s] / sigma : 0;
            }
            var cost = new LinearTrendCost(L, S, buf.Z, weights);
            foreach (var group in Enumerable.Range(0, fits.Count).GroupBy(f => fits[f].MinSize))
            {
                var dp = OptimalSegmentation.Fit(cost, group.Max(f => fits[f].K), group.Key);
                foreach (int f in group) drawn[f][r] = dp.Predict(fits[f].K).Boundaries;
            }
            return buf;
        }, _ => { });

        return fits.Select((fit, f) =>
        {
            var counts = new int[fit.K][];
            for (int i = 0; i < fit.K; i++)
            {
                counts[i] = new int[L];
                foreach (var b in drawn[f]) counts[i][b[i]]++;
            }
            return new BoundaryDistribution(fit.K, fit.MinSize, counts, counts.Select(Mode).ToArray(),
                counts.Select(c => PercentileInterval(c, Confidence)).ToArray(), drawn[f]);
        }).ToList();
    }

    /// <summary>The most frequent layer; ties go to the shallower layer.</summary>
    internal static int Mode(int[] counts)
    {
        int best = 0;
        for (int i = 1; i < counts.Length; i++)
            if (counts[i] > counts[best]) best = i;
        return best;
    }

    /// <summary>Inverted-CDF percentile interval of an integer distribution given by counts per value.</summary>
    internal static int[] PercentileInterval(int[] counts, double confidence)
    {
        long total = counts.Sum(c => (long)c);
        double alpha = (1 - confidence) / 2;
        return [Quantile(counts, total, alpha), Quantile(counts, total, 1 - alpha)];
    }

    private static int Quantile(int[] counts, long total, double p)
    {
        // Smallest value v with #(x ≤ v) ≥ p·total, computed on counts to stay exact: ceil(p·total) with a guard
        // against 0.975·200 = 194.99999… style rounding.
        long need = Math.Max(1, (long)Math.Ceiling(p * total - 1e-9));
        long cumulative = 0;
        for (int v = 0; v < counts.Length; v++)
        {
            cumulative += counts[v];
            if (cumulative >= need) return v;
        }
        return counts.Length - 1;
    }
}
