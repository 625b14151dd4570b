using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>
/// Limited-memory BFGS minimiser (Nocedal &amp; Wright, algorithms 7.4/7.5) with a strong-Wolfe line search
/// (algorithms 3.5/3.6, c₁ = 1e-4, c₂ = 0.9, safeguarded quadratic interpolation in the zoom phase).
/// Fully deterministic: fixed memory, fixed iteration cap, no randomness. Stops at the iteration cap, when max |g| ≤
/// the tolerance, when the value stops changing beyond round-off, or when the line search finds no decrease.
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
            var (accepted, fn) = WolfeLineSearch(objective, x, f, slope, dir, step, xn, gn);
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
            if (Math.Abs(previous - f) <= 1e-14 * Math.Abs(f)) { iter++; break; }   // stagnated at round-off
        }
        return iter;
    }

    // Strong-Wolfe line search along dir from x (value f, slope = gᵀdir < 0). On success xn/gn hold the accepted point
    // and its gradient, and its value is returned. If no Wolfe point is found within the evaluation budget, the last
    // point is still accepted when it gives sufficient decrease.
    private static (bool Accepted, double Value) WolfeLineSearch(Objective objective, double[] x, double f, double slope,
        double[] dir, double initialStep, double[] xn, double[] gn)
    {
        const double c1 = 1e-4, c2 = 0.9;
        const int budget = 40;
        int evals = 0;
        double Eval(double a, out double derivative)
        {
            evals++;
            TensorPrimitives.MultiplyAdd(dir, a, x, xn);
            double v = objective(xn, gn);
            derivative = TensorPrimitives.Dot<double>(gn, dir);
            return v;
        }
        bool Armijo(double a, double v) => double.IsFinite(v) && v <= f + c1 * a * slope;

        double aPrev = 0, fPrev = f, dPrev = slope, a1 = initialStep;
        double lo, flo, dlo, hi, fhi;
        while (true)
        {
            double v = Eval(a1, out double dv);
            if (!Armijo(a1, v) || (evals > 1 && v >= fPrev))
            {
                (lo, flo, dlo, hi, fhi) = (aPrev, fPrev, dPrev, a1, v);
                break;
            }
            if (Math.Abs(dv) <= -c2 * slope) return (true, v);
            if (dv >= 0)
            {
                (lo, flo, dlo, hi, fhi) = (a1, v, dv, aPrev, fPrev);
                break;
            }
            if (evals >= budget) return (true, v);   // sufficient decrease holds
            (aPrev, fPrev, dPrev) = (a1, v, dv);
            a1 *= 2;
        }
        // Zoom: lo always satisfies sufficient decrease and has the lowest value seen; the minimiser lies between.
        double last = double.NaN, lastA = 0;
        while (evals < budget)
        {
            double width = hi - lo;
            double a = double.NaN;
            if (double.IsFinite(fhi))
            {
                // Minimiser of the quadratic through (lo, flo) with slope dlo and (hi, fhi).
                double denom = 2 * (fhi - flo - dlo * width);
                if (denom != 0) a = lo - dlo * width * width / denom;
            }
            double min = lo + 0.1 * width, max = hi - 0.1 * width;
            if (min > max) (min, max) = (max, min);
            if (!double.IsFinite(a) || a < min || a > max) a = lo + 0.5 * width;
            double v = Eval(a, out double dv);
            (last, lastA) = (v, a);
            if (!Armijo(a, v) || v >= flo)
            {
                (hi, fhi) = (a, v);
            }
            else
            {
                if (Math.Abs(dv) <= -c2 * slope) return (true, v);
                if (dv * (hi - lo) >= 0) (hi, fhi) = (lo, flo);
                (lo, flo, dlo) = (a, v, dv);
            }
            if (Math.Abs(hi - lo) <= 1e-16 * Math.Max(1, Math.Abs(lo))) break;
        }
        // Budget spent: fall back to lo if it moved (re-evaluate so xn/gn hold it).
        if (lo > 0)
        {
            double v = lastA == lo ? last : Eval(lo, out _);
            return (Armijo(lo, v), v);
        }
        return (false, f);
    }
}
