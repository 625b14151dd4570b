using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>How <see cref="TwoNnIntrinsicDimension"/> turns the ratios μ = r₂/r₁ into a dimension.</summary>
public enum TwoNnFit
{
    /// <summary>Maximum likelihood for the Pareto law P(μ) = d·μ^(−d−1): d = N / Σ ln μᵢ, using every point.</summary>
    MaximumLikelihood,

    /// <summary>
    /// Facco et al.'s original fit: sort μ, F(μ₍ᵢ₎) = i/N, discard the largest <see cref="TwoNnIntrinsicDimension.DiscardFraction"/>
    /// of the μ, and fit −ln(1 − F) = d·ln μ by least squares through the origin.
    /// </summary>
    LinearFit,
}

/// <summary>Result of <see cref="TwoNnIntrinsicDimension.Estimate"/>.</summary>
/// <param name="Dimension">Estimated intrinsic dimension (dimensionless).</param>
/// <param name="Points">Points whose ratio entered the estimate (distinct points, after subsampling).</param>
/// <param name="DuplicatesDropped">Rows dropped because they repeat an earlier row exactly.</param>
public sealed record TwoNnResult(double Dimension, int Points, int DuplicatesDropped);

/// <summary>
/// TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez &amp; Laio, Sci. Rep. 7, 12140, 2017) from the ratio
/// μ = r₂/r₁ of each point's second to first nearest-neighbour Euclidean distance.
/// <para>
/// Exact duplicate rows (which give r₁ = 0) are dropped first, keeping one copy. Above <see cref="MaxSamples"/>
/// distinct points a seeded uniform subsample is used (search is exact, O(N²·d)). The default fit is
/// <see cref="TwoNnFit.MaximumLikelihood"/> over all points; <see cref="TwoNnFit.LinearFit"/> gives the paper's
/// regression with the standard 10% discard.
/// </para>
/// </summary>
public sealed class TwoNnIntrinsicDimension
{
    public TwoNnFit Fit { get; init; } = TwoNnFit.MaximumLikelihood;

    /// <summary>Fraction of the largest μ discarded by <see cref="TwoNnFit.LinearFit"/> (default 0.1).</summary>
    public double DiscardFraction { get; init; } = 0.1;

    /// <summary>Largest number of distinct points used (default 4000).</summary>
    public int MaxSamples { get; init; } = 4000;

    /// <summary>Seed of the subsample.</summary>
    public int Seed { get; init; }

    /// <summary>Fewest (distinct) points accepted: 3, so every point has a first and a second neighbour.</summary>
    public const int MinimumSamples = 3;

    public TwoNnResult Estimate(DenseMatrix x) => Estimate(x, null);

    /// <summary>
    /// As <see cref="Estimate(DenseMatrix)"/>, with <paramref name="gram"/> (the <see cref="CenteredGram"/> of
    /// <paramref name="x"/>) supplying the candidate distances ‖a‖² + ‖b‖² − 2a·b when it holds the sample Gram
    /// matrix (<see cref="CenteredGram.SampleGram"/>: the sample form, or one added to the feature form) and every
    /// row is used (distinct, not subsampled): the neighbour search then costs O(N²) on top of a Gram matrix the other
    /// estimators share. The candidates are re-measured exactly either way.
    /// </summary>
    public TwoNnResult Estimate(DenseMatrix x, CenteredGram? gram)
    {
        const string source = "two-nn";
        if (!(DiscardFraction >= 0 && DiscardFraction < 1))
            throw new MspgtException(source, $"discard fraction must lie in [0, 1), got {DiscardFraction}");
        SampleChecks.Require(x, source, MinimumSamples);
        var distinct = DistinctRows<double>(x.Rows, i => x.Row(i));
        int dropped = x.Rows - distinct.Length;
        if (distinct.Length < MinimumSamples)
            throw new MspgtException(source, $"needs at least 3 distinct points, got {distinct.Length} ({dropped} duplicates dropped)");
        var pick = SeededSampling.Subset(distinct.Length, MaxSamples, Seed);
        bool all = pick.Length == x.Rows;   // every row distinct and none subsampled: points are x's rows in order
        if (gram != null && (gram.Rows != x.Rows || gram.Cols != x.Cols))
            throw new ArgumentException("the Gram matrix is not of these samples");
        var points = all ? x : x.SelectRows(pick.Select(i => distinct[i]).ToArray());
        var logMu = LogRatios(new Points(points, default, points.Rows, points.Cols), all ? gram?.SampleGram : null);
        double d = Fit == TwoNnFit.MaximumLikelihood ? MaximumLikelihood(logMu) : LinearFit(logMu, DiscardFraction);
        return new TwoNnResult(d, logMu.Length, dropped);
    }

