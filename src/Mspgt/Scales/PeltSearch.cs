namespace Mspgt.Scales;

/// <summary>
/// PELT (Killick, Fearnhead &amp; Eckley 2012; "Pelt" in ruptures): the exact minimiser over all K of
/// cost(segmentation) + penalty·K with every segment at least minSegmentLength layers long, with pruning.
/// </summary>
public static class PeltSearch
{
    /// <summary>
    /// Minimises total cost + <paramref name="penalty"/> × (number of boundaries).
    /// Pruning: for least-squares costs (constant or linear fits per segment) C(a,c) ≥ C(a,b) + C(b,c), so once F(τ) + C(τ,t) &gt; F(t) the candidate τ
    /// can never again be the best last boundary — but only for ends t' ≥ t + minSegmentLength, where t itself
    /// is allowed as a boundary; τ is therefore dropped from t + minSegmentLength on, which keeps the search exact
    /// (ruptures' Pelt prunes at once and is only approximate when min_size &gt; 1).
    /// </summary>
    public static Segmentation Fit(ISegmentCost cost, double penalty, int minSegmentLength = 1)
    {
        ArgumentNullException.ThrowIfNull(cost);
        if (!double.IsFinite(penalty) || penalty < 0) throw new ArgumentOutOfRangeException(nameof(penalty), "must be a finite number >= 0");
        if (minSegmentLength < 1) throw new ArgumentOutOfRangeException(nameof(minSegmentLength), "must be >= 1");
        int n = cost.Length, m = minSegmentLength;
        if (n < m) throw new ArgumentException($"{n} layers cannot hold one segment of length {m}");

        var f = new double[n + 1];          // F(t): least penalised cost of layers [0, t), counting penalty per boundary
        var last = new int[n + 1];
        Array.Fill(f, double.PositiveInfinity);
        f[0] = -penalty;                    // so that the first segment carries no penalty
        // Candidates for the last boundary, in increasing order; dropFrom = first end at which it is pruned.
        var candidates = new List<(int Tau, int DropFrom)> { (0, int.MaxValue) };
        var values = new List<double>();

        for (int t = m; t <= n; t++)
        {
            candidates.RemoveAll(c => c.DropFrom <= t);
            double best = double.PositiveInfinity;
            int arg = -1;
            values.Clear();
            foreach (var (tau, _) in candidates)
            {
                if (t - tau < m) { values.Add(double.NaN); continue; }
                double v = f[tau] + cost.Cost(tau, t);
                values.Add(v);
                if (v + penalty < best) { best = v + penalty; arg = tau; }
            }
            f[t] = best;
            last[t] = arg;
            for (int i = 0; i < candidates.Count; i++)
            {
                var c = candidates[i];
                // The slack keeps rounding in the prefix-sum costs from pruning a candidate that ties.
                if (!double.IsNaN(values[i]) && c.DropFrom == int.MaxValue && values[i] > best + 1e-10 * (1 + Math.Abs(best)))
                    candidates[i] = (c.Tau, t + m);
            }
            if (t <= n - m) candidates.Add((t, int.MaxValue));
        }

        var boundaries = new List<int>();
        for (int t = last[n]; t > 0; t = last[t]) boundaries.Add(t);
        boundaries.Reverse();
        int[] result = boundaries.ToArray();
        return new Segmentation(n, result, cost.Total(result));
    }

    /// <summary>
    /// Default penalty, BIC-style: σ̂²·(S + 1)·ln L, because each extra boundary adds S segment means and one
    /// location, and with a known noise variance σ² the BIC penalty on a residual sum of squares is σ²·ln L per
    /// parameter. σ̂² is the mean over signals of a robust noise variance, (1.4826·MAD of first differences / √2)²,
    /// which the level shifts at the few boundaries hardly move. A noiseless (all-zero) estimate is floored at
    /// 1e-12 × the mean per-layer variance so that exact fits do not split for free.
    /// </summary>
    public static double DefaultPenalty(double[,] layerBySignal)
    {
        int l = layerBySignal.GetLength(0), s = layerBySignal.GetLength(1);
        if (l < 2 || s == 0) return 0;
        double noise = 0, variance = 0;
        var diffs = new double[l - 1];
        for (int j = 0; j < s; j++)
        {
            for (int i = 0; i + 1 < l; i++) diffs[i] = layerBySignal[i + 1, j] - layerBySignal[i, j];
            double sigma = 1.4826 * MedianAbsoluteDeviation(diffs) / Math.Sqrt(2);
            noise += sigma * sigma;
            double mean = 0;
            for (int i = 0; i < l; i++) mean += layerBySignal[i, j];
            mean /= l;
            for (int i = 0; i < l; i++) variance += (layerBySignal[i, j] - mean) * (layerBySignal[i, j] - mean) / l;
        }
        noise /= s;
        variance /= s;
        noise = Math.Max(noise, 1e-12 * variance);
        return noise * (s + 1) * Math.Log(l);
    }

    private static double MedianAbsoluteDeviation(double[] x)
    {
        double median = Median(x);
        return Median(x.Select(v => Math.Abs(v - median)).ToArray());
    }

    private static double Median(double[] x)
    {
        var sorted = (double[])x.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
