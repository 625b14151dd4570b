using Parquet;
using Parquet.Schema;

namespace Mspgt.Files;

/// <summary>
/// A column-oriented table of strings, ints, doubles and booleans, each plain or nullable, with key-value metadata
/// (units, definitions), that is written to (and read back from) a Parquet file. Doubles must be finite: a NaN in a results table almost always means a broken statistic, and
/// missing values belong in a nullable column as null.
/// </summary>
public sealed class ParquetTable
{
    /// <summary>Rows per Parquet row group; keeps memory bounded for readers of large tables.</summary>
    public const int DefaultRowGroupSize = 1 << 20;

    private readonly List<(string Name, Array Values)> _columns = [];
    private readonly HashSet<string> _nullableStrings = new(StringComparer.Ordinal);

    /// <summary>File-level key-value metadata (Parquet's key_value_metadata): written with the table, read back.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Number of rows (0 until the first column is added).</summary>
    public int RowCount { get; private set; }

    public IReadOnlyList<string> ColumnNames => _columns.Select(c => c.Name).ToArray();

    public ParquetTable AddStrings(string name, IReadOnlyList<string> values)
    {
        var copy = values.ToArray();
        for (int i = 0; i < copy.Length; i++)
            if (copy[i] is null) throw new MspgtException(name, $"row {i} is null (string columns may not hold nulls)");
        return Add(name, copy);
    }

    /// <summary>A string column whose missing values are real nulls.</summary>
    public ParquetTable AddNullableStrings(string name, IReadOnlyList<string?> values)
    {
        Add(name, values.ToArray());
        _nullableStrings.Add(name);
        return this;
    }

    public ParquetTable AddBools(string name, IReadOnlyList<bool> values) => Add(name, values.ToArray());

    public ParquetTable AddNullableBools(string name, IReadOnlyList<bool?> values) => Add(name, values.ToArray());

    public ParquetTable AddInts(string name, IReadOnlyList<int> values) => Add(name, values.ToArray());

    public ParquetTable AddNullableInts(string name, IReadOnlyList<int?> values) => Add(name, values.ToArray());

    public ParquetTable AddDoubles(string name, IReadOnlyList<double> values)
    {
        var copy = values.ToArray();
        for (int i = 0; i < copy.Length; i++)
            if (!double.IsFinite(copy[i]))
                throw new MspgtException(name, $"row {i} is {copy[i]} (only finite values may be written; use a nullable column for missing values)");
        return Add(name, copy);
    }

    public ParquetTable AddNullableDoubles(string name, IReadOnlyList<double?> values)
    {
        var copy = values.ToArray();
        for (int i = 0; i < copy.Length; i++)
            if (copy[i] is double d && !double.IsFinite(d))
                throw new MspgtException(name, $"row {i} is {d} (only finite values or null may be written)");
        return Add(name, copy);
    }

    public string[] Strings(string name) => Get<string[]>(name);
    public string?[] NullableStrings(string name) => Get<string[]>(name);
    public bool[] Bools(string name) => Get<bool[]>(name);
    public bool?[] NullableBools(string name) => Get<bool?[]>(name);
    public int[] Ints(string name) => Get<int[]>(name);
    public int?[] NullableInts(string name) => Get<int?[]>(name);
    public double[] Doubles(string name) => Get<double[]>(name);
    public double?[] NullableDoubles(string name) => Get<double?[]>(name);

    private T Get<T>(string name) where T : class
    {
        foreach (var (n, values) in _columns)
            if (n == name)
                return values as T ?? throw new MspgtException(name, $"column holds {values.GetType().GetElementType()!.Name} values, not {typeof(T).GetElementType()!.Name}");
        throw new MspgtException(name, "no such column");
    }