    /// <summary>
    /// <see cref="Estimate(DenseMatrix, CenteredGram)"/> of the float rows <paramref name="rows"/> (n × d, row-major)
    /// widened to float64, bit for bit, without a float64 copy of them: when every row is distinct, none is
    /// subsampled and <paramref name="gram"/> (theirs) holds the sample Gram matrix, the candidates come from it and
    /// each exact distance widens its two rows as it reads them (widening is exact, so the distances are the same).
    /// Otherwise the rows are widened once and estimated as a matrix.
    /// </summary>
    public TwoNnResult Estimate(ReadOnlyMemory<float> rows, int n, int d, CenteredGram gram)
    {
        if (rows.Length != (long)n * d) throw new ArgumentException($"{rows.Length} values do not form {n} rows of {d}");
        if (gram.Rows != n || gram.Cols != d) throw new ArgumentException("the Gram matrix is not of these samples");
        // Anything unusual (a bad setting, too few rows, a non-finite value) goes to the matrix path, which reports it.
        bool usable = DiscardFraction >= 0 && DiscardFraction < 1 && n >= MinimumSamples && d >= 1 && gram.SampleGram != null
            && Kernels.FirstNonFinite(rows.Span) < 0;
        if (usable)
        {
            var distinct = DistinctRows(n, i => rows.Span.Slice(i * d, d));
            if (distinct.Length == n && SeededSampling.Subset(n, MaxSamples, Seed).Length == n)
            {
                var logMu = LogRatios(new Points(null, rows, n, d), gram.SampleGram);
                double dim = Fit == TwoNnFit.MaximumLikelihood ? MaximumLikelihood(logMu) : LinearFit(logMu, DiscardFraction);
                return new TwoNnResult(dim, logMu.Length, 0);
            }
        }
        return Estimate(DenseMatrix.FromFloats(rows.Span, n, d), gram);
    }

    private static double MaximumLikelihood(double[] logMu)
    {
        double sum = 0;
        foreach (double v in logMu) sum += v;
        if (!(sum > 0)) throw new MspgtException("two-nn", "every point has equally distant first and second neighbours; dimension is undefined");
        return logMu.Length / sum;
    }

    private static double LinearFit(double[] logMu, double discard)
    {
        var sorted = (double[])logMu.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        int keep = (int)Math.Floor(n * (1 - discard));
        keep = Math.Min(keep, n - 1);   // F = 1 at the largest μ would give −ln 0
        double sxy = 0, sxx = 0;
        for (int i = 0; i < keep; i++)
        {
            double xi = sorted[i];
            double yi = -Math.Log(1 - (i + 1.0) / n);
            sxy += xi * yi;
            sxx += xi * xi;
        }
        if (!(sxx > 0)) throw new MspgtException("two-nn", "too few points with distinct neighbour distances to fit a dimension");
        return sxy / sxx;
    }

