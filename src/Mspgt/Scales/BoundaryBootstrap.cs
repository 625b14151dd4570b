namespace Mspgt.Scales;

/// <summary>
/// Nonparametric bootstrap over documents of the forced K = 2 boundaries. Each resample draws D documents with
/// replacement (System.Random seeded with the seed, drawn in order before any work), averages their layer × signal
/// matrices, standardises and weights as <see cref="BoundaryDetector"/> does, and records the exact K = 2 optimum
/// and the BIC-selected K. Resamples may run in parallel, but each writes only its own slot and all summaries are
/// computed afterwards in resample order, so the result depends only on the data, the options and the seed.
/// <para>Percentile interval of an integer boundary at confidence c: lo = the smallest layer whose empirical CDF
/// reaches (1−c)/2, hi = the smallest layer whose CDF reaches 1 − (1−c)/2 (the inverted-CDF percentile).</para>
/// </summary>
public static class BoundaryBootstrap
{
    public const int DefaultResamples = 200;
    public const double Confidence = 0.95;

    public static BootstrapSummary Run(IReadOnlyList<string> signals, double[,,] documents, BoundaryOptions options,
        int resamples = DefaultResamples, int seed = 0, string source = "input")
    {
        if (resamples < 1) throw new MspgtException("--bootstrap", $"needs at least 1 resample, got {resamples}");
        var full = MeanOverDocuments(documents, source);
        BoundaryDetector.CheckMatrix(signals, full, source);
        int d = documents.GetLength(0), l = documents.GetLength(1), s = documents.GetLength(2);
        int m = options.MinSegmentLength;
        if (m < 1) throw new MspgtException("--min-size", $"must be >= 1, got {m}");
        if (OptimalSegmentation.FeasibleMaxChangePoints(l, m) < 2)
            throw new MspgtException("--bootstrap", $"{l} layers cannot hold 3 segments of at least {m} layers");
        if (options.MaxK < 0) throw new MspgtException("max K", $"must be >= 0, got {options.MaxK}");
        _ = SignalFusion.Weights(signals, options.Weights, "--weights"); // reject bad weights before the work

        var rng = new Random(seed);
        var draws = new int[resamples][];
        for (int r = 0; r < resamples; r++)
        {
            draws[r] = new int[d];
            for (int i = 0; i < d; i++) draws[r][i] = rng.Next(d);
        }

        var b1 = new int[resamples];
        var b2 = new int[resamples];
        var kSel = new int[resamples];
        Parallel.For(0, resamples, r =>
        {
            var mean = new double[l, s];
            foreach (int doc in draws[r])
                for (int i = 0; i < l; i++)
                    for (int j = 0; j < s; j++)
                        mean[i, j] += documents[doc, i, j];
            for (int i = 0; i < l; i++)
                for (int j = 0; j < s; j++)
                    mean[i, j] /= d;
            var prepared = BoundaryDetector.Prepare(signals, mean, options.Weights);
            var cost = new LeastSquaresCost(prepared.Segmentable);
            var dp = OptimalSegmentation.Fit(cost, Math.Max(options.MaxK, 2), m);
            var k2 = dp.Predict(2);
            b1[r] = k2.Boundaries[0];
            b2[r] = k2.Boundaries[1];
            kSel[r] = BicSelection.Select(BicSelection.Evaluate(cost, dp, options.MaxK));
        });

        int kTop = Math.Min(options.MaxK, OptimalSegmentation.FeasibleMaxChangePoints(l, m));
        var kCounts = new int[kTop + 1];
        foreach (int k in kSel) kCounts[k]++;
        var counts = new[] { Histogram(b1, l), Histogram(b2, l) };
        var modes = counts.Select(Mode).ToArray();
        var intervals = counts.Select(c => PercentileInterval(c, Confidence)).ToArray();
        return new BootstrapSummary(
            Resamples: resamples, Seed: seed, Documents: d, Confidence: Confidence,
            BoundaryMode: modes,
            BoundaryCi: intervals,
            ModeDepthFractions: modes.Select(b => (double)b / l).ToArray(),
            BoundaryCounts: counts,
            KCounts: kCounts);
    }

    /// <summary>Mean over documents of a D × L × S array; throws for no documents or a non-finite value.</summary>
    public static double[,] MeanOverDocuments(double[,,] documents, string source = "input")
    {
        int d = documents.GetLength(0), l = documents.GetLength(1), s = documents.GetLength(2);
        if (d == 0) throw new MspgtException(source, "there are no documents");
        var mean = new double[l, s];
        for (int doc = 0; doc < d; doc++)
            for (int i = 0; i < l; i++)
                for (int j = 0; j < s; j++)
                {
                    double v = documents[doc, i, j];
                    if (!double.IsFinite(v)) throw new MspgtException(source, $"document {doc}, layer {i}, signal {j} is not a finite number ({v})");
                    mean[i, j] += v;
                }
        for (int i = 0; i < l; i++)
            for (int j = 0; j < s; j++)
                mean[i, j] /= d;
        return mean;
    }

    private static int[] Histogram(int[] values, int nLayers)
    {
        var h = new int[nLayers];
        foreach (int v in values) h[v]++;
        return h;
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
