using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>
/// Limited-memory BFGS minimiser (Nocedal &amp; Wright, algorithm 7.4/7.5) with a backtracking Armijo line search.
/// Fully deterministic: fixed memory, fixed iteration cap, no randomness.
/// </summary>
public static class Lbfgs
{
    /// <summary>Objective: fills <c>gradient</c> at <c>x</c> and returns the value.</summary>
    public delegate double Objective(ReadOnlySpan<double> x, Span<double> gradient);

    /// <summary>Minimises from <paramref name="x"/> (updated in place); returns the iterations used.</summary>
    /// <param name="maxIterations">Hard cap on iterations.</param>
    /// <param name="gradientTolerance">Stop when max |gradient| falls below this.</param>
    /// <param name="memory">Number of correction pairs kept.</param>
    public static int Minimize(Objective objective, double[] x, int maxIterations, double gradientTolerance = 1e-6, int memory = 10)
    {
        int dim = x.Length;
        var g = new double[dim];
        double f = objective(x, g);
        var sList = new List<double[]>();
        var yList = new List<double[]>();
        var rho = new List<double>();
        var dir = new double[dim];
        var xn = new double[dim];
        var gn = new double[dim];
        var alpha = new double[memory];
        int iter = 0;
        for (; iter < maxIterations; iter++)
        {
            if (Math.Abs(TensorPrimitives.MaxMagnitude<double>(g)) <= gradientTolerance) break;   // MaxMagnitude keeps the sign
            // Two-loop recursion: dir = −H g.
            g.CopyTo(dir, 0);
            for (int k = sList.Count - 1; k >= 0; k--)
            {
                alpha[k] = rho[k] * TensorPrimitives.Dot<double>(sList[k], dir);
                TensorPrimitives.MultiplyAdd(yList[k], -alpha[k], dir, dir);
            }
            if (sList.Count > 0)
            {
                var yLast = yList[^1];
                double gamma = TensorPrimitives.Dot<double>(sList[^1], yLast) / TensorPrimitives.Dot<double>(yLast, yLast);
                TensorPrimitives.Multiply(dir, gamma, dir);
            }
            for (int k = 0; k < sList.Count; k++)
            {
                double beta = rho[k] * TensorPrimitives.Dot<double>(yList[k], dir);
                TensorPrimitives.MultiplyAdd(sList[k], alpha[k] - beta, dir, dir);
            }
            TensorPrimitives.Negate(dir, dir);
            double slope = TensorPrimitives.Dot<double>(g, dir);
            if (!(slope < 0))
            {
                sList.Clear(); yList.Clear(); rho.Clear();
                TensorPrimitives.Negate(g, dir);
                slope = -TensorPrimitives.Dot<double>(g, g);
            }
            double step = sList.Count == 0 ? Math.Min(1, 1 / TensorPrimitives.Norm<double>(dir)) : 1;
            double fn = double.NaN;
            bool accepted = false;
            for (int tries = 0; tries < 50; tries++)
            {
                TensorPrimitives.MultiplyAdd(dir, step, x, xn);
                fn = objective(xn, gn);
                if (double.IsFinite(fn) && fn <= f + 1e-4 * step * slope) { accepted = true; break; }
                step *= 0.5;
            }
            if (!accepted) break;

            var s = new double[dim];
            var y = new double[dim];
            TensorPrimitives.Subtract(xn, x, s);
            TensorPrimitives.Subtract(gn, g, y);
            double sy = TensorPrimitives.Dot<double>(s, y);
            if (sy > 1e-12 * TensorPrimitives.Dot<double>(y, y))
            {
                if (sList.Count == memory) { sList.RemoveAt(0); yList.RemoveAt(0); rho.RemoveAt(0); }
                sList.Add(s); yList.Add(y); rho.Add(1 / sy);
            }
            double previous = f;
            xn.CopyTo(x, 0);
            gn.CopyTo(g, 0);
            f = fn;
            if (Math.Abs(previous - f) <= 1e-12 * Math.Max(1, Math.Abs(f))) { iter++; break; }
        }
        return iter;
    }
}
