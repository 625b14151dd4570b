namespace Mspgt.Signals.Estimators;

/// <summary>The digamma function ψ = Γ'/Γ, at positive integers (KSG's neighbour counts) and positive reals (Wishart bias).</summary>
internal static class Digamma
{
    private const double EulerGamma = 0.57721566490153286061;

    /// <summary>ψ(m) = −γ + Σ_{j=1}^{m−1} 1/j.</summary>
    public static double OfInteger(int m)
    {
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), "digamma is taken at positive integers only");
        if (m < 64)
        {
            double h = 0;
            for (int j = 1; j < m; j++) h += 1.0 / j;
            return h - EulerGamma;
        }
        return Asymptotic(m);
    }

    /// <summary>ψ(x) for real x &gt; 0: the recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 20, then the asymptotic series.</summary>
    public static double Of(double x)
    {
        if (!(x > 0) || !double.IsFinite(x)) throw new ArgumentOutOfRangeException(nameof(x), "digamma is taken at finite positive arguments only");
        double shift = 0;
        while (x < 20) { shift -= 1 / x; x += 1; }
        return shift + Asymptotic(x);
    }

    // ψ(x) = ln x − 1/(2x) − 1/(12x²) + 1/(120x⁴) − 1/(252x⁶) + 1/(240x⁸); the first omitted term, 1/(132x¹⁰),
    // is below 1e-15 for x ≥ 20 (Of) and below 1e-19 for x ≥ 64 (OfInteger).
    private static double Asymptotic(double x)
    {
        double x2 = x * x, x4 = x2 * x2;
        return Math.Log(x) - 0.5 / x - 1 / (12 * x2) + 1 / (120 * x4) - 1 / (252 * x4 * x2) + 1 / (240 * x4 * x4);
    }
}
