namespace Mspgt.Scales;

/// <summary>Settings of <see cref="BoundaryDetector"/>; names in brackets are the JSON / study-file names.</summary>
public sealed record BoundaryOptions
{
    /// <summary>Also report the best fit with exactly this many boundaries (besides K = 2, always reported).</summary>
    public int? ForcedK { get; init; }
    /// <summary>PELT penalty per boundary; null: the (1 − α) quantile of one boundary's improvement under the smooth null.</summary>
    public double? Penalty { get; init; }
    /// <summary>Fewest layers in a segment (min_size). With 2, a segment's line is never fitted to a single layer.</summary>
    public int MinSegmentLength { get; init; } = 2;
    /// <summary>Largest K tested (max_k), further capped by what the depth allows.</summary>
    public int MaxK { get; init; } = 4;
    /// <summary>Level of every test in the sequence (alpha).</summary>
    public double Alpha { get; init; } = 0.05;
    /// <summary>Parametric-bootstrap replicates per test (null_replicates).</summary>
    public int NullReplicates { get; init; } = 200;
    /// <summary>Cap on the smooth null's effective degrees of freedom per curve (null_max_edf).</summary>
    public double MaxEdf { get; init; } = WhittakerSmoother.DefaultMaxEdf;
    /// <summary>Document-bootstrap resamples for the intervals (bootstrap); 0 = none.</summary>
    public int Bootstrap { get; init; } = BoundaryBootstrap.DefaultResamples;
    public int Seed { get; init; }
    /// <summary>Weights by signal name (see <see cref="SignalFusion.Weights"/>); null: equal weight per family.</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }
    /// <summary>The signals that enter the model (null: all); the others are carried along but weigh 0.</summary>
    public IReadOnlyCollection<string>? Use { get; init; }
    /// <summary>Family of each signal (redundant signals share one); null or unlisted: a family of its own.</summary>
    public IReadOnlyDictionary<string, string>? Families { get; init; }
}

/// <summary>
/// Finds scale boundaries in per-layer signals and says how sure it is: signals standardised by their noise
/// (<see cref="SignalPanel"/>), weighted by family, segmented jointly with a line per signal and segment
/// (<see cref="LinearTrendCost"/>), K chosen by sequential tests against smooth nulls
/// (<see cref="CalibratedSelection"/>), intervals from a bootstrap over documents (<see cref="BoundaryBootstrap"/>),
/// and PELT with a null-calibrated penalty beside them for comparison.
/// </summary>
public static class BoundaryDetector
{
    /// <summary>Fewest layers accepted.</summary>
    public const int MinLayers = 3;

    /// <summary>Detects boundaries in per-document curves (D × L × S): noise from the documents, intervals from resampling them.</summary>
    public static BoundaryReport Detect(IReadOnlyList<string> signals, double[,,] documents, BoundaryOptions options, string source = "input")
        => Detect(SignalPanel.FromDocuments(signals, documents, source), options);

    /// <summary>Detects boundaries in one curve per signal (L × S): noise from each curve's second differences, no intervals.</summary>
    public static BoundaryReport Detect(IReadOnlyList<string> signals, double[,] layerBySignal, BoundaryOptions options, string source = "input")
        => Detect(SignalPanel.FromCurves(signals, layerBySignal, source), options);

