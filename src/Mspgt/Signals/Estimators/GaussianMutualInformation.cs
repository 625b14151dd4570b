using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>Result of <see cref="GaussianMutualInformation.Estimate"/>.</summary>
/// <param name="Nats">Estimated I(X;Y) in nats (≥ 0).</param>
/// <param name="ComponentsX">Principal components of X used (≤ the requested number; fewer if rank-limited).</param>
/// <param name="ComponentsY">Principal components of Y used.</param>
/// <param name="Shrinkage">Weight λ on the identity target that was applied (0 = plain sample covariance).</param>
/// <param name="Samples">Number of paired samples.</param>
public sealed record GaussianMutualInformationResult(double Nats, int ComponentsX, int ComponentsY, double Shrinkage, int Samples);

/// <summary>
/// Mutual information I(X;Y) between two representations of the same n samples under a joint Gaussian model, in nats.
/// <para>
/// Each side is projected onto its top <see cref="Components"/> principal components (default 16) and whitened
/// (unit variance, uncorrelated). The joint covariance Σ of the 2-block whitened scores is then shrunk toward the
/// scaled identity, Σ* = (1−λ)Σ + λ·(tr Σ / p)·I, with λ from Ledoit &amp; Wolf (2004) unless
/// <see cref="Shrinkage"/> fixes it, and MI = ½(log det Σ*ₓₓ + log det Σ*ᵧᵧ − log det Σ*).
/// </para>
/// <para>
/// Because both sides are whitened, the result is invariant to any invertible linear map of X or of Y when all
/// their dimensions are kept (d ≤ Components), and to rotations and isotropic scaling otherwise. Shrinkage only
/// scales the cross-correlations by (1−λ). Caveats: the plug-in estimate (λ = 0) is biased upward by roughly
/// kx·ky/(2n) nats; Ledoit–Wolf removes most of that for independent data but biases strongly dependent data
/// slightly downward (λ shrinks every canonical correlation). Compare values computed with the same n and k.
/// </para>
/// <para>
/// analyze no longer uses this estimator: at n ≈ 256 with 16+16 components the Ledoit–Wolf weight is large enough
/// to halve strong dependence (ρ = 0.9: 6.8 of 13.3 nats) and grows with the tails of the token norms, so the value
/// tracks tail weight. mi_gaussian uses <see cref="PooledGaussianMutualInformation"/> (pooled, Wishart-corrected).
/// </para>
/// </summary>
public sealed class GaussianMutualInformation
{
    /// <summary>Principal components kept per side (default 16).</summary>
    public int Components { get; init; } = 16;

    /// <summary>Fixed shrinkage weight λ in [0, 1]; null (default) = Ledoit–Wolf optimal weight.</summary>
    public double? Shrinkage { get; init; }

    /// <summary>Estimates I(X;Y) from paired samples (rows of X and Y are the same samples).</summary>
    public GaussianMutualInformationResult Estimate(DenseMatrix x, DenseMatrix y)
    {
        const string source = "gaussian-mi";
        SampleChecks.RequirePaired(x, y, source);
        SampleChecks.Require(x, source, 3);
        SampleChecks.Require(y, source, 3);
        if (Components < 1) throw new MspgtException(source, $"components must be at least 1, got {Components}");
        var zx = PrincipalComponents.Fit(x, Components, source).Project(x, whiten: true);
        var zy = PrincipalComponents.Fit(y, Components, source).Project(y, whiten: true);
        return EstimateFromScores(zx, zy);
    }

    /// <summary>
    /// Same estimate from already-reduced scores (e.g. cached whitened principal-component scores of each layer), so
    /// a layer's PCA can be reused across pairs. The scores need not be whitened: the joint covariance is formed from
    /// them as given. Shrinkage toward the identity assumes comparable column scales, so pass whitened scores.
    /// </summary>
    public GaussianMutualInformationResult EstimateFromScores(DenseMatrix zx, DenseMatrix zy)
    {
        const string source = "gaussian-mi";
        SampleChecks.RequirePaired(zx, zy, source);
        SampleChecks.Require(zx, source, 3);
        SampleChecks.Require(zy, source, 3);
        if (Shrinkage is { } s && !(s >= 0 && s <= 1))
            throw new MspgtException(source, $"shrinkage must lie in [0, 1], got {s}");
        int n = zx.Rows, kx = zx.Cols, ky = zy.Cols, p = kx + ky;
        if (n < p + 2)
            throw new MspgtException(source,
                $"{n} samples are too few for {kx}+{ky} components (need at least {p + 2}); use fewer components or more samples");

        var z = LinearAlgebra.Center(zx.ConcatColumns(zy));
        var scatter = LinearAlgebra.FeatureGram(z);   // Σ z zᵀ
        double lambda = Shrinkage ?? LedoitWolfWeight(z, scatter);

        var cov = scatter;
        double mu = 0;
        for (int i = 0; i < p; i++) mu += cov[i, i];
        mu /= p;
        for (int k = 0; k < cov.Data.Length; k++) cov.Data[k] *= (1 - lambda) / (n - 1);
        for (int i = 0; i < p; i++) cov[i, i] += lambda * mu / (n - 1);

        var cx = new DenseMatrix(kx, kx);
        var cy = new DenseMatrix(ky, ky);
        for (int i = 0; i < kx; i++) for (int j = 0; j < kx; j++) cx[i, j] = cov[i, j];
        for (int i = 0; i < ky; i++) for (int j = 0; j < ky; j++) cy[i, j] = cov[kx + i, kx + j];
        double mi = 0.5 * (LinearAlgebra.LogDeterminant(cx, source) + LinearAlgebra.LogDeterminant(cy, source)
                           - LinearAlgebra.LogDeterminant(cov, source));
        // log det Σ ≤ log det Σxx + log det Σyy for any positive-definite Σ (Fischer); round-off can cross 0.
        return new GaussianMutualInformationResult(Math.Max(0, mi), kx, ky, lambda, n);
    }

    /// <summary>
    /// Ledoit–Wolf (2004) weight on the target μI for centered samples z (rows) with scatter Σ z zᵀ:
    /// S = scatter/n, δ² = ‖S − μI‖², β̄² = (1/n²) Σᵢ ‖zᵢzᵢᵀ − S‖² = (Σᵢ‖zᵢ‖⁴ − n‖S‖²)/n², λ = min(β̄², δ²)/δ².
    /// </summary>
    internal static double LedoitWolfWeight(DenseMatrix z, DenseMatrix scatter)
    {
        int n = z.Rows, p = z.Cols;
        double mu = 0;
        for (int i = 0; i < p; i++) mu += scatter[i, i] / n;
        mu /= p;
        double delta2 = 0, sNorm2 = 0;
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
            {
                double sij = scatter[i, j] / n;
                sNorm2 += sij * sij;
                double t = sij - (i == j ? mu : 0);
                delta2 += t * t;
            }
        double fourth = 0;
        for (int r = 0; r < n; r++)
        {
            double sq = 0;
            foreach (double v in z.Row(r)) sq += v * v;
            fourth += sq * sq;
        }
        double beta2 = Math.Max(0, (fourth - n * sNorm2) / ((double)n * n));
        if (delta2 <= 0) return 1;
        return Math.Min(beta2, delta2) / delta2;
    }
}
