namespace Mspgt.Scales;

public enum SearchMethod
{
    /// <summary>Exact optimal segmentation (dynamic programming) with K forced or chosen by BIC.</summary>
    Dp,
    /// <summary>PELT with a penalty per boundary.</summary>
    Pelt,
}

/// <summary>Settings of <see cref="BoundaryDetector"/>.</summary>
public sealed record BoundaryOptions
{
    /// <summary>Force exactly this many boundaries (dp only); null: choose K by BIC over 0..<see cref="MaxK"/>.</summary>
    public int? ForcedK { get; init; }
    public SearchMethod Method { get; init; } = SearchMethod.Dp;
    /// <summary>PELT penalty per boundary; null: <see cref="PeltSearch.DefaultPenalty"/>.</summary>
    public double? Penalty { get; init; }
    public int MinSegmentLength { get; init; } = 1;
    /// <summary>Largest K that BIC considers.</summary>
    public int MaxK { get; init; } = 4;
    /// <summary>Fusion weights by signal name (see <see cref="SignalFusion.Weights"/>); null: equal weights.</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }
}

/// <summary>
/// Finds scale boundaries in a layer × signal matrix: standardise each signal across layers, weight, segment the
/// standardised signals jointly with the least-squares cost (dp or PELT), choose K by BIC, always add the forced
/// K = 2 fit and, given per-document matrices, bootstrap the K = 2 boundaries over documents.
/// <para>Weights enter twice: the fused score is Σ_s w_s·z_s (weights summing to 1), and signal s enters the
/// segmentation cost scaled by √(w_s·S₊) (S₊ = signals with w_s &gt; 0), so equal weights segment the plain z-scores
/// and a zero weight leaves the signal out.</para>
/// </summary>
public static class BoundaryDetector
{
    /// <summary>Fewest layers accepted.</summary>
    public const int MinLayers = 3;

    /// <summary>Detects boundaries in one layer × signal matrix (no bootstrap; <c>boundary_ci</c> is null).</summary>
    public static BoundaryReport Detect(IReadOnlyList<string> signals, double[,] layerBySignal, BoundaryOptions options, string source = "input")
    {
        CheckMatrix(signals, layerBySignal, source);
        CheckOptions(options, layerBySignal.GetLength(0), source);
        return DetectChecked(signals, layerBySignal, options);
    }

    /// <summary>
    /// Detects boundaries in the mean over documents of <paramref name="documents"/> (D × L × S) and bootstraps the
    /// forced K = 2 fit over documents (<paramref name="resamples"/> = 0: no bootstrap).
    /// </summary>
    public static BoundaryReport Detect(IReadOnlyList<string> signals, double[,,] documents, BoundaryOptions options,
        int resamples = BoundaryBootstrap.DefaultResamples, int seed = 0, string source = "input")
    {
        var mean = BoundaryBootstrap.MeanOverDocuments(documents, source);
        CheckMatrix(signals, mean, source);
        CheckOptions(options, mean.GetLength(0), source);
        var report = DetectChecked(signals, mean, options);
        if (resamples == 0) return report;
        var bootstrap = BoundaryBootstrap.Run(signals, documents, options, resamples, seed, source);
        return report with { BoundaryCi = bootstrap.BoundaryCi, Bootstrap = bootstrap };
    }

