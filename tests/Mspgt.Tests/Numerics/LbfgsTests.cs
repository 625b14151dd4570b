using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

public class LbfgsTests
{
    [Fact]
    public void MinimisesTheRosenbrockFunction()
    {
        var x = new[] { -1.2, 1.0 };
        int iters = Lbfgs.Minimize((p, g) =>
        {
            double a = 1 - p[0], b = p[1] - p[0] * p[0];
            g[0] = -2 * a - 400 * p[0] * b;
            g[1] = 200 * b;
            return a * a + 100 * b * b;
        }, x, maxIterations: 500, gradientTolerance: 1e-9);
        Assert.True(iters < 500);
        Assert.Equal(1, x[0], 6);
        Assert.Equal(1, x[1], 6);
    }

    [Fact]
    public void SolvesAnIllConditionedQuadratic()
    {
        // f = ½ Σ cᵢ (xᵢ − i)², condition number 1e3.
        int n = 20;
        var c = Enumerable.Range(0, n).Select(i => Math.Pow(10, 3.0 * i / (n - 1))).ToArray();
        var x = new double[n];
        Lbfgs.Minimize((p, g) =>
        {
            double f = 0;
            for (int i = 0; i < n; i++) { g[i] = c[i] * (p[i] - i); f += 0.5 * c[i] * (p[i] - i) * (p[i] - i); }
            return f;
        }, x, maxIterations: 1000, gradientTolerance: 1e-8);
        for (int i = 0; i < n; i++) Assert.Equal(i, x[i], 6);
    }
}
