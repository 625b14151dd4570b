namespace Mspgt.Scales;

/// <summary>
/// Exact optimal segmentation by dynamic programming ("Dynp" in ruptures): for each number of change points
/// K = 0..MaxChangePoints, the boundaries that minimise the total cost (any <see cref="ISegmentCost"/>) with every segment at least
/// <see cref="MinSegmentLength"/> layers long. <see cref="Fit"/> fills the table once in O(K·L²·S);
/// <see cref="Predict"/> reads any K off it. Ties go to the earliest last boundary.
/// </summary>
public sealed class OptimalSegmentation
{
    private readonly ISegmentCost _cost;
    private readonly double[][] _best;  // _best[k][t]: least cost of layers [0, t) with k change points
    private readonly int[][] _last;     // _last[k][t]: the last boundary of that optimum

    public int MinSegmentLength { get; }
    /// <summary>The largest K that was requested and fits (K+1)·minSegmentLength ≤ L.</summary>
    public int MaxChangePoints { get; }
    public int NLayers => _cost.Length;

    private OptimalSegmentation(ISegmentCost cost, int maxChangePoints, int minSegmentLength)
    {
        _cost = cost;
        MinSegmentLength = minSegmentLength;
        MaxChangePoints = maxChangePoints;
        int n = cost.Length, m = minSegmentLength;
        _best = new double[maxChangePoints + 1][];
        _last = new int[maxChangePoints + 1][];
        for (int k = 0; k <= maxChangePoints; k++)
        {
            _best[k] = new double[n + 1];
            _last[k] = new int[n + 1];
            Array.Fill(_best[k], double.PositiveInfinity);
        }
        for (int t = m; t <= n; t++) _best[0][t] = cost.Cost(0, t);
        for (int k = 1; k <= maxChangePoints; k++)
        {
            double[] previous = _best[k - 1];
            for (int t = (k + 1) * m; t <= n; t++)
            {
                double best = double.PositiveInfinity;
                int arg = -1;
                for (int tau = k * m; tau <= t - m; tau++)
                {
                    double v = previous[tau] + cost.Cost(tau, t);
                    if (v < best) { best = v; arg = tau; }
                }
                _best[k][t] = best;
                _last[k][t] = arg;
            }
        }
    }

    /// <summary>
    /// Fills the table for K = 0..<paramref name="maxChangePoints"/>, capped at the largest K that fits
    /// (floor(L / minSegmentLength) − 1).
    /// </summary>
    public static OptimalSegmentation Fit(ISegmentCost cost, int maxChangePoints, int minSegmentLength = 1)
    {
        ArgumentNullException.ThrowIfNull(cost);
        if (minSegmentLength < 1) throw new ArgumentOutOfRangeException(nameof(minSegmentLength), "must be >= 1");
        if (maxChangePoints < 0) throw new ArgumentOutOfRangeException(nameof(maxChangePoints), "must be >= 0");
        int feasible = FeasibleMaxChangePoints(cost.Length, minSegmentLength);
        if (feasible < 0)
            throw new ArgumentException($"{cost.Length} layers cannot hold one segment of length {minSegmentLength}");
        return new OptimalSegmentation(cost, Math.Min(maxChangePoints, feasible), minSegmentLength);
    }

    /// <summary>The largest number of change points that L layers can hold with the given minimum segment length.</summary>
    public static int FeasibleMaxChangePoints(int nLayers, int minSegmentLength) => nLayers / minSegmentLength - 1;

    /// <summary>The optimal segmentation with exactly <paramref name="changePoints"/> boundaries.</summary>
    public Segmentation Predict(int changePoints)
    {
        if (changePoints < 0 || changePoints > MaxChangePoints)
            throw new ArgumentOutOfRangeException(nameof(changePoints), $"K must be in 0..{MaxChangePoints}");
        var boundaries = new int[changePoints];
        int t = NLayers;
        for (int k = changePoints; k >= 1; k--)
        {
            t = _last[k][t];
            boundaries[k - 1] = t;
        }
        return new Segmentation(NLayers, boundaries, _best[changePoints][NLayers]);
    }

    /// <summary>The optimal cost with exactly <paramref name="changePoints"/> boundaries.</summary>
    public double OptimalCost(int changePoints)
    {
        if (changePoints < 0 || changePoints > MaxChangePoints)
            throw new ArgumentOutOfRangeException(nameof(changePoints), $"K must be in 0..{MaxChangePoints}");
        return _best[changePoints][NLayers];
    }
}
