using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mspgt.Numerics;

/// <summary>Eigen-decomposition of a symmetric matrix: <c>A = V diag(Values) Vᵀ</c>.</summary>
/// <param name="Values">Eigenvalues, largest first.</param>
/// <param name="Vectors">Orthonormal eigenvectors as columns, in the order of <paramref name="Values"/>.</param>
public sealed record SymmetricEigen(double[] Values, DenseMatrix Vectors);

/// <summary>
/// The small dense linear algebra mspgt needs, in double precision: products, covariance, Cholesky, log-determinant
/// and the symmetric eigen-decomposition (Householder tridiagonalisation + implicit QL). Every result is
/// deterministic: parallel loops only split the output, never a sum.
/// </summary>
public static class LinearAlgebra
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
        DenseMatrix c;
        if (into == null) c = new DenseMatrix(a.Rows, b.Rows);
        else
        {
            c = new DenseMatrix(a.Rows, b.Rows, into);
            Array.Clear(into);   // the row dots add into c
        }
        bool symmetric = ReferenceEquals(a, b);
        RowDots(a.Data, a.Rows, b.Data, b.Rows, a.Cols, c.Data, symmetric, mirror: symmetric);
        return c;
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
    public static (DenseMatrix Gram, DenseMatrix? Cross) SlabProducts(int n, int d, int c, Action<int, int, double[], double[]> fillSlab)
    {
        var (gram, cross) = Slabs(n, d, c, gram: true, cross: c > 0, fillSlab);
        return (gram!, cross);
    }

    // XᵀX (when gram) and XᵀY (when cross) summed slab by slab, each slab one RowDots chunk.
    private static (DenseMatrix? Gram, DenseMatrix? Cross) Slabs(int n, int d, int c, bool gram, bool cross, Action<int, int, double[], double[]> fillSlab)
    {
        var g = gram ? new DenseMatrix(d, d) : null;
        var xy = cross ? new DenseMatrix(d, c) : null;
        int slab = Math.Min(n, ChunkLength);
        // The slabs are rented: a ridge probe makes hundreds of these products, and fresh 0.4-1 MB slabs each time
        // were large-object churn the GC had to sweep. fillSlab writes every value read (d × tl and c × tl).
        var xs = System.Buffers.ArrayPool<double>.Shared.Rent(d * slab);
        var ys = System.Buffers.ArrayPool<double>.Shared.Rent(c * slab);
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
            System.Buffers.ArrayPool<double>.Shared.Return(xs);
            System.Buffers.ArrayPool<double>.Shared.Return(ys);
        }
        if (g != null) MirrorUpper(g.Data, d);
        return (g, xy);
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

    // C[i*q + j] = Σ_t a[i*len + t] · b[j*len + t]. Blocked for cache (panels of A rows, chunks of t) and split over
    // panels of rows of C, so every entry is summed by one thread in one fixed order. With symmetric (a == b) only the
    // upper triangle is computed, then mirrored.
    private const int PanelRows = 32;
    private const int ChunkLength = 512;

    private static void RowDots(double[] a, int p, double[] b, int q, int len, double[] c, bool symmetric, bool mirror)
    {
        if (p == 0 || q == 0) return;
        int panels = (p + PanelRows - 1) / PanelRows;
        long work = (long)p * q * len;
        var options = new ParallelOptions { MaxDegreeOfParallelism = work < 1_000_000 ? 1 : Parallelism.Threads };
        Parallel.For(0, panels, options, panel =>
        {
            int i0 = panel * PanelRows, i1 = Math.Min(p, i0 + PanelRows);
            int jStart = symmetric ? i0 : 0;
            for (int t0 = 0; t0 < len; t0 += ChunkLength)
            {
                int tl = Math.Min(ChunkLength, len - t0);
                int j = jStart;
                while (j + 2 <= q)
                {
                    // Four columns at once where the registers allow (32 with AVX-512): each entry is summed exactly
                    // as Tile4x2 sums it, so which tile an entry falls in never changes its value.
                    int width = WideTiles && j + 4 <= q ? 4 : 2;
                    int i = i0;
                    for (; i + 4 <= i1; i += 4)
                        if (width == 4) Tile4x4(a, b, c, q, len, i, j, t0, tl);
                        else Tile4x2(a, b, c, q, len, i, j, t0, tl);
                    for (; i < i1; i++)
                    {
                        var ai = a.AsSpan(i * len + t0, tl);
                        for (int jj = j; jj < j + width; jj++)
                            c[i * q + jj] += TensorPrimitives.Dot<double>(ai, b.AsSpan(jj * len + t0, tl));
                    }
                    j += width;
                }
                for (; j < q; j++)
                    for (int i = i0; i < i1; i++)
                        c[i * q + j] += TensorPrimitives.Dot<double>(a.AsSpan(i * len + t0, tl), b.AsSpan(j * len + t0, tl));
            }
        });
        if (mirror) MirrorUpper(c, p);
    }

    /// <summary>The lower triangle of a square p × p matrix from its upper one (exact symmetry).</summary>
    internal static void MirrorUpper(double[] c, int p)
    {
        for (int i = 0; i < p; i++)
            for (int j = 0; j < i; j++)
                c[i * p + j] = c[j * p + i];
    }

    /// <summary>Whether <see cref="RowDots"/> may use <see cref="Tile4x4"/> (tests turn it off to compare).</summary>
    internal static bool WideTiles = Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Tile4x2 for columns j, j + 1 and again for j + 2, j + 3 in one pass over t: the same per-entry sums (vector lanes
    /// of Vector&lt;double&gt; accumulated with the same multiply-add in t order, then summed, then the scalar tail), so
    /// the same bits, with each row of A loaded once for four columns instead of two. 16 accumulators, 4 column
    /// vectors and a row vector need the 32 registers of AVX-512: 1.2-1.5× the throughput there (1 thread, Grams of
    /// 170-4,096 rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile4x4(double[] a, double[] b, double[] c, int q, int len, int i, int j, int t0, int tl)
    {
        fixed (double* pa = a, pb = b)
        {
            double* a0 = pa + (long)i * len + t0, a1 = a0 + len, a2 = a1 + len, a3 = a2 + len;
            double* b0 = pb + (long)j * len + t0, b1 = b0 + len, b2 = b1 + len, b3 = b2 + len;
            int w = Vector<double>.Count;
            Vector<double> s00 = default, s01 = default, s02 = default, s03 = default,
                           s10 = default, s11 = default, s12 = default, s13 = default,
                           s20 = default, s21 = default, s22 = default, s23 = default,
                           s30 = default, s31 = default, s32 = default, s33 = default;
            int t = 0;
            // Two moving pointers and a stride address all eight rows: fewer live integer registers than eight.
            long stride = len;
            double* pa0 = a0, pb0 = b0;
            for (; t + w <= tl; t += w, pa0 += w, pb0 += w)
            {
                var y0 = Vector.Load(pb0); var y1 = Vector.Load(pb0 + stride);
                var y2 = Vector.Load(pb0 + 2 * stride); var y3 = Vector.Load(pb0 + 3 * stride);
                var x = Vector.Load(pa0);
                s00 = Vector.MultiplyAddEstimate(x, y0, s00); s01 = Vector.MultiplyAddEstimate(x, y1, s01);
                s02 = Vector.MultiplyAddEstimate(x, y2, s02); s03 = Vector.MultiplyAddEstimate(x, y3, s03);
                x = Vector.Load(pa0 + stride);
                s10 = Vector.MultiplyAddEstimate(x, y0, s10); s11 = Vector.MultiplyAddEstimate(x, y1, s11);
                s12 = Vector.MultiplyAddEstimate(x, y2, s12); s13 = Vector.MultiplyAddEstimate(x, y3, s13);
                x = Vector.Load(pa0 + 2 * stride);
                s20 = Vector.MultiplyAddEstimate(x, y0, s20); s21 = Vector.MultiplyAddEstimate(x, y1, s21);
                s22 = Vector.MultiplyAddEstimate(x, y2, s22); s23 = Vector.MultiplyAddEstimate(x, y3, s23);
                x = Vector.Load(pa0 + 3 * stride);
                s30 = Vector.MultiplyAddEstimate(x, y0, s30); s31 = Vector.MultiplyAddEstimate(x, y1, s31);
                s32 = Vector.MultiplyAddEstimate(x, y2, s32); s33 = Vector.MultiplyAddEstimate(x, y3, s33);
            }
            // Every sum is taken before the first call: accumulators live across a call would be spilled inside
            // the loop (every vector register is caller-saved).
            double r00 = Vector.Sum(s00), r01 = Vector.Sum(s01), r02 = Vector.Sum(s02), r03 = Vector.Sum(s03),
                   r10 = Vector.Sum(s10), r11 = Vector.Sum(s11), r12 = Vector.Sum(s12), r13 = Vector.Sum(s13),
                   r20 = Vector.Sum(s20), r21 = Vector.Sum(s21), r22 = Vector.Sum(s22), r23 = Vector.Sum(s23),
                   r30 = Vector.Sum(s30), r31 = Vector.Sum(s31), r32 = Vector.Sum(s32), r33 = Vector.Sum(s33);
            AddRowTail(a0, b0, b1, b2, b3, t, tl, r00, r01, r02, r03, c, (long)i * q + j);
            AddRowTail(a1, b0, b1, b2, b3, t, tl, r10, r11, r12, r13, c, (long)(i + 1) * q + j);
            AddRowTail(a2, b0, b1, b2, b3, t, tl, r20, r21, r22, r23, c, (long)(i + 2) * q + j);
            AddRowTail(a3, b0, b1, b2, b3, t, tl, r30, r31, r32, r33, c, (long)(i + 3) * q + j);
        }
    }

    // The scalar tail t .. tl − 1 of one row of a Tile4x4, then its four sums added into C, as Tile4x2 does per pair.
    private static unsafe void AddRowTail(double* ar, double* b0, double* b1, double* b2, double* b3, int t, int tl,
        double r0, double r1, double r2, double r3, double[] c, long at)
    {
        for (int u = t; u < tl; u++)
        {
            r0 += ar[u] * b0[u]; r1 += ar[u] * b1[u];
            r2 += ar[u] * b2[u]; r3 += ar[u] * b3[u];
        }
        c[at] += r0; c[at + 1] += r1; c[at + 2] += r2; c[at + 3] += r3;
    }

    private static void Tile4x2(double[] a, double[] b, double[] c, int q, int len, int i, int j, int t0, int tl)
    {
        var a0 = a.AsSpan(i * len + t0, tl);
        var a1 = a.AsSpan((i + 1) * len + t0, tl);
        var a2 = a.AsSpan((i + 2) * len + t0, tl);
        var a3 = a.AsSpan((i + 3) * len + t0, tl);
        var b0 = b.AsSpan(j * len + t0, tl);
        var b1 = b.AsSpan((j + 1) * len + t0, tl);
        int w = Vector<double>.Count;
        Vector<double> s00 = default, s01 = default, s10 = default, s11 = default,
                       s20 = default, s21 = default, s30 = default, s31 = default;
        int t = 0;
        for (; t + w <= tl; t += w)
        {
            var y0 = new Vector<double>(b0.Slice(t));
            var y1 = new Vector<double>(b1.Slice(t));
            var x = new Vector<double>(a0.Slice(t));
            s00 = Vector.MultiplyAddEstimate(x, y0, s00); s01 = Vector.MultiplyAddEstimate(x, y1, s01);
            x = new Vector<double>(a1.Slice(t));
            s10 = Vector.MultiplyAddEstimate(x, y0, s10); s11 = Vector.MultiplyAddEstimate(x, y1, s11);
            x = new Vector<double>(a2.Slice(t));
            s20 = Vector.MultiplyAddEstimate(x, y0, s20); s21 = Vector.MultiplyAddEstimate(x, y1, s21);
            x = new Vector<double>(a3.Slice(t));
            s30 = Vector.MultiplyAddEstimate(x, y0, s30); s31 = Vector.MultiplyAddEstimate(x, y1, s31);
        }
        double r00 = Vector.Sum(s00), r01 = Vector.Sum(s01), r10 = Vector.Sum(s10), r11 = Vector.Sum(s11),
               r20 = Vector.Sum(s20), r21 = Vector.Sum(s21), r30 = Vector.Sum(s30), r31 = Vector.Sum(s31);
        for (; t < tl; t++)
        {
            r00 += a0[t] * b0[t]; r01 += a0[t] * b1[t];
            r10 += a1[t] * b0[t]; r11 += a1[t] * b1[t];
            r20 += a2[t] * b0[t]; r21 += a2[t] * b1[t];
            r30 += a3[t] * b0[t]; r31 += a3[t] * b1[t];
        }
        c[i * q + j] += r00; c[i * q + j + 1] += r01;
        c[(i + 1) * q + j] += r10; c[(i + 1) * q + j + 1] += r11;
        c[(i + 2) * q + j] += r20; c[(i + 2) * q + j + 1] += r21;
        c[(i + 3) * q + j] += r30; c[(i + 3) * q + j + 1] += r31;
    }

    // ---------------------------------------------------------------- Cholesky

    /// <summary>
    /// The lower-triangular L with A = L·Lᵀ for a symmetric positive-definite A (only the lower triangle of A is
    /// read). Throws <see cref="MspgtException"/> when A is not positive definite.
    /// </summary>
    public static DenseMatrix Cholesky(DenseMatrix a, string source = "cholesky") => Cholesky(a, new DenseMatrix(a.Rows, a.Cols), source);

    /// <summary>
    /// <see cref="Cholesky(DenseMatrix, string)"/> written over A's own lower triangle (its upper triangle is left
    /// as it was and never read by the solves), for a caller that has no further use for A: the same values, bit for
    /// bit, without a second n × n array (a ridge probe fits hundreds of 256 × 256 systems).
    /// </summary>
    public static DenseMatrix CholeskyInPlace(DenseMatrix a, string source = "cholesky") => Cholesky(a, a, source);

    // Entry (i, j) of A is read once, just before L's entry (i, j) is written, so l may be a itself.
    private static DenseMatrix Cholesky(DenseMatrix a, DenseMatrix l, string source)
    {
        RequireSquare(a, source);
        int n = a.Rows;
        for (int i = 0; i < n; i++)
        {
            var li = l.Data.AsSpan(i * n, n);
            for (int j = 0; j <= i; j++)
            {
                var lj = l.Data.AsSpan(j * n, j);
                double s = a[i, j] - TensorPrimitives.Dot<double>(li.Slice(0, j), lj);
                if (i == j)
                {
                    if (!(s > 0) || !double.IsFinite(s))
                        throw new MspgtException(source, $"matrix is not positive definite (pivot {i} is {s:G6})");
                    li[i] = Math.Sqrt(s);
                }
                else li[j] = s / l[j, j];
            }
        }
        return l;
    }

    /// <summary>Solves A·x = b given the Cholesky factor L of A.</summary>
    public static double[] CholeskySolve(DenseMatrix l, ReadOnlySpan<double> b)
    {
        int n = l.Rows;
        if (b.Length != n) throw new ArgumentException($"right-hand side has {b.Length} values, expected {n}");
        var x = b.ToArray();
        ForwardSubstitute(l, x);
        for (int i = n - 1; i >= 0; i--)   // Lᵀ x = y
        {
            double s = x[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }

    /// <summary>
    /// Solves A·X = B (each column of B) given the Cholesky factor L of A: every column exactly as the one-column
    /// <see cref="CholeskySolve(DenseMatrix, ReadOnlySpan{double})"/> solves it, bit for bit. The forward sweep runs
    /// per column on contiguous rows of L; the backward sweep, whose one-column form walks down a column of L one
    /// scalar at a time, runs on all columns at once, row by row of X (same terms, same order per column), which
    /// made a ridge probe's solve (256 features, 7–50 classes) about 5× faster.
    /// </summary>
    public static DenseMatrix CholeskySolve(DenseMatrix l, DenseMatrix b)
    {
        int n = l.Rows, m = b.Cols;
        if (b.Rows != n) throw new ArgumentException($"right-hand side has {b.Rows} rows, expected {n}");
        var yt = b.Transpose();   // m × n: column c of B as a row
        for (int c = 0; c < m; c++) ForwardSubstitute(l, yt.Row(c));
        var x = yt.Transpose();   // n × m
        var acc = new double[m];
        var ld = l.Data;
        for (int i = n - 1; i >= 0; i--)   // Lᵀ x = y: x[i] = (y[i] − Σ_{k>i} L[k,i]·x[k]) / L[i,i], k ascending
        {
            var xi = x.Row(i);
            xi.CopyTo(acc);
            // acc −= L[k,i]·x[k] as acc + x[k]·(−L[k,i]): MultiplyAdd rounds the product before the addition, so each
            // column gets the one-column solve's `s -= l * x` exactly (the negation is exact).
            for (int k = i + 1; k < n; k++) TensorPrimitives.MultiplyAdd(x.Row(k), -ld[k * n + i], acc, acc);
            double d = ld[i * n + i];
            for (int c = 0; c < m; c++) xi[c] = acc[c] / d;
        }
        return x;
    }

    /// <summary>L y = b in place (y holds b on entry): the forward sweep both solves run.</summary>
    private static void ForwardSubstitute(DenseMatrix l, Span<double> y)
    {
        int n = l.Rows;
        for (int i = 0; i < n; i++)
            y[i] = (y[i] - TensorPrimitives.Dot<double>(l.Data.AsSpan(i * n, i), y.Slice(0, i))) / l.Data[i * n + i];
    }

    /// <summary>log det A for a symmetric positive-definite A (natural log), via Cholesky.</summary>
    public static double LogDeterminant(DenseMatrix a, string source = "log-determinant")
    {
        var l = Cholesky(a, source);
        double s = 0;
        for (int i = 0; i < l.Rows; i++) s += Math.Log(l[i, i]);
        return 2 * s;
    }

    // ---------------------------------------------------------------- symmetric eigen-decomposition

    /// <summary>
    /// Eigenvalues and eigenvectors of a symmetric matrix (Householder tridiagonalisation, then implicit QL with
    /// Wilkinson-type shifts). O(d³): d = 256 takes about 10 ms, d = 1024 a second or so; when only the leading
    /// vectors are needed, <see cref="SymmetricEigen(DenseMatrix, int)"/> costs about a third of that.
    /// Only symmetry up to rounding is assumed; the upper triangle is what is read.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a) => Decompose(a, a.Rows);

    /// <summary>
    /// Every eigenvalue (largest first) and the eigenvectors of the <paramref name="vectors"/> largest only
    /// (<see cref="SymmetricEigen.Vectors"/> is n × min(vectors, n)). The QL iteration runs without vectors, keeping
    /// its plane rotations; each wanted eigenvector is then e_j taken back through those rotations and the
    /// Householder reflections. That is the full decomposition's own product of orthogonal factors applied to one
    /// vector instead of to the identity, so the vectors are the same (to round-off, also inside clusters of equal
    /// eigenvalues) for O(n²) per vector after the O(n³) tridiagonalisation, instead of about 3n³ more for all of them.
    /// </summary>
    public static SymmetricEigen SymmetricEigen(DenseMatrix a, int vectors) =>
        Decompose(a, Math.Clamp(vectors, 0, a.Rows));

    /// <summary>Eigenvalues only (largest first); much cheaper than <see cref="SymmetricEigen(DenseMatrix)"/>.</summary>
    public static double[] SymmetricEigenvalues(DenseMatrix a) => Decompose(a, 0).Values;

    private static SymmetricEigen Decompose(DenseMatrix input, int wanted)
    {
        RequireSquare(input, "eigen-decomposition");
        RequireFinite(input, "eigen-decomposition");
        int n = input.Rows;
        var a = input.Clone();   // only its upper triangle (j ≥ i) is read and kept up to date below

        var diag = new double[n];
        var off = new double[n];            // off[i] = T[i, i+1]; off[n-1] = 0
        var householder = new List<(int Start, double[] V)>();
        var p = new double[n];
        var w = new double[n];
        for (int k = 0; k + 2 < n; k++)
        {
            // Reflect x = A[k, k+1..] (row k right of the diagonal) onto alpha·e1.
            int m = n - k - 1, s0 = k + 1;
            var x = a.Data.AsSpan(k * n + s0, m);
            double norm = TensorPrimitives.Norm<double>(x);
            double tailNorm = m > 1 ? TensorPrimitives.Norm<double>(x.Slice(1)) : 0;
            if (tailNorm == 0) { off[k] = x[0]; continue; }
            double alpha = x[0] > 0 ? -norm : norm;
            var v = x.ToArray();
            v[0] -= alpha;
            double vn = TensorPrimitives.Norm<double>(v);
            TensorPrimitives.Divide(v, vn, v);
            householder.Add((s0, v));
            off[k] = alpha;
            // A22 ← H A22 H with H = I − 2vvᵀ:  p = A22 v,  w = p − (vᵀp) v,  A22 −= 2(v wᵀ + w vᵀ), on the upper
            // triangle of A22 only (half the memory traffic of the full square).
            var ps = p.AsSpan(0, m);
            ps.Clear();
            for (int i = 0; i < m; i++)
            {
                var row = a.Data.AsSpan((s0 + i) * n + s0 + i, m - i);   // row[0] is the diagonal
                ps[i] += row[0] * v[i] + SymmetricRowProduct(row.Slice(1), v.AsSpan(i + 1), v[i], ps.Slice(i + 1));
            }
            double kk = TensorPrimitives.Dot<double>(ps, v);
            var ws = w.AsSpan(0, m);
            for (int i = 0; i < m; i++) ws[i] = ps[i] - kk * v[i];
            for (int i = 0; i < m; i++)
                RankTwoUpdate(a.Data.AsSpan((s0 + i) * n + s0 + i, m - i), ws.Slice(i), v.AsSpan(i), -2 * v[i], -2 * ws[i]);
        }
        for (int i = 0; i < n; i++) diag[i] = a[i, i];
        if (n >= 2) off[n - 2] = a[n - 2, n - 1];
        if (n >= 1) off[n - 1] = 0;

        // zt holds the eigenvectors as ROWS so the QL rotations touch contiguous memory. It starts as Qᵀ = H_m…H_0.
        bool all = wanted == n;
        DenseMatrix? zt = null;
        if (all)
        {
            zt = DenseMatrix.Identity(n);
            var tmp = new double[n];
            foreach (var (start, v) in householder)
            {
                // zt ← H zt, H = I − 2vvᵀ acting on rows start..n-1
                Array.Clear(tmp);
                for (int i = 0; i < v.Length; i++) TensorPrimitives.MultiplyAdd(zt.Row(start + i), v[i], tmp, tmp);
                for (int i = 0; i < v.Length; i++) TensorPrimitives.MultiplyAdd(tmp, -2 * v[i], zt.Row(start + i), zt.Row(start + i));
            }
        }

        var rotations = !all && wanted > 0 ? new RotationLog() : null;
        TridiagonalQl(diag, off, zt, rotations);

        var order = Enumerable.Range(0, n).OrderByDescending(i => diag[i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => diag[i]).ToArray();
        var vecs = new DenseMatrix(n, wanted);
        if (zt != null)
            for (int c = 0; c < n; c++)
            {
                var src = zt.Row(order[c]);
                for (int r = 0; r < n; r++) vecs.Data[r * n + c] = src[r];
            }
        else if (rotations != null) BackTransform(order, rotations, householder, vecs);
        return new SymmetricEigen(values, vecs);
    }

    /// <summary>One QL plane rotation: rows (I, I+1) of the vector matrix zt ← (C·zi − S·zi1, S·zi + C·zi1).</summary>
    private readonly record struct PlaneRotation(int I, double C, double S);

    /// <summary>
    /// QL's rotations in order (about n² of them: 69k, 1.7 MB, for n = 255), kept in chunks small enough for the
    /// young generation (2,048 rotations, 48 KB). One growing list per decomposition cost more than the QL
    /// arithmetic itself (9 against 1.3 ms at n = 255 on the 2-core VM): its doublings put about 6 MB of
    /// large-object arrays on fresh pages each time, and that garbage brought full collections.
    /// </summary>
    private sealed class RotationLog
    {
        private const int ChunkSize = 2048;
        private readonly List<PlaneRotation[]> _chunks = [];
        private int _last = ChunkSize;   // entries used in the last chunk

        public void Add(PlaneRotation r)
        {
            if (_last == ChunkSize) { _chunks.Add(new PlaneRotation[ChunkSize]); _last = 0; }
            _chunks[^1][_last++] = r;
        }

        public int ChunkCount => _chunks.Count;
        public PlaneRotation[] Chunk(int i) => _chunks[i];
        public int Used(int i) => i == _chunks.Count - 1 ? _last : ChunkSize;
    }

    // Row j of the final zt = e_jᵀ G_N…G_1 Qᵀ, i.e. the eigenvector is Q G_1ᵀ…G_Nᵀ e_j with Q = H_0…H_m: apply the
    // transposed rotations last to first, then the reflections last to first, to all wanted e_j at once (the rows
    // of the n × k result are contiguous k-vectors).
    private static void BackTransform(int[] order, RotationLog rotations, List<(int Start, double[] V)> householder, DenseMatrix y)
    {
        int k = y.Cols;
        for (int c = 0; c < k; c++) y[order[c], c] = 1;
        for (int chunk = rotations.ChunkCount - 1; chunk >= 0; chunk--)
        {
            var rs = rotations.Chunk(chunk);
            for (int r = rotations.Used(chunk) - 1; r >= 0; r--)
            {
                var (i, co, si) = rs[r];
                Rotate(y.Row(i + 1), y.Row(i), co, si);   // (y_i, y_i1) ← (c·y_i + s·y_i1, c·y_i1 − s·y_i)
            }
        }
        var t = new double[k];
        for (int h = householder.Count - 1; h >= 0; h--)
        {
            var (start, v) = householder[h];
            Array.Clear(t);
            for (int r = 0; r < v.Length; r++) TensorPrimitives.MultiplyAdd(y.Row(start + r), v[r], t, t);
            for (int r = 0; r < v.Length; r++) TensorPrimitives.MultiplyAdd(t, -2 * v[r], y.Row(start + r), y.Row(start + r));
        }
    }

    // Returns Σ row[t]·v[t] and adds vi·row[t] to p[t]: one pass over the strict upper part of a row serves both its
    // own entry of A·v and (by symmetry) the column's contributions to the entries below.
    private static double SymmetricRowProduct(ReadOnlySpan<double> row, ReadOnlySpan<double> v, double vi, Span<double> p)
    {
        int t = 0, wd = Vector<double>.Count, len = row.Length;
        var acc = Vector<double>.Zero;
        var vvi = new Vector<double>(vi);
        for (; t + wd <= len; t += wd)
        {
            var r = new Vector<double>(row.Slice(t));
            acc = Vector.MultiplyAddEstimate(r, new Vector<double>(v.Slice(t)), acc);
            Vector.MultiplyAddEstimate(r, vvi, new Vector<double>(p.Slice(t))).CopyTo(p.Slice(t));
        }
        double sum = Vector.Sum(acc);
        for (; t < len; t++)
        {
            sum += row[t] * v[t];
            p[t] += vi * row[t];
        }
        return sum;
    }

    // row[t] += cw·w[t] + cv·v[t]
    private static void RankTwoUpdate(Span<double> row, ReadOnlySpan<double> w, ReadOnlySpan<double> v, double cw, double cv)
    {
        int t = 0, wd = Vector<double>.Count, len = row.Length;
        var vcw = new Vector<double>(cw);
        var vcv = new Vector<double>(cv);
        for (; t + wd <= len; t += wd)
        {
            var r = Vector.MultiplyAddEstimate(new Vector<double>(w.Slice(t)), vcw, new Vector<double>(row.Slice(t)));
            Vector.MultiplyAddEstimate(new Vector<double>(v.Slice(t)), vcv, r).CopyTo(row.Slice(t));
        }
        for (; t < len; t++) row[t] = row[t] + cw * w[t] + cv * v[t];
    }

    // Implicit QL on the symmetric tridiagonal (d, e) with e[i] = T[i,i+1] (EISPACK tql2 scheme). Rotations are applied
    // to the rows of zt when given.
    private static void TridiagonalQl(double[] d, double[] e, DenseMatrix? zt, RotationLog? rotations)
    {
        int n = d.Length;
        double f = 0, tst1 = 0;
        const double eps = 2.220446049250313e-16;
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > eps * tst1) m++;
            if (m > l)
            {
                int iter = 0;
                do
                {
                    if (++iter > 100) throw new InvalidOperationException("symmetric eigen-decomposition did not converge");
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;

                    p = d[m];
                    double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2; c2 = c; s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        if (zt != null)
                        {
                            // (row i, row i+1) ← (c·zi − s·zi1, s·zi + c·zi1)
                            Rotate(zt.Row(i), zt.Row(i + 1), c, s);
                        }
                        rotations?.Add(new PlaneRotation(i, c, s));
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }

    /// <summary>(zi, zi1) ← (c·zi − s·zi1, s·zi + c·zi1), vectorised with separate multiplies and adds (no fused
    /// multiply-add), so every element is rounded exactly as the scalar expression rounds it.</summary>
    private static void Rotate(Span<double> zi, Span<double> zi1, double c, double s)
    {
        int k = 0, w = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (; k + w <= zi.Length; k += w)
            {
                var a = new Vector<double>(zi.Slice(k));
                var b = new Vector<double>(zi1.Slice(k));
                (vs * a + vc * b).CopyTo(zi1.Slice(k));
                (vc * a - vs * b).CopyTo(zi.Slice(k));
            }
        }
        for (; k < zi.Length; k++)
        {
            double hk = zi1[k];
            zi1[k] = s * zi[k] + c * hk;
            zi[k] = c * zi[k] - s * hk;
        }
    }

    private static double Hypot(double a, double b)
    {
        double aa = Math.Abs(a), bb = Math.Abs(b);
        if (aa < bb) (aa, bb) = (bb, aa);
        if (aa == 0) return 0;
        double r = bb / aa;
        return aa * Math.Sqrt(1 + r * r);
    }

    private static void RequireSquare(DenseMatrix a, string source)
    {
        if (a.Rows != a.Cols) throw new MspgtException(source, $"matrix must be square, got {a.Rows}x{a.Cols}");
    }
}