    public static BoundaryReport Detect(SignalPanel panel, BoundaryOptions options)
    {
        int L = panel.Layers, m = options.MinSegmentLength;
        CheckOptions(options, L);
        if (options.Use is { } use)
            foreach (string name in use)
                if (!panel.Names.Contains(name)) throw new MspgtException(panel.Source, $"unknown signal '{name}'; known signals: {string.Join(", ", panel.Names)}");
        var excluded = Enumerable.Range(0, panel.Signals)
            .Where(s => panel.Noise[s] == NoiseSource.Constant || (options.Use is { } u && !u.Contains(panel.Names[s]))).ToArray();
        var weights = SignalFusion.Weights(panel.Names, options.Weights, panel.Source, options.Families, excluded);
        int kMax = Math.Min(options.MaxK, OptimalSegmentation.FeasibleMaxChangePoints(L, m));

        // K = 2 is always reported; a depth too shallow for three segments of m layers gets them of 1 layer.
        int m2 = OptimalSegmentation.FeasibleMaxChangePoints(L, m) >= 2 ? m : 1;
        var forced = new List<(int K, int MinSize)> { (2, m2) };
        if (options.ForcedK is int fk && fk != 2) forced.Add((fk, m));
        var selection = CalibratedSelection.Run(panel, weights, options, kMax, forced);
        int k = selection.KSelected;

        IReadOnlyList<BoundaryDistribution>? boot = null;
        var bootFits = new List<(int K, int MinSize)>(forced);
        if (k >= 1) bootFits.Add((k, m));
        if (panel.Documents >= 2 && options.Bootstrap > 0)
            boot = BoundaryBootstrap.Run(panel, weights, bootFits, options.Bootstrap, options.Seed);
        BoundaryDistribution? Dist(int index) => boot?[index];

        var z = panel.Standardized();
        var cost = new LinearTrendCost(L, panel.Signals, z, weights);
        var selectedSeg = OptimalSegmentation.Fit(cost, Math.Max(k, 0), m).Predict(k);
        var forcedK2 = Summary(L, selection.Forced[0], Dist(0));
        FitSummary? userForced = forced.Count > 1 ? Summary(L, selection.Forced[1], Dist(1)) : null;
        int[][]? selectedCi = boot is null ? null : k == 0 ? [] : Dist(bootFits.Count - 1)!.Interval;

        double penalty = options.Penalty ?? selection.PeltPenalty;
        var pelt = PeltSearch.Fit(cost, penalty, m);

        var display = SignalFusion.Standardize(MeanMatrix(panel));
        var fused = SignalFusion.Fuse(display, weights);
        string[] families = panel.Names.Select(n => options.Families is not null && options.Families.TryGetValue(n, out var f) ? f : n).ToArray();
        string resampling = panel.Documents >= 2
            ? "whole-document residual vectors resampled with replacement, scaled by √(D/(D−1)), standard errors re-estimated per replicate"
            : "Gaussian noise at each curve's difference-based level, re-estimated per replicate";
        var nullSummary = new NullSummary(
            "step 0: every signal a smooth curve (Whittaker smoother, τ by GCV within the degrees-of-freedom cap) against any K ≥ 1 (min-p over K); " +
            "step j: j boundaries with smooth segments against j + 1 boundaries",
            resampling, options.NullReplicates, options.Seed, options.Alpha, options.MaxEdf,
            selection.SmoothFits.Select((f, s) => weights[s] > 0 ? (double?)f.Edf : null).ToArray());

        return new BoundaryReport(
            NLayers: L,
            NDocuments: panel.Documents,
            Signals: panel.Names,
            Families: families,
            Weights: weights,
            NoiseSd: panel.NoiseSd,
            NoiseSource: panel.Noise.Select(n => n.ToString().ToLowerInvariant()).ToArray(),
            Fused: fused,
            MinSegmentLength: m,
            KMax: kMax,
            KSelected: k,
            Boundaries: selectedSeg.Boundaries,
            BoundaryCi: selectedCi,
            DepthFractions: selectedSeg.DepthFractions(),
            Segments: selectedSeg.Segments(),
            KTests: selection.Tests,
            PerK: selection.PerK,
            ForcedK2: forcedK2,
            Forced: userForced,
            Pelt: new PeltSummary(penalty, options.Penalty is null ? $"(1 − α) quantile of one boundary's improvement over a line under the smooth null ({options.NullReplicates} replicates)" : "given", pelt.Boundaries),
            Null: nullSummary,
            Bootstrap: boot is null ? null : new BootstrapSettings(options.Bootstrap, options.Seed, panel.Documents, BoundaryBootstrap.Confidence));
    }

    private static FitSummary Summary(int layers, KFitTest fit, BoundaryDistribution? dist) => new(
        fit.K, fit.MinSegmentLength, fit.Boundaries, dist?.Interval,
        Segmentation.DepthFractionsOf(fit.Boundaries, layers), Segmentation.SegmentsOf(fit.Boundaries, layers), fit.Cost,
        fit.StatisticVsSmooth, fit.PValueVsSmooth, dist?.Mode, dist?.Counts, dist?.Draws);

    private static double[,] MeanMatrix(SignalPanel p)
    {
        var m = new double[p.Layers, p.Signals];
        for (int l = 0; l < p.Layers; l++)
            for (int s = 0; s < p.Signals; s++) m[l, s] = p.Mean[l * p.Signals + s];
        return m;
    }

    internal static void CheckOptions(BoundaryOptions options, int nLayers)
    {
        int m = options.MinSegmentLength;
        if (m < 1) throw MspgtException.ForSetting("min_size", $"must be >= 1, got {m}");
        int feasible = OptimalSegmentation.FeasibleMaxChangePoints(nLayers, m);
        if (feasible < 0) throw MspgtException.ForSetting("min_size", $"{nLayers} layers cannot hold a segment of {m} layers");
        if (options.MaxK < 0) throw MspgtException.ForSetting("max_k", $"must be >= 0, got {options.MaxK}");
        if (!(options.Alpha > 0 && options.Alpha < 1)) throw MspgtException.ForSetting("alpha", $"must lie strictly between 0 and 1, got {options.Alpha}");
        if (options.NullReplicates < 19) throw MspgtException.ForSetting("null_replicates", $"must be >= 19 (so that a p-value can reach 0.05), got {options.NullReplicates}");
        if (!(options.MaxEdf >= 2) || !double.IsFinite(options.MaxEdf)) throw MspgtException.ForSetting("null_max_edf", $"must be a finite number >= 2 (a line), got {options.MaxEdf}");
        if (options.Bootstrap < 0) throw MspgtException.ForSetting("bootstrap", $"must be >= 0, got {options.Bootstrap}");
        if (options.ForcedK is int k && (k < 1 || k > feasible))
            throw MspgtException.ForSetting("k", $"must be in 1..{feasible} for {nLayers} layers with minimum segment length {m}, got {k}");
        if (options.Penalty is double p && (!double.IsFinite(p) || p < 0))
            throw MspgtException.ForSetting("penalty", $"must be a finite number >= 0, got {p}");
    }
}
