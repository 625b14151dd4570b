using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class EstimatorInternalsTests
{
    [Fact]
    public void DigammaAtIntegers()
    {
        const double gamma = 0.57721566490153286061;
        Assert.Equal(-gamma, Digamma.OfInteger(1), 14);
        Assert.Equal(1 - gamma, Digamma.OfInteger(2), 14);
        Assert.Equal(1 + 0.5 + 1.0 / 3 - gamma, Digamma.OfInteger(4), 14);
        foreach (int m in new[] { 63, 64, 65, 1000, 20000 })
        {
            double h = 0;
            for (int j = 1; j < m; j++) h += 1.0 / j;
            Assert.Equal(h - gamma, Digamma.OfInteger(m), 11);
        }
    }

    [Fact]
    public void DigammaAtRealArguments()
    {
        const double gamma = 0.57721566490153286061;
        Assert.Equal(-gamma - 2 * Math.Log(2), Digamma.Of(0.5), 13);           // ψ(1/2)
        Assert.Equal(-gamma - 2 * Math.Log(2) + 2, Digamma.Of(1.5), 13);       // ψ(x+1) = ψ(x) + 1/x
        Assert.Equal(-10.423754940411076, Digamma.Of(0.1), 12);               // tabulated
        foreach (int m in new[] { 1, 2, 7, 19, 20, 21, 63, 64, 500 })
            Assert.Equal(Digamma.OfInteger(m), Digamma.Of(m), 12);
        foreach (double x in new[] { 0.3, 2.25, 9.5, 19.9, 127.5 })
            Assert.Equal(Digamma.Of(x) + 1 / x, Digamma.Of(x + 1), 12);
    }

    [Fact]
    public void LedoitWolfWeightMatchesTheDefinition()
    {
        var rng = new Random(60);
        var raw = Gaussian(30, 4, rng);
        double[] scale = { 1, 2, 5, 0.5 };   // far from isotropic, so λ lies inside (0, 1)
        for (int r = 0; r < 30; r++) for (int c = 0; c < 4; c++) raw[r, c] *= scale[c];
        var z = LinearAlgebra.Center(raw);
        int n = 30, p = 4;
        var scatter = LinearAlgebra.FeatureGram(z);
        // Brute force: S = scatter/n, μ = tr S / p, δ² = ‖S − μI‖², β̄² = (1/n²) Σ ‖zzᵀ − S‖², λ = min(β̄², δ²)/δ²
        var s = new double[p, p];
        for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) s[i, j] = scatter[i, j] / n;
        double mu = Enumerable.Range(0, p).Sum(i => s[i, i]) / p;
        double delta2 = 0, beta2 = 0;
        for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) delta2 += Math.Pow(s[i, j] - (i == j ? mu : 0), 2);
        for (int r = 0; r < n; r++)
            for (int i = 0; i < p; i++)
                for (int j = 0; j < p; j++)
                    beta2 += Math.Pow(z[r, i] * z[r, j] - s[i, j], 2);
        beta2 /= (double)n * n;
        double expected = Math.Min(beta2, delta2) / delta2;
        Assert.Equal(expected, GaussianMutualInformation.LedoitWolfWeight(z, scatter), 12);
        Assert.InRange(expected, 0.0001, 0.9999);   // the test covers the interior, not a clamp
    }

    [Fact]
    public void SeededSubsetIsSortedDistinctAndReproducible()
    {
        var a = SeededSampling.Subset(1000, 100, 7);
        Assert.Equal(100, a.Distinct().Count());
        Assert.Equal(a.Order(), a);
        Assert.Equal(a, SeededSampling.Subset(1000, 100, 7));
        Assert.NotEqual(a, SeededSampling.Subset(1000, 100, 8));
        Assert.Equal(Enumerable.Range(0, 50), SeededSampling.Subset(50, 100, 7));
        Assert.Equal(Enumerable.Range(0, 50), SeededSampling.Subset(50, 0, 7));
    }
}
