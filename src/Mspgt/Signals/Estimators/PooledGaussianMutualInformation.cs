using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>Result of <see cref="PooledGaussianMutualInformation"/>.</summary>
/// <param name="Nats">Bias-corrected estimate on all pooled samples (can be slightly negative for independent sides).</param>
/// <param name="PseudoValues">Per group (document) d, the jackknife pseudo-value D·θ_all − (D−1)·θ_−d.</param>
/// <param name="Jackknife">The jackknife estimate: the mean of the pseudo-values.</param>
/// <param name="StandardError">Between-group jackknife standard error, √(Σ(θ_d − θ̄)² / (D(D−1))).</param>
/// <param name="PlugInNats">The uncorrected plug-in estimate on all samples, for reference.</param>
/// <param name="ComponentsX">Principal components of X used.</param>
/// <param name="ComponentsY">Principal components of Y used.</param>
/// <param name="Samples">Pooled samples n.</param>
public sealed record PooledMutualInformationResult(double Nats, double[] PseudoValues, double Jackknife, double StandardError,
    double PlugInNats, int ComponentsX, int ComponentsY, int Samples);

/// <summary>
/// I(X;Y) under a joint Gaussian model from samples pooled over groups (documents), with per-group jackknife
/// pseudo-values, in nats.
/// <para>
/// Each side is projected onto its top <see cref="Components"/> principal components fitted on the pooled samples;
/// the joint sample covariance S (n−1 divisor) of the 2-block scores gives
/// MI = ½(log det Sxx + log det Syy − log det S), where every log-determinant of a p-dimensional block is
/// bias-corrected by its exact expectation under Gaussian sampling: (n−1)S ~ Wishart(Σ, n−1), so
/// E[log det S] = log det Σ + Σ_{i=1}^{p} [ψ((n−i)/2) − ln((n−1)/2)] (Misra, Singh &amp; Demchuk 2005,
/// J. Multivariate Anal. 92, 324), and that sum is subtracted. No shrinkage: shrinkage multiplies every canonical
/// correlation by (1−λ), which at n ≈ 256 and 16+16 components pulls strong dependence far toward 0 and makes λ,
/// hence the value, depend on the tails of the token norms.
/// </para>
/// <para>
/// Jackknife: θ_−d is the same estimate (same principal directions) with group d's samples removed, computed by
/// downdating the pooled moments; θ_d = D·θ_all − (D−1)·θ_−d. The samples are assumed exchangeable for the bias
/// correction; tokens of one document are not independent, which the between-document spread of the pseudo-values
/// (unlike the Wishart formula) does account for.
/// </para>
/// </summary>
public sealed class PooledGaussianMutualInformation
{
    private const string Source = "pooled-gaussian-mi";

    /// <summary>Most principal components kept per side (default 16).</summary>
    public int Components { get; init; } = 16;

    /// <summary>
    /// Components per side that the groups allow: every leave-one-group-out sample of n' rows must have n' ≥ 2k + 2
    /// (a 2k-dimensional covariance needs n' − 1 ≥ 2k + 1 degrees of freedom to be non-singular with room to spare),
    /// so k = min(Components, ⌊(min_d n_−d − 2) / 2⌋); 0 when even one component per side does not fit.
    /// </summary>
    public int ComponentsFor(IReadOnlyList<int> groupSizes)
    {
        long n = groupSizes.Sum(g => (long)g);
        long minLeaveOut = n - groupSizes.Max();
        return (int)Math.Max(0, Math.Min(Components, (minLeaveOut - 2) / 2));
    }

    /// <summary>Fits the principal components on the pooled samples of each side, then estimates (see the class).</summary>
    /// <param name="x">Per group, its samples of X (rows).</param>
    /// <param name="y">Per group, the same samples of Y.</param>
    public PooledMutualInformationResult Estimate(IReadOnlyList<DenseMatrix> x, IReadOnlyList<DenseMatrix> y)
    {
        CheckGroups(x, y);
        if (Components < 1) throw new MspgtException(Source, $"components must be at least 1, got {Components}");
        int k = ComponentsFor(x.Select(g => g.Rows).ToArray());
        if (k < 1) throw new MspgtException(Source, $"{x.Sum(g => g.Rows)} samples in {x.Count} groups are too few: leaving out the largest group must leave at least 4");
        var px = PrincipalComponents.Fit(Stack(x), k, Source);
        var py = PrincipalComponents.Fit(Stack(y), k, Source);
        return EstimateFromScores(x.Select(g => px.Project(g, whiten: true)).ToList(), y.Select(g => py.Project(g, whiten: true)).ToList());
    }

