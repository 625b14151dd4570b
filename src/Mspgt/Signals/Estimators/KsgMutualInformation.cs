using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>Result of <see cref="KsgMutualInformation.Estimate"/>.</summary>
/// <param name="Nats">Estimated I(X;Y) in nats (can be slightly negative when X and Y are independent).</param>
/// <param name="Samples">Samples actually used (after the seeded subsample).</param>
/// <param name="ComponentsX">Dimensions of X used (whitened principal components).</param>
/// <param name="ComponentsY">Dimensions of Y used.</param>
/// <param name="Ceiling">ψ(N) − ψ(k) − 1/k: the largest value the estimator can return with N samples
/// (see <see cref="KsgMutualInformation.Ceiling"/>).</param>
/// <param name="Saturated">Whether the estimate is within <see cref="KsgMutualInformation.SaturationMargin"/> of the
/// ceiling: it is then limited by N rather than by the dependence, and is only a lower bound on I(X;Y).</param>
public sealed record KsgMutualInformationResult(double Nats, int Samples, int ComponentsX, int ComponentsY,
    double Ceiling, bool Saturated);

/// <summary>
/// Kraskov–Stögbauer–Grassberger mutual information estimator, algorithm 1 (Phys. Rev. E 69, 066138, 2004), in nats:
/// I = ψ(k) + ψ(N) − ⟨ψ(nₓ+1) + ψ(n_y+1)⟩, where εᵢ is the max-norm distance from sample i to its k-th nearest
/// neighbour in the joint space and nₓ, n_y count the other samples strictly closer than εᵢ in each marginal space.
/// <para>
/// Each side is first reduced to its top <see cref="Components"/> whitened principal components (all of its
/// dimensions, whitened, when it has no more than that), because nearest-neighbour estimators degrade quickly with
/// dimension: the default of 8 per side (16 joint) is already a regime where KSG underestimates large MI; use it for
/// comparisons at fixed settings. Exact search is O(N²); above <see cref="MaxSamples"/> a seeded uniform subsample
/// is used. Ties (e.g. duplicate tokens) are broken, as Kraskov et al. advise, by adding seeded noise of standard
/// deviation 1e-10 to the whitened coordinates.
/// </para>
/// </summary>
public sealed class KsgMutualInformation
{
    /// <summary>k, the neighbour rank (default 3).</summary>
    public int Neighbors { get; init; } = 3;

    /// <summary>Whitened principal components kept per side (default 8).</summary>
    public int Components { get; init; } = 8;

    /// <summary>Largest number of samples searched exactly (default 4000); more are subsampled with <see cref="Seed"/>.</summary>
    public int MaxSamples { get; init; } = 4000;

    /// <summary>Seed for the subsample and the tie-breaking noise.</summary>
    public int Seed { get; init; }

    /// <summary>Estimates I(X;Y) from paired samples (rows of X and Y are the same samples).</summary>
    public KsgMutualInformationResult Estimate(DenseMatrix x, DenseMatrix y) => Estimate(x, y, null, null);

    /// <summary>
    /// As <see cref="Estimate(DenseMatrix, DenseMatrix)"/>, with the principal components of each side already fitted
    /// (<see cref="PrincipalComponents.Fit(CenteredGram, int, string)"/> with <see cref="Components"/> on all of its
    /// rows), so a representation that is one block's output and the next block's input is fitted once. The fits are
    /// used only when no subsample is drawn (N ≤ <see cref="MaxSamples"/>); the result is the same either way.
    /// </summary>
    public KsgMutualInformationResult Estimate(DenseMatrix x, DenseMatrix y, PrincipalComponents? fitX, PrincipalComponents? fitY)
    {
        const string source = "ksg-mi";
        if (Neighbors < 1) throw new MspgtException(source, $"neighbour count k must be at least 1, got {Neighbors}");
        if (Components < 1) throw new MspgtException(source, $"components must be at least 1, got {Components}");
        SampleChecks.RequirePaired(x, y, source);
        SampleChecks.Require(x, source, MinimumSamples);
        SampleChecks.Require(y, source, MinimumSamples);

        var rows = SeededSampling.Subset(x.Rows, MaxSamples, Seed);
        if (rows.Length != x.Rows) { x = x.SelectRows(rows); y = y.SelectRows(rows); fitX = fitY = null; }
        var zx = (fitX ?? PrincipalComponents.Fit(x, Components, source)).Project(x, whiten: true);
        var zy = (fitY ?? PrincipalComponents.Fit(y, Components, source)).Project(y, whiten: true);
        return FromOwnScores(zx, zy);
    }

    /// <summary>
    /// The estimate from each side's whitened principal-component scores, made as <see cref="Estimate(DenseMatrix,
    /// DenseMatrix, PrincipalComponents?, PrincipalComponents?)"/> makes them with fits on all rows
    /// (<c>fit.Project(rows, whiten: true)</c>), for scores computed once per representation: the same value, bit for
    /// bit. Needs N ≤ <see cref="MaxSamples"/> (above it the estimate subsamples rows and refits). The scores are not
    /// changed.
    /// </summary>
    public KsgMutualInformationResult EstimateFromScores(DenseMatrix zx, DenseMatrix zy)
    {
        const string source = "ksg-mi";
        if (Neighbors < 1) throw new MspgtException(source, $"neighbour count k must be at least 1, got {Neighbors}");
        SampleChecks.RequirePaired(zx, zy, source);
        SampleChecks.Require(zx, source, MinimumSamples);
        SampleChecks.Require(zy, source, MinimumSamples);
        if (zx.Rows > MaxSamples) throw new ArgumentException($"scores of {zx.Rows} rows: above {MaxSamples} the estimate subsamples the rows and refits");
        return FromOwnScores(zx.Clone(), zy.Clone());
    }

