namespace Mspgt.Interventions.Statistics;

/// <summary>
/// Where a segment's effect stands among control effects (the same intervention applied to random segments of the
/// same size). All quantities compare magnitudes |effect|: the question is whether intervening on this segment moves
/// the outcome more than intervening on an arbitrary one, whatever the direction.
/// </summary>
/// <param name="Effect">The segment's effect as given (signed).</param>
/// <param name="Controls">Number of control effects k.</param>
/// <param name="ControlMeanMagnitude">mean_j |c_j|.</param>
/// <param name="Ratio">|effect| / mean_j |c_j|; null when every control effect is 0.</param>
/// <param name="Z">(|effect| − mean_j |c_j|) / sd_j |c_j| with the k−1 standard deviation; null when k &lt; 2 or the
/// control magnitudes have zero spread.</param>
/// <param name="Percentile">Mid-rank percentile of |effect| among the |c_j|, in [0, 1]:
/// (#{|c_j| &lt; |effect|} + ½·#{|c_j| = |effect|}) / k. 1 means larger than every control.</param>
/// <param name="ExceedanceP">(#{|c_j| ≥ |effect|} + 1) / (k + 1): a one-sided Monte Carlo p-value for "this
/// segment's effect is no larger than a random segment's"; its floor is 1/(k+1).</param>
public sealed record ControlComparison(double Effect, int Controls, double ControlMeanMagnitude, double? Ratio,
    double? Z, double Percentile, double ExceedanceP)
{
    /// <summary>Compares <paramref name="effect"/> with <paramref name="controlEffects"/> (at least one).</summary>
    public static ControlComparison Compare(double effect, ReadOnlySpan<double> controlEffects)
    {
        const string source = "control comparison";
        if (!double.IsFinite(effect)) throw new MspgtException(source, $"effect is {effect}, not a finite number");
        int k = controlEffects.Length;
        if (k == 0) throw new MspgtException(source, "no control effects");
        for (int j = 0; j < k; j++)
            if (!double.IsFinite(controlEffects[j]))
                throw new MspgtException(source, $"control effect {j} is {controlEffects[j]}, not a finite number");

        double e = Math.Abs(effect);
        double sum = 0, below = 0, ties = 0, atLeast = 0;
        foreach (double c in controlEffects)
        {
            double a = Math.Abs(c);
            sum += a;
            if (a < e) below++;
            else if (a == e) ties++;
            if (a >= e) atLeast++;
        }
        double mean = sum / k;
        double? z = null;
        if (k >= 2)
        {
            double ss = 0;
            foreach (double c in controlEffects) { double r = Math.Abs(c) - mean; ss += r * r; }
            double sd = Math.Sqrt(ss / (k - 1));
            if (sd > 1e-12 * Math.Max(mean, e)) z = (e - mean) / sd;
        }
        double? ratio = mean > 0 ? e / mean : null;
        return new ControlComparison(effect, k, mean, ratio, z, (below + 0.5 * ties) / k, (atLeast + 1.0) / (k + 1.0));
    }
}
