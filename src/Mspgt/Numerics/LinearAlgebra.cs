using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>
/// The small dense linear algebra mspgt needs, in double precision: products, covariance, Cholesky, log-determinant
/// and the symmetric eigen-decomposition (Householder tridiagonalisation + implicit QL). Every result is
/// deterministic: parallel loops only split the output, never a sum. This file: checks, centring and products;
/// the row-dot kernels under them, Cholesky and the eigen-decomposition each have a file of their own.
/// </summary>
public static partial class LinearAlgebra
{
    // ---------------------------------------------------------------- checks

    /// <summary>Throws if any entry is NaN or infinite.</summary>
    public static void RequireFinite(DenseMatrix x, string source)
    {
        var data = x.Data;
        for (int k = 0; k < data.Length; k++)
            if (!double.IsFinite(data[k]))
                throw new MspgtException(source, $"value at row {k / Math.Max(1, x.Cols)}, column {k % Math.Max(1, x.Cols)} is {data[k]} (NaN or infinite)");
    }

    /// <summary><see cref="RequireFinite(DenseMatrix, string)"/> on the listed rows of x, a row named by its place in the
    /// list (as it would be in x.SelectRows(rows)).</summary>
    public static void RequireFinite(DenseMatrix x, int[] rows, string source)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            var row = x.Row(rows[i]);
            for (int j = 0; j < row.Length; j++)
                if (!double.IsFinite(row[j]))
                    throw new MspgtException(source, $"value at row {i}, column {j} is {row[j]} (NaN or infinite)");
        }
    }

    // ---------------------------------------------------------------- products

    /// <summary>The column means (length Cols) of the listed rows of x (null: all), added in list order.</summary>
    public static double[] ColumnMeans(DenseMatrix x, int[]? rows = null)
    {
        int m = rows?.Length ?? x.Rows;
        var mean = new double[x.Cols];
        for (int i = 0; i < m; i++) TensorPrimitives.Add(mean, x.Row(rows?[i] ?? i), mean);
        if (m > 0) TensorPrimitives.Divide(mean, m, mean);
        return mean;
    }

    /// <summary>A copy of <paramref name="x"/> with each column's mean subtracted.</summary>
    public static DenseMatrix Center(DenseMatrix x, double[]? into = null)
    {
        var mean = ColumnMeans(x);
        DenseMatrix c;
        if (into == null) c = x.Clone();
        else
        {
            c = new DenseMatrix(x.Rows, x.Cols, into);
            x.Data.CopyTo(into, 0);
        }
        for (int i = 0; i < c.Rows; i++) TensorPrimitives.Subtract(c.Row(i), mean, c.Row(i));
        return c;
    }

    /// <summary>
    /// Xcᵀ (Cols × Rows): the column-centred samples, transposed, made without the centred copy that
    /// Center(x).Transpose() passes through; the same values, bit for bit (each is the one rounded difference
    /// x[i, j] − mean[j]).
    /// </summary>
    /// <param name="into">Storage for the result (Rows·Cols values, overwritten), for a caller that reuses it; null allocates.</param>
    public static DenseMatrix CenteredTranspose(DenseMatrix x, double[]? into = null)
    {
        var mean = ColumnMeans(x);
        int n = x.Rows, d = x.Cols;
        var t = into == null ? new DenseMatrix(d, n) : new DenseMatrix(d, n, into);
        var src = x.Data;
        var dst = t.Data;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
                dst[j * n + i] = src[i * d + j] - mean[j];
        return t;
    }

    /// <summary>A·B.</summary>
    public static DenseMatrix Multiply(DenseMatrix a, DenseMatrix b)
    {
        if (a.Cols != b.Rows) throw new ArgumentException($"cannot multiply {a.Rows}x{a.Cols} by {b.Rows}x{b.Cols}");
        return MultiplyTransposed(a, b.Transpose());
    }

    /// <summary>A·Bᵀ (rows of A dotted with rows of B): an a.Rows × b.Rows matrix.</summary>
    public static DenseMatrix MultiplyTransposed(DenseMatrix a, DenseMatrix b) => MultiplyTransposed(a, b, null);

    /// <summary>A·Bᵀ into <paramref name="into"/> (a.Rows × b.Rows values; null allocates), for a caller that reuses
    /// one buffer for many products.</summary>
    public static DenseMatrix MultiplyTransposed(DenseMatrix a, DenseMatrix b, double[]? into)
    {
        if (a.Cols != b.Cols) throw new ArgumentException($"cannot multiply {a.Rows}x{a.Cols} by the transpose of {b.Rows}x{b.Cols}");
        var c = Zeroed(a.Rows, b.Rows, into);
        bool symmetric = ReferenceEquals(a, b);
        RowDots(a.Data, a.Rows, b.Data, b.Rows, a.Cols, c.Data, symmetric, mirror: symmetric);
        return c;
    }

    // A rows × cols matrix of zeros for the row dots to add into: new, or over a caller's reused storage, cleared.
    private static DenseMatrix Zeroed(int rows, int cols, double[]? into)
    {
        if (into == null) return new DenseMatrix(rows, cols);
        Array.Clear(into);
        return new DenseMatrix(rows, cols, into);
    }

    /// <summary>Aᵀ·B for two matrices with the same rows (samples): an a.Cols × b.Cols matrix.</summary>
    /// <remarks>
    /// The row dots run along the samples, so each operand is transposed, but one slab of <see cref="SampleSlab"/>
    /// samples at a time into a reused buffer rather than whole: a slab is exactly one of the chunks whose partial sums
    /// MultiplyTransposed(Aᵀ, Bᵀ) adds into C in sample order, so the result is that product's bit for bit, and a pooled
    /// 16,384 × 256 matrix no longer needs a 32 MB transposed copy beside it.
    /// </remarks>
    public static DenseMatrix TransposeMultiply(DenseMatrix a, DenseMatrix b)
    {
        if (a.Rows != b.Rows) throw new ArgumentException($"row counts differ ({a.Rows} vs {b.Rows})");
        if (ReferenceEquals(a, b)) return FeatureGram(a.Rows, a.Cols, (t0, tl, dst) => TransposeRows(a, t0, tl, dst));
        return Slabs(a.Rows, a.Cols, b.Cols, gram: false, cross: true, (t0, tl, at, bt) =>
        {
            TransposeRows(a, t0, tl, at);
            TransposeRows(b, t0, tl, bt);
        }).Cross!;
    }

    /// <summary>Samples per slab of <see cref="SlabProducts"/>.</summary>
    public const int SampleSlab = ChunkLength;

    /// <summary>
    /// XᵀX (d × d, exactly symmetric) of n samples that are never held together: <paramref name="fillSlab"/>(t0, tl,
    /// dst) writes samples t0 .. t0 + tl − 1 transposed into dst (d × tl, dst[j·tl + t] = x[t0 + t, j]), for
    /// consecutive slabs of <see cref="SampleSlab"/> samples (the last one shorter). The value of
    /// <see cref="FeatureGram(DenseMatrix)"/> on those samples, bit for bit.
    /// </summary>
    public static DenseMatrix FeatureGram(int n, int d, Action<int, int, double[]> fillSlab) =>
        SlabProducts(n, d, 0, (t0, tl, xs, _) => fillSlab(t0, tl, xs)).Gram;

    /// <summary>
    /// XᵀX (d × d) and XᵀY (d × c) of n paired samples delivered a slab at a time: <paramref name="fillSlab"/>(t0, tl,
    /// xs, ys) writes samples t0 .. t0 + tl − 1 of X transposed into xs (d × tl) and of Y into ys (c × tl). The values
    /// of <see cref="FeatureGram(DenseMatrix)"/> and <see cref="TransposeMultiply"/> on those samples, bit for bit,
    /// with two slabs in memory instead of the samples and their transposes. Cross is null when c is 0.
    /// </summary>
    /// <param name="gramInto">Storage for XᵀX (d · d values, overwritten), for a caller that reuses it; null allocates.</param>
    public static (DenseMatrix Gram, DenseMatrix? Cross) SlabProducts(int n, int d, int c, Action<int, int, double[], double[]> fillSlab,
        double[]? gramInto = null)
    {
        var (gram, cross) = Slabs(n, d, c, gram: true, cross: c > 0, fillSlab, gramInto);
        return (gram!, cross);
    }

    // XᵀX (when gram) and XᵀY (when cross) summed slab by slab, each slab one RowDots chunk.
    private static (DenseMatrix? Gram, DenseMatrix? Cross) Slabs(int n, int d, int c, bool gram, bool cross, Action<int, int, double[], double[]> fillSlab,
        double[]? gramInto = null)
    {
        var g = gram ? Zeroed(d, d, gramInto) : null;
        var xy = cross ? new DenseMatrix(d, c) : null;
        int slab = Math.Min(n, ChunkLength);
        // The slabs are rented up to 1 MB each: a ridge probe makes hundreds of these products, and fresh 0.4-1 MB
        // slabs each time were large-object churn the GC had to sweep. Wider ones (3.7 MB for an 896-wide
        // representation of a long document, one product per representation) are new: the shared pool would keep
        // one per thread for good. fillSlab writes every value read (d × tl and c × tl).
        var xs = RentScratch(d * slab);
        var ys = RentScratch(c * slab);
        try
        {
            for (int t0 = 0; t0 < n; t0 += ChunkLength)
            {
                int tl = Math.Min(ChunkLength, n - t0);
                fillSlab(t0, tl, xs, ys);
                if (g != null) RowDots(xs, d, xs, d, tl, g.Data, symmetric: true, mirror: false);
                if (xy != null) RowDots(xs, d, ys, c, tl, xy.Data, symmetric: false, mirror: false);
            }
        }
        finally
        {
            ReturnScratch(xs);
            ReturnScratch(ys);
        }
        if (g != null) MirrorUpper(g.Data, d);
        return (g, xy);
    }

    /// <summary>Largest scratch array rented from the shared pool (1 MB), which keeps what it is given for good (one
    /// or more per thread): larger ones are new, and garbage once used.</summary>
    private const int PooledScratchValues = 1 << 17;

    /// <summary>Scratch of at least <paramref name="values"/> doubles, uninitialised (callers write every value they
    /// read): the shared pool's up to <see cref="PooledScratchValues"/>, else a new array.</summary>
    private static double[] RentScratch(int values) => values <= PooledScratchValues
        ? System.Buffers.ArrayPool<double>.Shared.Rent(values)
        : GC.AllocateUninitializedArray<double>(values);

    /// <summary>Gives back what <see cref="RentScratch"/> handed out (a rented array is at most the pooled size, a new
    /// one larger).</summary>
    private static void ReturnScratch(double[] a)
    {
        if (a.Length <= PooledScratchValues) System.Buffers.ArrayPool<double>.Shared.Return(a);
    }

    // dst[j * tl + t] = x[t0 + t, j]: rows t0 .. t0 + tl − 1 of x as the columns of a Cols × tl matrix.
    private static void TransposeRows(DenseMatrix x, int t0, int tl, double[] dst)
    {
        int cols = x.Cols;
        var data = x.Data;
        for (int t = 0; t < tl; t++)
        {
            int row = (t0 + t) * cols;
            for (int j = 0; j < cols; j++) dst[j * tl + t] = data[row + j];
        }
    }

    /// <summary>The feature Gram matrix XᵀX (Cols × Cols), exactly symmetric.</summary>
    public static DenseMatrix FeatureGram(DenseMatrix x) => TransposeMultiply(x, x);

    /// <summary>The sample Gram matrix X·Xᵀ (Rows × Rows), exactly symmetric.</summary>
    public static DenseMatrix SampleGram(DenseMatrix x) => MultiplyTransposed(x, x);

    /// <summary>
    /// Rows <paramref name="r0"/> .. <paramref name="r1"/> − 1 of <see cref="SampleGram"/>(x) from the first column of
    /// each row's <see cref="RowPanel"/>-row panel on (so from its diagonal on, the upper triangle), into
    /// <paramref name="into"/> with row stride n − r0: entry (i, j) at (i − r0)·(n − r0) + j − r0. Every entry is the
    /// whole product's bit for bit, because the band's rows fall in the same panels and its columns in the same tiles:
    /// r0 must be a multiple of <see cref="RowPanel"/>, and so must r1 unless it is n.
    /// </summary>
    public static void SampleGramBand(DenseMatrix x, int r0, int r1, double[] into)
    {
        int n = x.Rows;
        if (r0 % RowPanel != 0 || (r1 != n && r1 % RowPanel != 0) || r0 < 0 || r1 > n || r0 >= r1)
            throw new ArgumentException($"band {r0}..{r1} of {n} rows: both ends must be multiples of {RowPanel} (or the end n)");
        int p = r1 - r0, q = n - r0;
        if (into.Length < (long)p * q) throw new ArgumentException($"the band needs {(long)p * q} values, got {into.Length}");
        into.AsSpan(0, p * q).Clear();
        RowDots(x.Data, p, x.Data, q, x.Cols, into, symmetric: true, mirror: false, first: r0);
    }

    /// <summary>Sample covariance of the columns (centered, divided by n−1). Needs at least 2 rows.</summary>
    public static DenseMatrix Covariance(DenseMatrix x)
    {
        if (x.Rows < 2) throw new MspgtException("covariance", $"needs at least 2 samples, got {x.Rows}");
        var g = FeatureGram(Center(x));
        TensorPrimitives.Divide(g.Data, x.Rows - 1, g.Data);
        return g;
    }

    /// <summary>Sum of squares of all entries (squared Frobenius norm).</summary>
    public static double FrobeniusSquared(DenseMatrix x) => TensorPrimitives.Dot<double>(x.Data, x.Data);

    private static void RequireSquare(DenseMatrix a, string source)
    {
        if (a.Rows != a.Cols) throw new MspgtException(source, $"matrix must be square, got {a.Rows}x{a.Cols}");
    }
}
