using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>
/// Effective rank (Roy &amp; Vetterli 2007) of a representation: exp(H) where H = −Σ pᵢ ln pᵢ is the Shannon entropy
/// (nats) of the normalised singular values pᵢ = σᵢ / Σσⱼ of the column-centered n × d sample matrix.
/// Dimensionless, between 1 and min(n−1, d); equals k exactly for k equal singular values.
/// Singular values come from the eigenvalues of the smaller of XcᵀXc and Xc Xcᵀ; eigenvalues below
/// max(n, d)·ε·λ_max (round-off level) count as zero.
/// </summary>
public static class EffectiveRank
{
    /// <summary>Fewest samples accepted: 2 (one centred sample has no spread).</summary>
    public const int MinimumSamples = 2;

    /// <summary>The effective rank of X (n samples × d features), n ≥ 2.</summary>
    public static double Compute(DenseMatrix x)
    {
        const string source = "effective-rank";
        SampleChecks.Require(x, source, MinimumSamples);
        return Compute(CenteredGram.Of(x, source));
    }

    /// <summary>The effective rank from a prepared Gram matrix (its eigenvalues are the squared singular values).</summary>
    public static double Compute(CenteredGram g) =>
        FromSquaredSingularValues(g.Eigenvalues, Math.Max(g.Rows, g.Cols), "effective-rank");

    internal static double FromSquaredSingularValues(double[] squared, int size, string source)
    {
        double max = squared.Length == 0 ? 0 : squared.Max();
        if (!(max > 0)) throw new MspgtException(source, "representation has zero variance (all samples identical)");
        double floor = max * size * 2.220446049250313e-16;
        var sigma = squared.Select(v => v > floor ? Math.Sqrt(v) : 0).ToArray();
        double total = sigma.Sum();
        double h = 0;
        foreach (double s in sigma)
        {
            if (s <= 0) continue;
            double p = s / total;
            h -= p * Math.Log(p);
        }
        return Math.Exp(h);
    }
}
