namespace Mspgt.Scales;

/// <summary>
/// Signal weights for the boundary model, and the fused score shown in plots: the weighted mean of each signal's
/// curve z-scored across layers. That z-scoring is for display only; the boundary model standardises by the
/// noise (<see cref="SignalPanel"/>), because z-scoring across layers turns any trend into unit-size steps.
/// A matrix is always layer × signal: <c>values[layer, signal]</c>.
/// </summary>
public static class SignalFusion
{
    /// <summary>
    /// Relative size below which a curve's spread counts as rounding noise: a curve whose population standard
    /// deviation is at most this times its largest absolute value is treated as constant.
    /// </summary>
    public const double ConstantTolerance = 1e-12;

    /// <summary>
    /// Z-scores one curve across layers: (x − mean) / sd with the population sd (divide by L).
    /// A constant curve (see <see cref="ConstantTolerance"/>) gives all zeros, never NaN.
    /// </summary>
    public static double[] ZScore(ReadOnlySpan<double> curve)
    {
        int n = curve.Length;
        var z = new double[n];
        if (n == 0) return z;
        double mean = 0, maxAbs = 0;
        for (int i = 0; i < n; i++) { mean += curve[i]; maxAbs = Math.Max(maxAbs, Math.Abs(curve[i])); }
        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) { double d = curve[i] - mean; ss += d * d; }
        double sd = Math.Sqrt(ss / n);
        // Exactly-equal values can still give sd ~ 1e-17 after the mean's rounding; those must not blow up to ±1.
        if (sd == 0 || sd <= ConstantTolerance * maxAbs) return z;
        for (int i = 0; i < n; i++) z[i] = (curve[i] - mean) / sd;
        return z;
    }

    /// <summary>Z-scores every signal (column) of a layer × signal matrix across layers; see <see cref="ZScore(ReadOnlySpan{double})"/>.</summary>
    public static double[,] Standardize(double[,] layerBySignal)
    {
        int l = layerBySignal.GetLength(0), s = layerBySignal.GetLength(1);
        var result = new double[l, s];
        var column = new double[l];
        for (int j = 0; j < s; j++)
        {
            for (int i = 0; i < l; i++) column[i] = layerBySignal[i, j];
            var z = ZScore(column);
            for (int i = 0; i < l; i++) result[i, j] = z[i];
        }
        return result;
    }

    /// <summary>True when the signal's curve is constant across layers (its z-scores are all zero).</summary>
    public static bool IsConstantColumn(double[,] standardized, int signal)
    {
        for (int i = 0; i < standardized.GetLength(0); i++)
            if (standardized[i, signal] != 0) return false;
        return true;
    }

    /// <summary>
    /// Weights, one per signal, normalised to sum to 1. With <paramref name="weights"/> (the user's choice, like α, β,
    /// γ in the paper's S(l) = α·S_probe + β·S_attn + γ·S_MI) a signal it does not name gets weight 0. Without it,
    /// every family of redundant signals (<paramref name="families"/>: signal → family; a signal not listed is a
    /// family of its own) gets the same total weight, shared equally by its members: two estimates of one quantity
    /// (attention distance and entropy, MI and CKA, effective rank and TwoNN, the three probes) count as one piece of
    /// evidence, not two. Signals in <paramref name="excluded"/> (e.g. constant ones) always get 0. A name that is
    /// not a signal, a negative or non-finite weight, or all weights zero is an error of the <c>weights</c> setting; no
    /// signals, or only constant ones, an error of the data <paramref name="source"/>.
    /// </summary>
    public static double[] Weights(IReadOnlyList<string> signals, IReadOnlyDictionary<string, double>? weights, string source = "signals",
        IReadOnlyDictionary<string, string>? families = null, IReadOnlyCollection<int>? excluded = null)
    {
        if (signals.Count == 0) throw new MspgtException(source, "there are no signals");
        var w = new double[signals.Count];
        bool Out(int j) => excluded is not null && excluded.Contains(j);
        if (weights is null || weights.Count == 0)
        {
            string FamilyOf(int j) => families is not null && families.TryGetValue(signals[j], out var f) ? f : "signal:" + signals[j];
            var members = Enumerable.Range(0, signals.Count).Where(j => !Out(j)).GroupBy(FamilyOf).ToList();
            if (members.Count == 0) throw new MspgtException(source, "every signal is constant: nothing to segment");
            foreach (var g in members)
                foreach (int j in g) w[j] = 1.0 / (members.Count * g.Count());
            return w;
        }
        foreach (var (name, value) in weights)
        {
            int index = -1;
            for (int j = 0; j < signals.Count; j++)
                if (string.Equals(signals[j], name, StringComparison.Ordinal)) { index = j; break; }
            if (index < 0)
                throw MspgtException.ForSetting("weights", $"unknown signal '{name}'; known signals: {string.Join(", ", signals)}");
            if (!double.IsFinite(value) || value < 0)
                throw MspgtException.ForSetting("weights", $"weight of '{name}' must be a finite number >= 0, got {value}");
            w[index] = Out(index) ? 0 : value;
        }
        double sum = w.Sum();
        if (sum <= 0) throw MspgtException.ForSetting("weights", "all weights are zero (or fall on constant signals)");
        for (int j = 0; j < w.Length; j++) w[j] /= sum;
        return w;
    }

    /// <summary>Fused score per layer: Σ_s w_s·z[l, s] with weights summing to 1 (a weighted mean of the standardised signals).</summary>
    public static double[] Fuse(double[,] standardized, ReadOnlySpan<double> weights)
    {
        int l = standardized.GetLength(0), s = standardized.GetLength(1);
        if (weights.Length != s) throw new ArgumentException($"expected {s} weights, got {weights.Length}");
        var fused = new double[l];
        for (int i = 0; i < l; i++)
        {
            double acc = 0;
            for (int j = 0; j < s; j++) acc += weights[j] * standardized[i, j];
            fused[i] = acc;
        }
        return fused;
    }
}