    private ParquetTable Add(string name, Array values)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new MspgtException("parquet table", "column name is empty");
        if (_columns.Any(c => c.Name == name)) throw new MspgtException(name, "column added twice");
        if (_columns.Count > 0 && values.Length != RowCount)
            throw new MspgtException(name, $"column has {values.Length} rows but the table has {RowCount}");
        RowCount = values.Length;
        _columns.Add((name, values));
        return this;
    }

    /// <summary>Writes the table atomically (Snappy-compressed, one row group per <paramref name="rowGroupSize"/> rows).</summary>
    public void Write(string path, int rowGroupSize = DefaultRowGroupSize)
    {
        if (_columns.Count == 0) throw new MspgtException(path, "table has no columns");
        if (rowGroupSize <= 0) throw new MspgtException(path, "row group size must be positive");
        var fields = _columns.Select(c => FieldFor(c.Name, c.Values, _nullableStrings.Contains(c.Name))).ToArray();
        var schema = new ParquetSchema(fields);
        // Parquet.Net is async-only; the library has no synchronisation context, so blocking here cannot deadlock.
        AtomicFile.Write(path, stream => WriteAsync(stream, schema, fields, rowGroupSize).GetAwaiter().GetResult());
    }

    private async Task WriteAsync(Stream stream, ParquetSchema schema, DataField[] fields, int rowGroupSize)
    {
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        if (Metadata.Count > 0) writer.CustomMetadata = new Dictionary<string, string>(Metadata);
        for (int start = 0; start < RowCount; start += rowGroupSize)
        {
            int count = Math.Min(rowGroupSize, RowCount - start);
            using var rg = writer.CreateRowGroup();
            for (int c = 0; c < fields.Length; c++)
            {
                switch (_columns[c].Values)
                {
                    case string[] s: await rg.WriteAsync(fields[c], new ArraySegment<string>(s, start, count)); break;
                    case bool[] b: await rg.WriteAsync<bool>(fields[c], new ReadOnlyMemory<bool>(b, start, count)); break;
                    case bool?[] nb: await rg.WriteAsync<bool>(fields[c], new ReadOnlyMemory<bool?>(nb, start, count)); break;
                    case int[] i: await rg.WriteAsync<int>(fields[c], new ReadOnlyMemory<int>(i, start, count)); break;
                    case int?[] ni: await rg.WriteAsync<int>(fields[c], new ReadOnlyMemory<int?>(ni, start, count)); break;
                    case double[] d: await rg.WriteAsync<double>(fields[c], new ReadOnlyMemory<double>(d, start, count)); break;
                    case double?[] n: await rg.WriteAsync<double>(fields[c], new ReadOnlyMemory<double?>(n, start, count)); break;
                    default: throw new InvalidOperationException("unreachable: unsupported column array");
                }
            }
            rg.CompleteValidate();
        }
    }

    private static DataField FieldFor(string name, Array values, bool nullableString) => values switch
    {
        string[] => new DataField<string>(name, nullable: nullableString),
        bool[] => new DataField<bool>(name),
        bool?[] => new DataField<bool?>(name),
        int[] => new DataField<int>(name),
        int?[] => new DataField<int?>(name),
        double[] => new DataField<double>(name),
        double?[] => new DataField<double?>(name),
        _ => throw new InvalidOperationException("unreachable: unsupported column array"),
    };

    /// <summary>
    /// Reads a Parquet file whose columns are all string / int32 / double / nullable double (what
    /// <see cref="Write"/> produces). Missing, truncated or otherwise unreadable files throw <see cref="MspgtException"/>.
    /// </summary>
    public static ParquetTable Read(string path)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "file not found");
        try
        {
            return ReadAsync(path).GetAwaiter().GetResult();
        }
        catch (MspgtException) { throw; }
        catch (Exception ex) when (ex is IOException or InvalidDataException or NotSupportedException or ArgumentException
                                       or InvalidOperationException or IndexOutOfRangeException or OverflowException
                                       || ex.GetType().Namespace?.StartsWith("Parquet", StringComparison.Ordinal) == true)
        {
            throw new MspgtException(path, $"not a readable Parquet file: {ex.Message.Split('\n')[0]}", ex);
        }
    }

    private static async Task<ParquetTable> ReadAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        var total = reader.RowGroups.Sum(g => g.RowCount);
        if (total > int.MaxValue) throw new MspgtException(path, "table has too many rows");
        int n = (int)total;
        var arrays = new Array[fields.Length];
        for (int c = 0; c < fields.Length; c++)
        {
            var f = fields[c];
            if (f.IsArray) throw new MspgtException(path, $"column '{f.Name}' is a list column (not supported)");
            arrays[c] = (f.ClrType, f.IsNullable) switch
            {
                // Parquet.Net 6 reports UTF-8 string columns as ReadOnlyMemory<char>; they read fine as strings.
                _ when f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>) => new string[n],
                _ when f.ClrType == typeof(bool) && !f.IsNullable => new bool[n],
                _ when f.ClrType == typeof(bool) && f.IsNullable => new bool?[n],
                _ when f.ClrType == typeof(int) && !f.IsNullable => new int[n],
                _ when f.ClrType == typeof(int) && f.IsNullable => new int?[n],
                _ when f.ClrType == typeof(double) && !f.IsNullable => new double[n],
                _ when f.ClrType == typeof(double) && f.IsNullable => new double?[n],
                _ => throw new MspgtException(path, $"column '{f.Name}' has unsupported type {f.ClrType.Name}{(f.IsNullable ? "?" : "")}"),
            };
        }
        int offset = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var rg = reader.OpenRowGroupReader(g);
            int count = (int)rg.RowCount;
            for (int c = 0; c < fields.Length; c++)
            {
                switch (arrays[c])
                {
                    case string[] s: await rg.ReadAsync(fields[c], new Memory<string?>((string?[])s, offset, count)); break;
                    case bool[] b: await rg.ReadAsync<bool>(fields[c], new Memory<bool>(b, offset, count)); break;
                    case bool?[] nb: await rg.ReadAsync<bool>(fields[c], new Memory<bool?>(nb, offset, count)); break;
                    case int[] i: await rg.ReadAsync<int>(fields[c], new Memory<int>(i, offset, count)); break;
                    case int?[] ni: await rg.ReadAsync<int>(fields[c], new Memory<int?>(ni, offset, count)); break;
                    case double[] d: await rg.ReadAsync<double>(fields[c], new Memory<double>(d, offset, count)); break;
                    case double?[] nd: await rg.ReadAsync<double>(fields[c], new Memory<double?>(nd, offset, count)); break;
                }
            }
            offset += count;
        }
        var table = new ParquetTable();
        foreach (var (k, v) in reader.CustomMetadata) table.Metadata[k] = v;
        for (int c = 0; c < fields.Length; c++)
        {
            if (arrays[c] is string[] s && !fields[c].IsNullable && Array.IndexOf(s, null) is int k && k >= 0)
                throw new MspgtException(path, $"column '{fields[c].Name}' row {k} is null");
            table.Add(fields[c].Name, arrays[c]);
            if (arrays[c] is string[] && fields[c].IsNullable) table._nullableStrings.Add(fields[c].Name);
        }
        table.RowCount = n;
        return table;
    }
}
