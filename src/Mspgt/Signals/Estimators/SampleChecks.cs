using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>Input checks shared by the estimators; every failure is a one-line <see cref="MspgtException"/>.</summary>
internal static class SampleChecks
{
    public static void Require(DenseMatrix x, string source, int minSamples)
    {
        if (x.Rows < minSamples) throw new MspgtException(source, $"needs at least {minSamples} samples, got {x.Rows}");
        if (x.Cols < 1) throw new MspgtException(source, "samples have no features (0 columns)");
        LinearAlgebra.RequireFinite(x, source);
    }

    /// <summary><see cref="Require(DenseMatrix, string, int)"/> on the listed rows of x (as on x.SelectRows(rows)).</summary>
    public static void Require(DenseMatrix x, int[] rows, string source, int minSamples)
    {
        if (rows.Length < minSamples) throw new MspgtException(source, $"needs at least {minSamples} samples, got {rows.Length}");
        if (x.Cols < 1) throw new MspgtException(source, "samples have no features (0 columns)");
        LinearAlgebra.RequireFinite(x, rows, source);
    }

    public static void RequirePaired(DenseMatrix x, DenseMatrix y, string source)
    {
        if (x.Rows != y.Rows)
            throw new MspgtException(source, $"the two representations must hold the same samples, got {x.Rows} and {y.Rows} rows");
    }

    public static void RequireLabels(int samples, int labels, string source, string what = "labels")
    {
        if (samples != labels) throw new MspgtException(source, $"{samples} samples but {labels} {what}");
    }
}

/// <summary>Deterministic, seeded choices of samples.</summary>
internal static class SeededSampling
{
    /// <summary>
    /// All of 0..n-1 when n ≤ cap (or cap ≤ 0); otherwise a uniform random subset of size cap drawn with
    /// <c>new Random(seed)</c> (partial Fisher–Yates), returned in increasing order.
    /// </summary>
    public static int[] Subset(int n, int cap, int seed)
    {
        var all = Enumerable.Range(0, n).ToArray();
        if (cap <= 0 || n <= cap) return all;
        var rng = new Random(seed);
        for (int i = 0; i < cap; i++)
        {
            int j = rng.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }
        var chosen = all.AsSpan(0, cap).ToArray();
        Array.Sort(chosen);
        return chosen;
    }
}
