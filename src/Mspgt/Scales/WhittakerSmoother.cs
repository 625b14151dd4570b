using System.Collections.Concurrent;
using Mspgt.Numerics;

namespace Mspgt.Scales;

/// <summary>What one smooth fit used: the smoothing weight τ (∞ = a straight line), its effective degrees of
/// freedom and the residual sum of squares.</summary>
public readonly record struct SmoothFit(double Tau, double Edf, double Rss);

/// <summary>
/// The smooth null's curve model: the Whittaker–Henderson smoother, a discrete penalised spline that minimises
/// ‖y − g‖² + τ·‖D₂g‖² over curves g on n equally spaced layers (D₂: second differences). τ → ∞ gives the
/// least-squares line, τ = 0 the data. With the eigen-decomposition D₂ᵀD₂ = U·diag(λ)·Uᵀ (two zero eigenvalues:
/// constants and lines are not penalised), g = U·diag(1/(1+τλ))·Uᵀy, the effective degrees of freedom are
/// edf(τ) = Σ 1/(1+τλ_k) ∈ (2, n], and RSS(τ) = Σ (c_k·τλ_k/(1+τλ_k))² with c = Uᵀy, so trying many τ costs O(n)
/// each once c is known.
/// <para>τ is chosen per curve by generalised cross-validation, GCV(τ) = n·RSS/(n − edf)², on a fixed grid of 41
/// values from edf = <c>maxEdf</c> down to the straight line (edf = 2), ties to the smoother curve. The cap is what
/// gives the boundary test its power: a smoother free to follow the data (GCV uncapped) bends into a 6–8σ jump and
/// explains it away, while a sigmoid plus a line needs only about 4 degrees of freedom (see
/// shared/docs/calibration-notes.md). The cap never exceeds n − 1, so the smoother never interpolates; curves of
/// one or two layers are fitted exactly (they hold no more than a line).</para>
/// </summary>
public sealed class WhittakerSmoother
{
    /// <summary>Default cap on the null's effective degrees of freedom per curve (enough for a sigmoid plus a line).</summary>
    public const double DefaultMaxEdf = 4;

    private const int GridSteps = 40;
    private const double GridSpanLog = 30;   // ln τ from the cap to e^30 × it: edf within 1e-9 of 2 at any n used here

    private static readonly ConcurrentDictionary<int, WhittakerSmoother> Cache = new();

    private readonly double[] _lambda;   // n eigenvalues, exact zeros for the null space
    private readonly double[] _u;        // n × n eigenvectors, column k = eigenvector k (row-major: _u[i * n + k])

    /// <summary>Number of layers the smoother works on.</summary>
    public int Length { get; }

    private WhittakerSmoother(int n)
    {
        Length = n;
        _lambda = new double[n];
        _u = new double[n * n];
        if (n < 3)
        {
            // No second differences: every curve is unpenalised and fitted exactly.
            for (int i = 0; i < n; i++) _u[i * n + i] = 1;
            return;
        }
        var p = new DenseMatrix(n, n);
        for (int r = 0; r + 2 < n; r++)          // row r of D₂ is (…, 1, −2, 1, …) at columns r, r+1, r+2
        {
            ReadOnlySpan<double> d = [1, -2, 1];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    p[r + a, r + b] += d[a] * d[b];
        }
        var eig = LinearAlgebra.SymmetricEigen(p);
        double max = eig.Values.Max();
        for (int k = 0; k < n; k++)
        {
            double v = eig.Values[k];
            _lambda[k] = v < 1e-10 * max ? 0 : v;  // the null space (constants and lines) exactly unpenalised
            for (int i = 0; i < n; i++) _u[i * n + k] = eig.Vectors[i, k];
        }
    }

    /// <summary>The smoother for curves of <paramref name="n"/> layers (shared, immutable, thread-safe).</summary>
    public static WhittakerSmoother For(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), "a curve needs at least one layer");
        return Cache.GetOrAdd(n, k => new WhittakerSmoother(k));
    }

    /// <summary>Effective degrees of freedom at τ.</summary>
    public double Edf(double tau)
    {
        double edf = 0;
        foreach (double l in _lambda) edf += double.IsPositiveInfinity(tau) ? (l == 0 ? 1 : 0) : 1 / (1 + tau * l);
        return edf;
    }

    /// <summary>
    /// Fits y (length n) with τ chosen by GCV among curves of at most <paramref name="maxEdf"/> effective degrees of
    /// freedom (capped at n − 1; at least a line), writes the fitted curve and returns what was used.
    /// <paramref name="scratch"/> needs n values.
    /// </summary>
    public SmoothFit Fit(ReadOnlySpan<double> y, double maxEdf, Span<double> fitted, Span<double> scratch)
    {
        int n = Length;
        if (y.Length != n || fitted.Length != n || scratch.Length < n) throw new ArgumentException($"expected curves of {n} layers");
        if (n < 3)
        {
            y.CopyTo(fitted);
            return new SmoothFit(double.PositiveInfinity, n, 0);
        }
        var c = scratch[..n];
        for (int k = 0; k < n; k++)
        {
            double acc = 0;
            for (int i = 0; i < n; i++) acc += _u[i * n + k] * y[i];
            c[k] = acc;
        }
        double cap = Math.Max(2, Math.Min(maxEdf, n - 1));
        double best = double.PositiveInfinity, bestTau = double.PositiveInfinity, bestEdf = 2, bestRss = 0;
        // GCV differences below rounding level of the data are ties (an exact line must stay a line).
        double scale = 0;
        for (int k = 0; k < n; k++) scale += c[k] * c[k];
        double tie = 1e-12 * scale / n + double.Epsilon;
        // The straight line first, so that ties go to it.
        Evaluate(c, double.PositiveInfinity, tie, ref best, ref bestTau, ref bestEdf, ref bestRss);
        if (cap > 2 + 1e-9)
        {
            double logTauCap = LogTauAtEdf(cap);
            for (int g = GridSteps; g >= 0; g--)
                Evaluate(c, Math.Exp(logTauCap + GridSpanLog * g / GridSteps), tie, ref best, ref bestTau, ref bestEdf, ref bestRss);
        }
        for (int i = 0; i < n; i++)
        {
            double acc = 0;
            for (int k = 0; k < n; k++) acc += _u[i * n + k] * c[k] * Shrink(_lambda[k], bestTau);
            fitted[i] = acc;
        }
        return new SmoothFit(bestTau, bestEdf, bestRss);
    }

    private static double Shrink(double lambda, double tau) =>
        double.IsPositiveInfinity(tau) ? (lambda == 0 ? 1 : 0) : 1 / (1 + tau * lambda);

    private void Evaluate(ReadOnlySpan<double> c, double tau, double tie, ref double best, ref double bestTau, ref double bestEdf, ref double bestRss)
    {
        int n = Length;
        double edf = 0, rss = 0;
        for (int k = 0; k < n; k++)
        {
            double keep = Shrink(_lambda[k], tau);
            edf += keep;
            double r = c[k] * (1 - keep);
            rss += r * r;
        }
        double gcv = n * rss / ((n - edf) * (n - edf));
        if (gcv < best - tie) { best = gcv; bestTau = tau; bestEdf = edf; bestRss = rss; }
    }

    /// <summary>ln τ at which edf(τ) equals <paramref name="edf"/> (2 &lt; edf &lt; n), by bisection: edf falls with τ.</summary>
    private double LogTauAtEdf(double edf)
    {
        double lo = -30, hi = 30;
        for (int i = 0; i < 100; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (Edf(Math.Exp(mid)) > edf) lo = mid; else hi = mid;
        }
        return hi;
    }
}
