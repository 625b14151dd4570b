using Mspgt.Numerics;
namespace Mspgt.Interventions.Statistics;

/// <summary>Mean effect with its bootstrap percentile interval.</summary>
/// <param name="Mean">Mean of the differences.</param>
/// <param name="Low">2.5th percentile (for a 95% interval) of the bootstrap distribution of the mean.</param>
/// <param name="High">97.5th percentile of the bootstrap distribution of the mean.</param>
/// <param name="Level">Coverage of the interval, 0.95 by default.</param>
/// <param name="Resamples">Number of bootstrap resamples B.</param>
public sealed record BootstrapInterval(double Mean, double Low, double High, double Level, int Resamples);

/// <summary>Result of the paired sign-flip permutation test.</summary>
/// <param name="PValue">Two-sided p-value.</param>
/// <param name="Exact">True when all 2^n sign patterns were enumerated (p = count / 2^n).</param>
/// <param name="Patterns">2^n when exact, else the number of Monte Carlo sign-flip draws B.</param>
public sealed record PermutationTest(double PValue, bool Exact, long Patterns);

/// <summary>Everything <c>mspgt intervene</c> reports for one (segment, metric) pair of paired observations.</summary>
/// <param name="N">Number of pairs.</param>
/// <param name="CohensDz">Paired Cohen's d_z, or null when undefined (see <see cref="PairedStatistics.CohensDz"/>).</param>
public sealed record PairedEffect(int N, BootstrapInterval Interval, PermutationTest Permutation, double? CohensDz);

/// <summary>
/// Statistics over n paired observations, always expressed through the differences d_i = intervened_i − clean_i.
/// All resampling is seeded and sequential, so the same inputs and seed give bit-identical results.
/// </summary>
public static class PairedStatistics
{
    public const int DefaultBootstrapResamples = 2000;
    public const int DefaultPermutationResamples = 10_000;

    /// <summary>Up to this many pairs the permutation test enumerates all 2^n sign patterns (65,536 at n = 16).</summary>
    public const int MaxExactPermutationPairs = 16;

    private const string Source = "paired statistics";
    private const ulong BootstrapStream = 1;
    private const ulong PermutationStream = 2;

    /// <summary>d_i = intervened_i − clean_i, after checking that both have the same length and only finite values.</summary>
    public static double[] Differences(ReadOnlySpan<double> clean, ReadOnlySpan<double> intervened)
    {
        if (clean.Length != intervened.Length)
            throw new MspgtException(Source, $"{clean.Length} clean values but {intervened.Length} intervened values; pairs must match");
        CheckFinite(clean, "clean value");
        CheckFinite(intervened, "intervened value");
        var d = new double[clean.Length];
        for (int i = 0; i < d.Length; i++) d[i] = intervened[i] - clean[i];
        CheckFinite(d, "difference");
        return d;
    }

    /// <summary>Mean difference, bootstrap interval, permutation p-value and d_z for the pairs (clean_i, intervened_i).</summary>
    public static PairedEffect Analyze(ReadOnlySpan<double> clean, ReadOnlySpan<double> intervened, int seed,
        int bootstrapResamples = DefaultBootstrapResamples, int permutationResamples = DefaultPermutationResamples)
        => AnalyzeDifferences(Differences(clean, intervened), seed, bootstrapResamples, permutationResamples);

    /// <summary>As <see cref="Analyze"/>, from the differences directly.</summary>
    public static PairedEffect AnalyzeDifferences(ReadOnlySpan<double> differences, int seed,
        int bootstrapResamples = DefaultBootstrapResamples, int permutationResamples = DefaultPermutationResamples)
    {
        var interval = BootstrapMean(differences, seed, bootstrapResamples);
        var perm = PermutationPValue(differences, seed, permutationResamples);
        return new PairedEffect(differences.Length, interval, perm, CohensDz(differences));
    }

    /// <summary>
    /// Paired bootstrap percentile interval of the mean difference: B times, draw n pairs with replacement (drawing
    /// whole pairs, i.e. whole differences), take the mean; the interval is the (1−level)/2 and (1+level)/2
    /// quantiles of the B means, with linear interpolation between order statistics (Hyndman–Fan type 7, R's
    /// default: position h = (B−1)·q on the sorted means, 0-based).
    /// </summary>
    public static BootstrapInterval BootstrapMean(ReadOnlySpan<double> differences, int seed,
        int resamples = DefaultBootstrapResamples, double level = 0.95)
    {
        CheckDifferences(differences);
        if (resamples < 1) throw new MspgtException(Source, $"bootstrap resamples must be at least 1, got {resamples}");
        if (!(level > 0 && level < 1)) throw new MspgtException(Source, $"interval level must be in (0, 1), got {level}");

        int n = differences.Length;
        var rng = SplitMix64.ForStream(seed, BootstrapStream);
        var means = new double[resamples];
        for (int b = 0; b < resamples; b++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += differences[rng.NextInt(n)];
            means[b] = sum / n;
        }
        Array.Sort(means);
        double alpha = (1 - level) / 2;
        return new BootstrapInterval(Mean(differences), Quantile(means, alpha), Quantile(means, 1 - alpha), level, resamples);
    }

