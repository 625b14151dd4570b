using System.Text.Json.Serialization;

namespace Mspgt.Scales;

/// <summary>The optimal fit with exactly K boundaries and its BIC.</summary>
public sealed record KFit(
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("cost")] double Cost,
    [property: JsonPropertyName("bic")] double Bic,
    [property: JsonPropertyName("boundaries")] int[] Boundaries);

/// <summary>
/// Chooses the number of boundaries K by the Bayesian information criterion over the exact optimal fits.
/// <para>Model for K boundaries on L layers and S' non-constant signals: within each segment signal s is Gaussian
/// around the segment's own mean with a per-signal variance σ_s² shared by all segments. The variance is estimated
/// from the residuals, σ̂_s² = RSS_s / L (maximum likelihood), floored at 1e-12 × TSS_s / L so that an exact fit
/// does not give ln 0. Then</para>
/// <para>BIC(K) = Σ_s [ L·ln(2π·σ̂_s²) + L ] + p(K)·ln L,   p(K) = K (locations) + S'·(K+1) (segment means) + S' (variances).</para>
/// <para>Constant signals (TSS = 0) carry no information about boundaries and are left out of S'. The boundaries are
/// those minimising the summed least-squares cost (the equal-variance fit), a standard approximation to the exact
/// per-signal-variance maximum likelihood. The smallest BIC wins; ties go to the smaller K.</para>
/// </summary>
public static class BicSelection
{
    /// <summary>The optimal fit and BIC for every K the table holds (0..dp.MaxChangePoints).</summary>
    public static KFit[] Evaluate(LeastSquaresCost cost, OptimalSegmentation dp, int maxK)
    {
        int top = Math.Min(maxK, dp.MaxChangePoints);
        var fits = new KFit[top + 1];
        for (int k = 0; k <= top; k++)
        {
            var seg = dp.Predict(k);
            fits[k] = new KFit(k, seg.Cost, Bic(cost, seg.Boundaries), seg.Boundaries);
        }
        return fits;
    }

    /// <summary>BIC of the segmentation given by <paramref name="boundaries"/>; formula in the class summary.</summary>
    public static double Bic(LeastSquaresCost cost, IReadOnlyList<int> boundaries)
    {
        int l = cost.Length, k = boundaries.Count;
        int used = 0;
        double logLikelihoodTerm = 0;
        for (int s = 0; s < cost.Signals; s++)
        {
            double tss = cost.SignalCost(s, 0, l);
            if (tss <= 0) continue;
            used++;
            double rss = cost.SignalTotal(s, boundaries);
            double variance = Math.Max(rss / l, 1e-12 * tss / l);
            logLikelihoodTerm += l * Math.Log(2 * Math.PI * variance) + l;
        }
        int parameters = k + used * (k + 1) + used;
        return logLikelihoodTerm + parameters * Math.Log(l);
    }

    /// <summary>The K with the smallest BIC (ties to the smaller K).</summary>
    public static int Select(IReadOnlyList<KFit> fits)
    {
        if (fits.Count == 0) throw new ArgumentException("no fits to select from");
        int best = 0;
        for (int i = 1; i < fits.Count; i++)
            if (fits[i].Bic < fits[best].Bic) best = i;
        return fits[best].K;
    }
}