    /// <summary>Jitter (in place), then the estimate and its ceiling.</summary>
    private KsgMutualInformationResult FromOwnScores(DenseMatrix zx, DenseMatrix zy)
    {
        var rng = new Random(unchecked(Seed * 31 + 7));
        Jitter(zx, rng);
        Jitter(zy, rng);
        double nats = EstimateCore(zx.Transpose(), zy.Transpose(), Neighbors);
        double ceiling = Ceiling(zx.Rows, Neighbors);
        return new KsgMutualInformationResult(nats, zx.Rows, zx.Cols, zy.Cols, ceiling, nats >= ceiling - SaturationMargin);
    }

    private static void Jitter(DenseMatrix z, Random rng)
    {
        for (int k = 0; k < z.Data.Length; k++) z.Data[k] += 1e-10 * Gaussian(rng);
    }

    internal static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>
    /// ψ(N) − ψ(k) − 1/k = ψ(N) − ψ(k+1), the most the estimator can return. The k−1 joint neighbours nearer than
    /// εᵢ are nearer in each marginal too (max-norm), and the k-th lies at εᵢ in one marginal and, ties aside, strictly
    /// inside it in the other, so nₓ + n_y ≥ 2k − 1 and ψ(nₓ+1) + ψ(n_y+1) ≥ ψ(k) + ψ(k+1). The seeded jitter makes
    /// such ties (which would allow ψ(N) − ψ(k)) events of probability 0. About 4.29 nats at N = 256, k = 3,
    /// however strong the dependence: strongly dependent data (Y = X) reach it.
    /// </summary>
    public static double Ceiling(int samples, int neighbors) => Digamma.OfInteger(samples) - Digamma.OfInteger(neighbors + 1);

    /// <summary>
    /// An estimate this close to <see cref="Ceiling"/> (0.5 nats) counts as saturated. The gap to the ceiling is the
    /// mean excess of ψ(nₓ+1) + ψ(n_y+1) over its minimum; 0.5 nats at k = 3 means the marginal neighbourhoods hold on
    /// average fewer than two points beyond the joint ones, i.e. the data look nearly deterministic at this N, and the
    /// value can no longer grow with the dependence. Independent and moderately dependent data stay far below
    /// (ρ = 0.99 in 8 dimensions, 15.7 nats, gives about 3.4 at N = 256: badly underestimated but not saturated).
    /// </summary>
    public const double SaturationMargin = 0.5;

    /// <summary>Fewest samples the estimator accepts: k + 2 (and at least 3).</summary>
    public int MinimumSamples => Math.Max(Neighbors + 2, 3);

    // xt, yt: dimensions × samples (each row one coordinate over all samples), so distance updates are contiguous.
    private static double EstimateCore(DenseMatrix xt, DenseMatrix yt, int k)
    {
        int n = xt.Cols;
        var digammaSum = new double[n];
        Parallel.For(0, n, Mspgt.Numerics.Parallelism.Options, () => (dx: new double[n], dy: new double[n], tmp: new double[n]), (i, _, buf) =>
        {
            MaxNormDistances(xt, i, buf.dx, buf.tmp);
            MaxNormDistances(yt, i, buf.dy, buf.tmp);
            // k-th smallest joint distance over j ≠ i (insertion into a sorted list of k)
            Span<double> best = stackalloc double[k];
            best.Fill(double.PositiveInfinity);
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double dj = Math.Max(buf.dx[j], buf.dy[j]);
                if (dj >= best[k - 1]) continue;
                int pos = k - 1;
                while (pos > 0 && best[pos - 1] > dj) { best[pos] = best[pos - 1]; pos--; }
                best[pos] = dj;
            }
            double eps = best[k - 1];
            int nx = 0, ny = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                if (buf.dx[j] < eps) nx++;
                if (buf.dy[j] < eps) ny++;
            }
            digammaSum[i] = Digamma.OfInteger(nx + 1) + Digamma.OfInteger(ny + 1);
            return buf;
        }, _ => { });
        double mean = 0;
        for (int i = 0; i < n; i++) mean += digammaSum[i];   // ordered sum: deterministic
        mean /= n;
        return Digamma.OfInteger(k) + Digamma.OfInteger(n) - mean;
    }

    private static void MaxNormDistances(DenseMatrix t, int i, double[] dist, double[] tmp)
    {
        Array.Clear(dist);
        for (int c = 0; c < t.Rows; c++)
        {
            var coord = t.Row(c);
            TensorPrimitives.Subtract(coord, coord[i], tmp);
            TensorPrimitives.Abs(tmp, tmp);
            TensorPrimitives.Max(dist, tmp, dist);
        }
    }
}