    /// <summary>
    /// Two-sided paired permutation (sign-flip) test of "mean difference = 0". Under the null each d_i is equally
    /// likely to carry either sign, so the statistic |Σ s_i·d_i| is compared with the observed |Σ d_i| over sign
    /// patterns s ∈ {±1}^n. For n ≤ 16 all 2^n patterns (the observed one included) are enumerated and
    /// p = #{|Σ s_i d_i| ≥ |Σ d_i|} / 2^n exactly. For larger n, B patterns are drawn uniformly at random and
    /// p = (#{...} + 1) / (B + 1), which counts the observed pattern and is never 0 (Phipson &amp; Smyth 2010).
    /// "≥" is tested with a relative tolerance of 1e-9 · Σ|d_i| so that sums equal in exact arithmetic but
    /// rounded differently (e.g. 0.1 + 0.2 vs 0.3) count as ties.
    /// </summary>
    public static PermutationTest PermutationPValue(ReadOnlySpan<double> differences, int seed,
        int resamples = DefaultPermutationResamples)
    {
        CheckDifferences(differences);
        int n = differences.Length;
        double absSum = 0, observed = 0;
        for (int i = 0; i < n; i++) { absSum += Math.Abs(differences[i]); observed += differences[i]; }
        double threshold = Math.Abs(observed) - 1e-9 * absSum;

        if (n <= MaxExactPermutationPairs)
        {
            long patterns = 1L << n, count = 0;
            for (long mask = 0; mask < patterns; mask++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += ((mask >> i) & 1) == 0 ? differences[i] : -differences[i];
                if (Math.Abs(s) >= threshold) count++;
            }
            return new PermutationTest((double)count / patterns, true, patterns);
        }

        if (resamples < 1) throw new MspgtException(Source, $"permutation resamples must be at least 1, got {resamples}");
        var rng = SplitMix64.ForStream(seed, PermutationStream);
        long hits = 0;
        for (int b = 0; b < resamples; b++)
        {
            double s = 0;
            ulong bits = 0;
            for (int i = 0; i < n; i++)
            {
                if ((i & 63) == 0) bits = rng.NextUInt64();
                s += (bits & 1) == 0 ? differences[i] : -differences[i];
                bits >>= 1;
            }
            if (Math.Abs(s) >= threshold) hits++;
        }
        return new PermutationTest((hits + 1.0) / (resamples + 1.0), false, resamples);
    }

    /// <summary>
    /// Cohen's d for paired data, d_z = mean(d) / sd(d) with the n−1 standard deviation. Returns null where it is
    /// undefined, so that no infinity or NaN reaches a JSON report: for n &lt; 2, and for zero spread with a non-zero
    /// mean (every pair moved by the same amount: an unbounded standardised effect). Zero spread with a zero mean
    /// (the intervention changed nothing) gives 0. "Zero spread" means sd ≤ 1e-12 · max|d_i|, so that identical
    /// differences whose mean rounds off slightly do not produce a huge spurious d.
    /// </summary>
    public static double? CohensDz(ReadOnlySpan<double> differences)
    {
        CheckDifferences(differences);
        int n = differences.Length;
        if (n < 2) return null;
        double mean = Mean(differences);
        double ss = 0, maxAbs = 0;
        for (int i = 0; i < n; i++)
        {
            double r = differences[i] - mean;
            ss += r * r;
            maxAbs = Math.Max(maxAbs, Math.Abs(differences[i]));
        }
        double sd = Math.Sqrt(ss / (n - 1));
        if (sd <= 1e-12 * maxAbs) return mean == 0 ? 0 : null; // all differences (numerically) equal
        return mean / sd;
    }

    internal static double Mean(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum / values.Length;
    }

    /// <summary>Type-7 quantile of already sorted values: h = (m−1)·q, interpolate between floor(h) and floor(h)+1.</summary>
    internal static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        if (lo >= sorted.Length - 1) return sorted[^1];
        double frac = h - lo;
        return frac == 0 ? sorted[lo] : sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
    }

    private static void CheckDifferences(ReadOnlySpan<double> differences)
    {
        if (differences.IsEmpty) throw new MspgtException(Source, "no paired observations");
        CheckFinite(differences, "difference");
    }

    private static void CheckFinite(ReadOnlySpan<double> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new MspgtException(Source, $"{what} {i} is {values[i]}, not a finite number");
    }
}
