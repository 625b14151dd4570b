using Mspgt.Numerics;
using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

/// <summary>The pieces of the boundary model checked against closed forms and brute force.</summary>
public class SmoothNullTests
{
    /// <summary>(I + τ·D₂ᵀD₂)⁻¹ y by a dense solve: the Whittaker smoother's definition.</summary>
    private static double[] SolveWhittaker(double[] y, double tau)
    {
        int n = y.Length;
        var a = DenseMatrix.Identity(n);
        for (int r = 0; r + 2 < n; r++)
        {
            double[] d = [1, -2, 1];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) a[r + i, r + j] += tau * d[i] * d[j];
        }
        return LinearAlgebra.CholeskySolve(LinearAlgebra.Cholesky(a), y);
    }

    private static (double A, double B, double Rss) LineFit(IReadOnlyList<double> y)
    {
        int n = y.Count;
        double mx = (n - 1) / 2.0, my = y.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < n; i++) { sxy += (i - mx) * (y[i] - my); sxx += (i - mx) * (i - mx); }
        double b = sxx > 0 ? sxy / sxx : 0, a = my - b * mx;
        double rss = 0;
        for (int i = 0; i < n; i++) rss += Math.Pow(y[i] - a - b * i, 2);
        return (a, b, rss);
    }

    [Fact]
    public void WhittakerFitEqualsTheLinearSystemAndItsEdfTheTrace()
    {
        var rng = new Random(1);
        int n = 17;
        var y = Enumerable.Range(0, n).Select(i => Math.Sin(i / 3.0) + 0.3 * Synthetic.Gaussian(rng)).ToArray();
        var s = WhittakerSmoother.For(n);
        foreach (double tau in new[] { 0.3, 5.0, 400.0 })
        {
            // edf = trace of the smoother matrix: Σ_i e_iᵀ (I + τP)⁻¹ e_i.
            double trace = 0;
            for (int i = 0; i < n; i++) { var e = new double[n]; e[i] = 1; trace += SolveWhittaker(e, tau)[i]; }
            Assert.Equal(trace, s.Edf(tau), 9);
        }
        // The fit the smoother picks must be the linear system's solution at the τ it reports.
        var fitted = new double[n];
        var fit = s.Fit(y, 6, fitted, new double[n]);
        Assert.True(fit.Edf <= 6 + 1e-9 && fit.Edf >= 2);
        var want = SolveWhittaker(y, fit.Tau);
        for (int i = 0; i < n; i++) Assert.Equal(want[i], fitted[i], 9);
        Assert.Equal(want.Zip(y, (a, b) => (a - b) * (a - b)).Sum(), fit.Rss, 9);
    }

    [Fact]
    public void ALineIsFittedExactlyAndCurvesRespectTheCap()
    {
        int n = 24;
        var s = WhittakerSmoother.For(n);
        var line = Enumerable.Range(0, n).Select(i => 3 - 0.5 * i).ToArray();
        var fitted = new double[n];
        var fit = s.Fit(line, 4, fitted, new double[n]);
        Assert.Equal(2, fit.Edf, 6);
        Assert.True(fit.Rss < 1e-18);
        for (int i = 0; i < n; i++) Assert.Equal(line[i], fitted[i], 9);

        // A jump: GCV would love to follow it; the cap keeps the smoother at ≤ 4 degrees of freedom, so most of the
        // jump stays in the residual.
        var step = Enumerable.Range(0, n).Select(i => i < 12 ? 0.0 : 10.0).ToArray();
        var capped = s.Fit(step, 4, fitted, new double[n]);
        var free = s.Fit(step, n - 1, new double[n], new double[n]);
        Assert.True(capped.Edf <= 4 + 1e-9);
        Assert.True(free.Edf > 8, $"uncapped GCV edf {free.Edf}");
        Assert.True(capped.Rss > 5 * free.Rss);

        // The τ = ∞ end of the grid is the least-squares line: its RSS is the line's.
        var rng = new Random(5);
        var noise = Enumerable.Range(0, n).Select(_ => Synthetic.Gaussian(rng)).ToArray();
        var atLine = s.Fit(noise, 2, fitted, new double[n]);
        Assert.Equal(LineFit(noise).Rss, atLine.Rss, 9);
    }

    [Fact]
    public void ShortCurvesAreFittedExactly()
    {
        foreach (int n in new[] { 1, 2 })
        {
            var y = Enumerable.Range(0, n).Select(i => 1.5 * i + 2).ToArray();
            var fitted = new double[n];
            var fit = WhittakerSmoother.For(n).Fit(y, 4, fitted, new double[n]);
            Assert.Equal(0, fit.Rss);
            Assert.Equal(y, fitted);
        }
        // Three layers: the cap is n − 1 = 2, a straight line.
        var three = new double[] { 0, 5, 1 };
        var f3 = WhittakerSmoother.For(3).Fit(three, 4, new double[3], new double[3]);
        Assert.Equal(2, f3.Edf, 9);
        Assert.Equal(LineFit(three).Rss, f3.Rss, 9);
    }

    [Fact]
    public void LinearTrendCostIsTheWeightedResidualOfPerSignalLines()
    {
        var rng = new Random(3);
        int L = 15, S = 3;
        var x = new double[L * S];
        for (int i = 0; i < x.Length; i++) x[i] = 100 * (i % S) + 0.2 * i + Synthetic.Gaussian(rng);
        double[] w = [0.5, 0, 2];
        var cost = new LinearTrendCost(L, S, x, w);
        for (int a = 0; a < L; a++)
            for (int b = a + 1; b <= L; b++)
            {
                double want = 0;
                for (int s = 0; s < S; s++)
                {
                    var y = Enumerable.Range(a, b - a).Select(l => x[l * S + s]).ToArray();
                    // Segments of 1–2 layers are fitted by their mean (a line through two points fits anything).
                    want += w[s] * (y.Length >= 3 ? LineFit(y).Rss : y.Sum(v => (v - y.Average()) * (v - y.Average())));
                }
                Assert.Equal(want, cost.Cost(a, b), 7);
            }
        Assert.Equal(0, cost.Cost(3, 4));
    }

    [Fact]
    public void DifferenceNoiseIgnoresTrendsAndJumps()
    {
        // A line plus a jump plus noise of SD 2: the second-difference MAD estimate recovers the noise level.
        var rng = new Random(8);
        int n = 400;
        var y = Enumerable.Range(0, n).Select(i => 0.3 * i + (i > 200 ? 50 : 0) + 2 * Synthetic.Gaussian(rng)).ToArray();
        double sigma = SignalPanel.DifferenceNoiseSd(y, y.Max() - y.Min());
        Assert.InRange(sigma, 1.8, 2.2);
    }

    [Fact]
    public void DocumentNoiseIsTheStandardErrorOfTheMeanCurve()
    {
        // Two signals over 3 layers and 4 documents, values chosen so the variances are easy: signal 0 varies by ±1
        // around its mean in every cell (s² = 4/3), signal 1 not at all (and is constant: left out).
        var docs = new double[4, 3, 2];
        double[] dev = [1, -1, 1, -1];
        for (int d = 0; d < 4; d++)
            for (int l = 0; l < 3; l++) { docs[d, l, 0] = l + dev[d]; docs[d, l, 1] = 7; }
        var p = SignalPanel.FromDocuments(["a", "b"], docs);
        Assert.Equal(Math.Sqrt(4.0 / 3 / 4), p.NoiseSd[0], 12);
        Assert.Equal(NoiseSource.Documents, p.Noise[0]);
        Assert.Equal(NoiseSource.Constant, p.Noise[1]);
        Assert.Equal(0, p.NoiseSd[1]);
        Assert.Equal([0.0, 1.0, 2.0], Enumerable.Range(0, 3).Select(l => p.Mean[l * 2]));
    }

    [Fact]
    public void FamilyWeightsGiveEveryFamilyOneVote()
    {
        string[] names = ["attn_distance", "attn_entropy", "mi_gaussian", "probe_local", "probe_intermediate", "probe_global"];
        var w = SignalFusion.Weights(names, null, "test", Mspgt.Signals.SignalNames.Families);
        Assert.Equal(1.0, w.Sum(), 12);
        Assert.Equal(1.0 / 3, w[0] + w[1], 12);   // attention: two members share one third
        Assert.Equal(1.0 / 3, w[2], 12);          // mixing: one member
        Assert.Equal(1.0 / 9, w[3], 12);          // probes: three members
        var without = SignalFusion.Weights(names, null, "test", Mspgt.Signals.SignalNames.Families, excluded: [2]);
        Assert.Equal(0, without[2]);
        Assert.Equal(0.5, without[0] + without[1], 12);
    }

    [Fact]
    public void PValueCountsTheObservedAndTiesAtRoundingLevel()
    {
        double[] replicates = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
        Assert.Equal(1.0 / 20, CalibratedSelection.PValue(20, replicates));
        Assert.Equal(2.0 / 20, CalibratedSelection.PValue(19 + 1e-13, replicates));
        Assert.Equal(1.0, CalibratedSelection.PValue(-5, replicates));
    }

    /// <summary>The type-7 quantile behind the calibrated penalty (the null's 1 − α quantile) and bench --scaling's
    /// quartiles: interpolation between order statistics, hand values.</summary>
    [Fact]
    public void QuantileInterpolatesBetweenOrderStatistics()
    {
        double[] x = [1, 2, 4, 8];
        Assert.Equal(1.0, CalibratedSelection.Quantile(x, 0));
        Assert.Equal(1.75, CalibratedSelection.Quantile(x, 0.25));
        Assert.Equal(3.0, CalibratedSelection.Quantile(x, 0.5));
        Assert.Equal(8.0, CalibratedSelection.Quantile(x, 1));
        Assert.Equal(0.0, CalibratedSelection.Quantile([], 0.5));
    }
}
