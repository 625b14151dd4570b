namespace Mspgt.Tests.Training;

/// <summary>Central finite differences in float64 and the comparison against an analytic (float32) gradient.</summary>
internal static class GradientCheck
{
    /// <summary>dL/dθᵢ ≈ (L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h for the listed coordinates (all when null).</summary>
    public static double[] Numeric(Func<double[], double> loss, double[] theta, IEnumerable<int>? coords = null, double h = 1e-5)
    {
        var g = new double[theta.Length];
        foreach (int i in coords ?? Enumerable.Range(0, theta.Length))
        {
            double keep = theta[i];
            theta[i] = keep + h; double up = loss(theta);
            theta[i] = keep - h; double down = loss(theta);
            theta[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /// <summary>Asserts |analytic − numeric| ≤ atol + rtol·|numeric| at each listed coordinate, and that the gradient is
    /// not trivially zero (a check that could not fail would prove nothing).</summary>
    public static void AssertClose(ReadOnlySpan<float> analytic, double[] numeric, string what, IEnumerable<int>? coords = null,
        double atol = 2e-5, double rtol = 2e-3)
    {
        double maxAbs = 0;
        foreach (int i in coords ?? Enumerable.Range(0, numeric.Length))
        {
            double a = analytic[i], n = numeric[i];
            maxAbs = Math.Max(maxAbs, Math.Abs(n));
            Assert.True(Math.Abs(a - n) <= atol + rtol * Math.Abs(n), $"{what}[{i}]: analytic {a:G9} vs numeric {n:G9}");
        }
        Assert.True(maxAbs > 1e-4, $"{what}: gradient is ~0 everywhere checked (max {maxAbs:G3}); the check would prove nothing");
    }

    public static double[] Random(int n, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static float[] ToFloat(double[] x) => x.Select(v => (float)v).ToArray();
    public static double[] ToDouble(ReadOnlySpan<float> x) { var r = new double[x.Length]; for (int i = 0; i < x.Length; i++) r[i] = x[i]; return r; }

    /// <summary>Rounds through float32 so the double reference sees exactly the float model's inputs.</summary>
    public static double[] RoundToFloat(double[] x) => x.Select(v => (double)(float)v).ToArray();
}