    // ln(r2/r1) for every point. Candidates come from ‖a‖² + ‖b‖² − 2a·b on centered data (fast, blocked), then the
    // best few are re-measured exactly as ‖a − b‖ on the original rows so round-off in the expansion cannot distort small distances.
    // With sampleGram (Xc Xcᵀ of these points) the dot products are read from it instead.
    private static double[] LogRatios(Points points, DenseMatrix? sampleGram)
    {
        var xc = sampleGram == null ? LinearAlgebra.Center(points.Matrix ?? throw new ArgumentException("float rows need their sample Gram")) : null;
        int n = points.Rows;
        var sq = new double[n];
        for (int i = 0; i < n; i++) sq[i] = xc != null ? TensorPrimitives.Dot<double>(xc.Row(i), xc.Row(i)) : sampleGram![i, i];
        const int block = 256, candidates = 6;
        var result = new double[n];
        for (int b0 = 0; b0 < n; b0 += block)
        {
            int bl = Math.Min(block, n - b0);
            DenseMatrix dots; int first;   // row r of the block is dots.Row(first + r)
            if (xc != null) { dots = LinearAlgebra.MultiplyTransposed(xc.SelectRows(Enumerable.Range(b0, bl).ToArray()), xc); first = 0; }   // bl × n
            else { dots = sampleGram!; first = b0; }
            Parallel.For(0, bl, Mspgt.Numerics.Parallelism.Options, r =>
            {
                int i = b0 + r;
                Span<double> bestD = stackalloc double[candidates];
                Span<int> bestJ = stackalloc int[candidates];
                bestD.Fill(double.PositiveInfinity);
                bestJ.Fill(-1);
                var drow = dots.Row(first + r);
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    double d2 = sq[i] + sq[j] - 2 * drow[j];
                    if (d2 >= bestD[candidates - 1]) continue;
                    int pos = candidates - 1;
                    while (pos > 0 && bestD[pos - 1] > d2) { bestD[pos] = bestD[pos - 1]; bestJ[pos] = bestJ[pos - 1]; pos--; }
                    bestD[pos] = d2;
                    bestJ[pos] = j;
                }
                double r1 = double.PositiveInfinity, r2 = double.PositiveInfinity;
                var widened = points.Matrix == null ? System.Buffers.ArrayPool<double>.Shared.Rent(2 * points.Cols) : null;
                var xi = points.Row(i, widened);
                for (int c = 0; c < candidates; c++)
                {
                    if (bestJ[c] < 0) continue;
                    double exact = TensorPrimitives.Distance<double>(xi, points.Row(bestJ[c], widened, second: true));
                    if (exact < r1) { r2 = r1; r1 = exact; }
                    else if (exact < r2) r2 = exact;
                }
                if (widened != null) System.Buffers.ArrayPool<double>.Shared.Return(widened);
                // r1 > 0 because duplicates were removed; tiny distinct distances are still exact here.
                result[i] = Math.Log(r2 / r1);
            });
        }
        return result;
    }

    /// <summary>The points whose distances are re-measured exactly: a matrix's rows, or float rows widened into the
    /// caller's buffer (its first half for the first row asked, its second half for the second).</summary>
    private readonly struct Points(DenseMatrix? matrix, ReadOnlyMemory<float> floats, int rows, int cols)
    {
        public DenseMatrix? Matrix => matrix;
        public int Rows => rows;
        public int Cols => cols;

        public ReadOnlySpan<double> Row(int i, double[]? buffer, bool second = false)
        {
            if (matrix != null) return matrix.Row(i);
            var into = buffer.AsSpan(second ? cols : 0, cols);
            TensorPrimitives.ConvertChecked<float, double>(floats.Span.Slice(i * cols, cols), into);   // exact
            return into;
        }
    }

    private delegate ReadOnlySpan<T> RowOf<T>(int i);

    /// <summary>Indices of the first occurrence of every distinct row, in order (float rows give the same indices as
    /// their widened copies: widening keeps every value, and equality, ±0 included).</summary>
    private static int[] DistinctRows<T>(int rows, RowOf<T> rowOf) where T : struct, System.Numerics.IFloatingPointIeee754<T>
    {
        var byHash = new Dictionary<int, List<int>>();
        var keep = new List<int>(rows);
        for (int i = 0; i < rows; i++)
        {
            var row = rowOf(i);
            var h = new HashCode();
            foreach (T v in row) h.Add(T.IsZero(v) ? T.Zero : v);   // +0 and −0 are the same point
            int key = h.ToHashCode();
            if (!byHash.TryGetValue(key, out var list)) byHash[key] = list = new List<int>();
            bool duplicate = false;
            foreach (int j in list)
                if (row.SequenceEqual(rowOf(j))) { duplicate = true; break; }
            if (duplicate) continue;
            list.Add(i);
            keep.Add(i);
        }
        return keep.ToArray();
    }
}
