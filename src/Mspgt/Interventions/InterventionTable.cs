using Mspgt.Files;

namespace Mspgt.Interventions;

/// <summary>
/// One metric of one intervention on one continuation: a row of <c>interventions.parquet</c>. <see cref="Clean"/>
/// and <see cref="Intervened"/> are the metric's raw values where the metric has them (null for metrics that are
/// defined only as a difference, e.g. a KL divergence).
/// </summary>
public sealed record InterventionRow(
    string Model, int Document, int Continuation, string Segment, string Intervention, string Component,
    double Alpha, string Metric, double Value, double? Clean, double? Intervened);

/// <summary>interventions.parquet: one row per (document, continuation, segment, condition, metric), snake_case columns.</summary>
public static class InterventionTable
{
    public const string FileName = "interventions.parquet";

    public static ParquetTable Table(IReadOnlyList<InterventionRow> rows) => new ParquetTable()
        .AddStrings("model", rows.Select(r => r.Model).ToArray())
        .AddInts("document", rows.Select(r => r.Document).ToArray())
        .AddInts("continuation", rows.Select(r => r.Continuation).ToArray())
        .AddStrings("segment", rows.Select(r => r.Segment).ToArray())
        .AddStrings("intervention", rows.Select(r => r.Intervention).ToArray())
        .AddStrings("component", rows.Select(r => r.Component).ToArray())
        .AddDoubles("alpha", rows.Select(r => r.Alpha).ToArray())
        .AddStrings("metric", rows.Select(r => r.Metric).ToArray())
        .AddDoubles("value", rows.Select(r => r.Value).ToArray())
        .AddNullableDoubles("clean", rows.Select(r => r.Clean).ToArray())
        .AddNullableDoubles("intervened", rows.Select(r => r.Intervened).ToArray());

    /// <summary>The standard table plus first_layer, last_layer, draw and control_for.</summary>
    public static ParquetTable Table(IReadOnlyList<InterventionTableRow> rows) =>
        Table(rows.Select(r => r.Row).ToArray())
            .AddInts("first_layer", rows.Select(r => r.FirstLayer).ToArray())
            .AddInts("last_layer", rows.Select(r => r.LastLayer).ToArray())
            .AddInts("draw", rows.Select(r => r.Draw).ToArray())
            .AddStrings("control_for", rows.Select(r => r.ControlFor).ToArray());

    public static void Write(string path, IReadOnlyList<InterventionRow> rows) => Table(rows).Write(path);

    public static IReadOnlyList<InterventionRow> Read(string path)
    {
        var t = ParquetTable.Read(path);
        var (m, d, c, seg) = (t.Strings("model"), t.Ints("document"), t.Ints("continuation"), t.Strings("segment"));
        var (iv, comp, a, met) = (t.Strings("intervention"), t.Strings("component"), t.Doubles("alpha"), t.Strings("metric"));
        var (v, cl, it) = (t.Doubles("value"), t.NullableDoubles("clean"), t.NullableDoubles("intervened"));
        var rows = new InterventionRow[t.RowCount];
        for (int i = 0; i < rows.Length; i++)
            rows[i] = new InterventionRow(m[i], d[i], c[i], seg[i], iv[i], comp[i], a[i], met[i], v[i], cl[i], it[i]);
        return rows;
    }
}
