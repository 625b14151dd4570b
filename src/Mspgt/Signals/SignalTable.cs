using Mspgt.Files;

namespace Mspgt.Signals;

/// <summary>One per-layer signal value of one document: a row of <c>signals.parquet</c>.</summary>
public sealed record SignalRow(string Model, int Document, int Layer, string Signal, double Value);

/// <summary>signals.parquet: one row per (document, layer, signal), snake_case columns.</summary>
public static class SignalTable
{
    public const string FileName = "signals.parquet";

    public static ParquetTable Table(IReadOnlyList<SignalRow> rows) => new ParquetTable()
        .AddStrings("model", rows.Select(r => r.Model).ToArray())
        .AddInts("document", rows.Select(r => r.Document).ToArray())
        .AddInts("layer", rows.Select(r => r.Layer).ToArray())
        .AddStrings("signal", rows.Select(r => r.Signal).ToArray())
        .AddDoubles("value", rows.Select(r => r.Value).ToArray());

    public static void Write(string path, IReadOnlyList<SignalRow> rows) => Table(rows).Write(path);

    public static IReadOnlyList<SignalRow> Read(string path)
    {
        var t = ParquetTable.Read(path);
        var (m, d, l, s, v) = (t.Strings("model"), t.Ints("document"), t.Ints("layer"), t.Strings("signal"), t.Doubles("value"));
        var rows = new SignalRow[t.RowCount];
        for (int i = 0; i < rows.Length; i++) rows[i] = new SignalRow(m[i], d[i], l[i], s[i], v[i]);
        return rows;
    }
}
