using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>
/// A dense row-major matrix of doubles: row <c>i</c> is <c>Data[i*Cols .. (i+1)*Cols)</c>. Samples are rows and
/// features are columns throughout mspgt (n samples × d features).
/// </summary>
public sealed class DenseMatrix
{
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Row-major storage, length Rows*Cols. Shared, not copied: writes change the matrix.</summary>
    public double[] Data { get; }

    public DenseMatrix(int rows, int cols)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), "matrix dimensions must be non-negative");
        Rows = rows;
        Cols = cols;
        Data = new double[checked(rows * cols)];
    }

    /// <summary>Wraps <paramref name="data"/> (row-major, length rows*cols) without copying.</summary>
    public DenseMatrix(int rows, int cols, double[] data)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), "matrix dimensions must be non-negative");
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"data has {data.Length} values, a {rows}x{cols} matrix needs {(long)rows * cols}", nameof(data));
        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public double this[int row, int col]
    {
        get => Data[row * Cols + col];
        set => Data[row * Cols + col] = value;
    }

    public Span<double> Row(int i)
    {
        if ((uint)i >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(i));
        return Data.AsSpan(i * Cols, Cols);
    }

    public static DenseMatrix Identity(int n)
    {
        var m = new DenseMatrix(n, n);
        for (int i = 0; i < n; i++) m.Data[i * n + i] = 1.0;
        return m;
    }

    /// <summary>Copies jagged rows (all of one length) into a new matrix.</summary>
    public static DenseMatrix FromRows(IReadOnlyList<double[]> rows)
    {
        int n = rows.Count;
        int d = n == 0 ? 0 : rows[0].Length;
        var m = new DenseMatrix(n, d);
        for (int i = 0; i < n; i++)
        {
            if (rows[i].Length != d)
                throw new MspgtException("matrix", $"row {i} has {rows[i].Length} values, expected {d} like row 0");
            rows[i].CopyTo(m.Data, i * d);
        }
        return m;
    }

    /// <summary>Widens row-major float32 values (e.g. model activations) to a new double matrix, stored in
    /// <paramref name="into"/> (length rows·cols) when given.</summary>
    public static DenseMatrix FromFloats(ReadOnlySpan<float> rowMajor, int rows, int cols, double[]? into = null)
    {
        if (rows < 0 || cols < 0 || rowMajor.Length != (long)rows * cols)
            throw new MspgtException("matrix", $"{rowMajor.Length} float values do not form a {rows}x{cols} matrix");
        var m = into == null ? new DenseMatrix(rows, cols) : new DenseMatrix(rows, cols, into);
        TensorPrimitives.ConvertChecked<float, double>(rowMajor, m.Data);   // exact widening, vectorised
        return m;
    }

    /// <summary>Copies jagged float rows (all of one length) into a new double matrix.</summary>
    public static DenseMatrix FromRows(IReadOnlyList<float[]> rows)
    {
        int n = rows.Count;
        int d = n == 0 ? 0 : rows[0].Length;
        var m = new DenseMatrix(n, d);
        for (int i = 0; i < n; i++)
        {
            if (rows[i].Length != d)
                throw new MspgtException("matrix", $"row {i} has {rows[i].Length} values, expected {d} like row 0");
            var dst = m.Row(i);
            for (int j = 0; j < d; j++) dst[j] = rows[i][j];
        }
        return m;
    }

    public DenseMatrix Clone() => new(Rows, Cols, (double[])Data.Clone());

    public DenseMatrix Transpose()
    {
        var t = new DenseMatrix(Cols, Rows);
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++)
                t.Data[j * Rows + i] = Data[i * Cols + j];
        return t;
    }

    /// <summary>The rows listed in <paramref name="indices"/>, in that order, as a new matrix.</summary>
    public DenseMatrix SelectRows(ReadOnlySpan<int> indices)
    {
        var m = new DenseMatrix(indices.Length, Cols);
        for (int r = 0; r < indices.Length; r++) Row(indices[r]).CopyTo(m.Row(r));
        return m;
    }

    /// <summary>The first <paramref name="count"/> columns as a new matrix.</summary>
    public DenseMatrix LeadingColumns(int count)
    {
        if (count < 0 || count > Cols) throw new ArgumentOutOfRangeException(nameof(count));
        var m = new DenseMatrix(Rows, count);
        for (int i = 0; i < Rows; i++) Data.AsSpan(i * Cols, count).CopyTo(m.Row(i));
        return m;
    }

    /// <summary>[this | other]: the columns of both, side by side (same rows).</summary>
    public DenseMatrix ConcatColumns(DenseMatrix other)
    {
        if (other.Rows != Rows) throw new ArgumentException($"row counts differ ({Rows} vs {other.Rows})", nameof(other));
        var m = new DenseMatrix(Rows, Cols + other.Cols);
        for (int i = 0; i < Rows; i++)
        {
            Row(i).CopyTo(m.Data.AsSpan(i * m.Cols, Cols));
            other.Row(i).CopyTo(m.Data.AsSpan(i * m.Cols + Cols, other.Cols));
        }
        return m;
    }
}