    /// <summary>
    /// Same estimate from already-projected scores per group (e.g. a layer's pooled PCA reused for two blocks).
    /// Whitened scores keep the moments well scaled for the leave-one-group-out downdates.
    /// </summary>
    public PooledMutualInformationResult EstimateFromScores(IReadOnlyList<DenseMatrix> zx, IReadOnlyList<DenseMatrix> zy)
    {
        CheckGroups(zx, zy);
        int D = zx.Count, kx = zx[0].Cols, ky = zy[0].Cols, p = kx + ky;
        if (zx.Any(g => g.Cols != kx) || zy.Any(g => g.Cols != ky))
            throw new MspgtException(Source, "every group must have the same number of score columns");
        var groupN = new int[D];
        var sums = new double[D][];
        var moments = new DenseMatrix[D];
        for (int d = 0; d < D; d++)
        {
            var z = zx[d].ConcatColumns(zy[d]);
            LinearAlgebra.RequireFinite(z, Source);
            groupN[d] = z.Rows;
            sums[d] = LinearAlgebra.ColumnMeans(z).Select(m => m * z.Rows).ToArray();
            moments[d] = LinearAlgebra.FeatureGram(z);   // Σ z zᵀ, uncentered
        }
        int n = groupN.Sum();
        int minLeaveOut = n - groupN.Max();
        if (minLeaveOut < p + 2)
            throw new MspgtException(Source,
                $"leaving out the largest group keeps {minLeaveOut} samples, too few for {kx}+{ky} components (need {p + 2})");

        var totalSum = new double[p];
        var totalM = new DenseMatrix(p, p);
        for (int d = 0; d < D; d++)
        {
            for (int i = 0; i < p; i++) totalSum[i] += sums[d][i];
            for (int i = 0; i < totalM.Data.Length; i++) totalM.Data[i] += moments[d].Data[i];
        }
        var (all, plugIn) = Corrected(totalM, totalSum, n, kx, ky);
        var pseudo = new double[D];
        for (int d = 0; d < D; d++)
        {
            var m = totalM.Clone();
            for (int i = 0; i < m.Data.Length; i++) m.Data[i] -= moments[d].Data[i];
            var s = totalSum.Select((v, i) => v - sums[d][i]).ToArray();
            pseudo[d] = D * all - (D - 1) * Corrected(m, s, n - groupN[d], kx, ky).Nats;
        }
        double mean = pseudo.Average();
        double ss = pseudo.Sum(v => (v - mean) * (v - mean));
        return new PooledMutualInformationResult(all, pseudo, mean, Math.Sqrt(ss / ((double)D * (D - 1))), plugIn, kx, ky, n);
    }

    /// <summary>
    /// Σ_{i=1}^{p} [ψ((n−i)/2) − ln((n−1)/2)]: the expected excess of log det S over log det Σ for the sample
    /// covariance S (n−1 divisor) of n Gaussian samples in p dimensions (needs n &gt; p).
    /// </summary>
    public static double WishartLogDetBias(int p, int n)
    {
        if (p < 0 || n <= p) throw new MspgtException(Source, $"the Wishart correction needs n > p, got n = {n}, p = {p}");
        double b = 0, log = Math.Log((n - 1) / 2.0);
        for (int i = 1; i <= p; i++) b += Digamma.Of((n - i) / 2.0) - log;
        return b;
    }

    /// <summary>Bias-corrected and plug-in MI from uncentered moments M = Σ z zᵀ and sums s of n joint samples.</summary>
    private static (double Nats, double PlugIn) Corrected(DenseMatrix m, double[] s, int n, int kx, int ky)
    {
        int p = kx + ky;
        var cov = new DenseMatrix(p, p);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
                cov[i, j] = (m[i, j] - s[i] * s[j] / n) / (n - 1);
        var cx = new DenseMatrix(kx, kx);
        var cy = new DenseMatrix(ky, ky);
        for (int i = 0; i < kx; i++) for (int j = 0; j < kx; j++) cx[i, j] = cov[i, j];
        for (int i = 0; i < ky; i++) for (int j = 0; j < ky; j++) cy[i, j] = cov[kx + i, kx + j];
        double ldx = LinearAlgebra.LogDeterminant(cx, Source), ldy = LinearAlgebra.LogDeterminant(cy, Source);
        double ld = LinearAlgebra.LogDeterminant(cov, Source);
        double plugIn = 0.5 * (ldx + ldy - ld);
        double bias = 0.5 * (WishartLogDetBias(kx, n) + WishartLogDetBias(ky, n) - WishartLogDetBias(p, n));
        return (plugIn - bias, plugIn);
    }

    private static void CheckGroups(IReadOnlyList<DenseMatrix> x, IReadOnlyList<DenseMatrix> y)
    {
        if (x.Count != y.Count) throw new MspgtException(Source, $"{x.Count} groups of X but {y.Count} of Y");
        if (x.Count < 2) throw new MspgtException(Source, $"the jackknife needs at least 2 groups, got {x.Count}");
        for (int d = 0; d < x.Count; d++)
        {
            SampleChecks.RequirePaired(x[d], y[d], Source);
            if (x[d].Rows < 1) throw new MspgtException(Source, $"group {d} has no samples");
            if (x[d].Cols < 1 || y[d].Cols < 1) throw new MspgtException(Source, "samples have no features (0 columns)");
        }
    }

    private static DenseMatrix Stack(IReadOnlyList<DenseMatrix> groups)
    {
        var m = new DenseMatrix(groups.Sum(g => g.Rows), groups[0].Cols);
        int r = 0;
        foreach (var g in groups)
        {
            if (g.Cols != m.Cols) throw new MspgtException(Source, $"groups have {m.Cols} and {g.Cols} features");
            g.Data.CopyTo(m.Data, r * m.Cols);
            r += g.Rows;
        }
        return m;
    }
}