    private static BoundaryReport DetectChecked(IReadOnlyList<string> signals, double[,] layerBySignal, BoundaryOptions options)
    {
        var prepared = Prepare(signals, layerBySignal, options.Weights);
        int l = layerBySignal.GetLength(0), m = options.MinSegmentLength;
        var cost = new LeastSquaresCost(prepared.Segmentable);
        int tableK = Math.Max(Math.Max(options.MaxK, options.ForcedK ?? 0), 2);
        var dp = OptimalSegmentation.Fit(cost, tableK, m);
        var perK = BicSelection.Evaluate(cost, dp, options.MaxK);
        int kBic = BicSelection.Select(perK);
        SegmentationSummary? forcedK2 = dp.MaxChangePoints >= 2 ? SegmentationSummary.From(dp.Predict(2)) : null;

        Segmentation chosen;
        double? penalty = null;
        if (options.Method == SearchMethod.Pelt)
        {
            penalty = options.Penalty ?? PeltSearch.DefaultPenalty(prepared.Segmentable);
            chosen = PeltSearch.Fit(cost, penalty.Value, m);
        }
        else
        {
            chosen = dp.Predict(options.ForcedK ?? kBic);
        }

        return new BoundaryReport(
            NLayers: l,
            Signals: signals.ToArray(),
            Weights: prepared.Weights,
            Fused: prepared.Fused,
            Method: options.Method == SearchMethod.Pelt ? "pelt" : "dp",
            MinSegmentLength: m,
            Penalty: penalty,
            KForced: options.ForcedK.HasValue,
            KBic: kBic,
            KSelected: chosen.ChangePoints,
            Boundaries: chosen.Boundaries,
            BoundaryCi: null,
            DepthFractions: chosen.DepthFractions(),
            Segments: chosen.Segments(),
            Cost: chosen.Cost,
            PerK: perK,
            ForcedK2: forcedK2,
            Bootstrap: null);
    }

    /// <summary>Standardised signals, normalised weights, fused score and the weighted matrix that is segmented.</summary>
    internal sealed record Prepared(double[,] Standardized, double[] Weights, double[] Fused, double[,] Segmentable);

    internal static Prepared Prepare(IReadOnlyList<string> signals, double[,] layerBySignal, IReadOnlyDictionary<string, double>? weights)
    {
        var w = SignalFusion.Weights(signals, weights, "--weights");
        var z = SignalFusion.Standardize(layerBySignal);
        var fused = SignalFusion.Fuse(z, w);
        int l = z.GetLength(0);
        var used = Enumerable.Range(0, w.Length).Where(j => w[j] > 0).ToArray();
        var segmentable = new double[l, used.Length];
        for (int c = 0; c < used.Length; c++)
        {
            double scale = Math.Sqrt(w[used[c]] * used.Length);
            for (int i = 0; i < l; i++) segmentable[i, c] = z[i, used[c]] * scale;
        }
        return new Prepared(z, w, fused, segmentable);
    }

    internal static void CheckMatrix(IReadOnlyList<string> signals, double[,] layerBySignal, string source)
    {
        int l = layerBySignal.GetLength(0), s = layerBySignal.GetLength(1);
        if (s == 0 || signals.Count == 0) throw new MspgtException(source, "there are no signals");
        if (signals.Count != s) throw new MspgtException(source, $"{signals.Count} signal names for {s} signal columns");
        if (l < MinLayers) throw new MspgtException(source, $"need at least {MinLayers} layers, found {l}");
        for (int i = 0; i < l; i++)
            for (int j = 0; j < s; j++)
                if (!double.IsFinite(layerBySignal[i, j]))
                    throw new MspgtException(source, $"layer {i}, signal '{signals[j]}' is not a finite number ({layerBySignal[i, j]})");
    }

    internal static void CheckOptions(BoundaryOptions options, int nLayers, string source)
    {
        int m = options.MinSegmentLength;
        if (m < 1) throw new MspgtException("--min-size", $"must be >= 1, got {m}");
        int feasible = OptimalSegmentation.FeasibleMaxChangePoints(nLayers, m);
        if (feasible < 0) throw new MspgtException("--min-size", $"{nLayers} layers cannot hold a segment of {m} layers");
        if (options.MaxK < 0) throw new MspgtException("max K", $"must be >= 0, got {options.MaxK}");
        if (options.ForcedK is int k)
        {
            if (options.Method != SearchMethod.Dp)
                throw new MspgtException("--k", "forcing K needs --method dp (PELT chooses K through its penalty)");
            if (k < 0 || k > feasible)
                throw new MspgtException("--k", $"must be in 0..{feasible} for {nLayers} layers with minimum segment length {m}, got {k}");
        }
        if (options.Penalty is double p)
        {
            if (options.Method != SearchMethod.Pelt) throw new MspgtException("--penalty", "applies only to --method pelt");
            if (!double.IsFinite(p) || p < 0) throw new MspgtException("--penalty", $"must be a finite number >= 0, got {p}");
        }
    }
}
