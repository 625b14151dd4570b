using Mspgt.Files;

namespace Mspgt.Interventions;

/// <summary>
/// One metric of one intervention on one document: a row of <c>interventions.parquet</c>. <see cref="Continuation"/>
/// is null for the document-level value the statistics pair, else the continuation measured alone; <see cref="Alpha"/>
/// is null for interventions without a dose. <see cref="Effect"/> = intervened − clean (the KL itself for
/// brittleness_kl); <see cref="Clean"/> and <see cref="Intervened"/> are the raw values where the metric has them.
/// </summary>
public sealed record InterventionRow(
    string Model, int Document, int? Continuation, string Segment, string Intervention, string Component,
    double? Alpha, string Metric, double Effect, double? Clean, double? Intervened);

/// <summary>interventions.parquet: one row per (document, continuation, segment, condition, metric), snake_case columns.</summary>
public static class InterventionTable
{
    public const string FileName = "interventions.parquet";

    public static ParquetTable Table(IReadOnlyList<InterventionRow> rows) => new ParquetTable()
        .AddStrings("model", rows.Select(r => r.Model).ToArray())
        .AddInts("document", rows.Select(r => r.Document).ToArray())
        .AddNullableInts("continuation", rows.Select(r => r.Continuation).ToArray())
        .AddStrings("segment", rows.Select(r => r.Segment).ToArray())
        .AddStrings("intervention", rows.Select(r => r.Intervention).ToArray())
        .AddStrings("component", rows.Select(r => r.Component).ToArray())
        .AddNullableDoubles("alpha", rows.Select(r => r.Alpha).ToArray())
        .AddStrings("metric", rows.Select(r => r.Metric).ToArray())
        .AddDoubles("effect", rows.Select(r => r.Effect).ToArray())
        .AddNullableDoubles("clean", rows.Select(r => r.Clean).ToArray())
        .AddNullableDoubles("intervened", rows.Select(r => r.Intervened).ToArray());

    /// <summary>The standard table plus first_layer, last_layer, draw and control_for.</summary>
    public static ParquetTable Table(IReadOnlyList<InterventionTableRow> rows) =>
        Table(rows.Select(r => r.Row).ToArray())
            .AddInts("first_layer", rows.Select(r => r.FirstLayer).ToArray())
            .AddInts("last_layer", rows.Select(r => r.LastLayer).ToArray())
            .AddNullableInts("draw", rows.Select(r => r.Draw).ToArray())
            .AddNullableStrings("control_for", rows.Select(r => r.ControlFor).ToArray());

    public static void Write(string path, IReadOnlyList<InterventionRow> rows) => Table(rows).Write(path);

    public static IReadOnlyList<InterventionRow> Read(string path)
    {
        var t = ParquetTable.Read(path);
        var (m, d, c, seg) = (t.Strings("model"), t.Ints("document"), t.NullableInts("continuation"), t.Strings("segment"));
        var (iv, comp, a, met) = (t.Strings("intervention"), t.Strings("component"), t.NullableDoubles("alpha"), t.Strings("metric"));
        var (v, cl, it) = (t.Doubles("effect"), t.NullableDoubles("clean"), t.NullableDoubles("intervened"));
        var rows = new InterventionRow[t.RowCount];
        for (int i = 0; i < rows.Length; i++)
            rows[i] = new InterventionRow(m[i], d[i], c[i], seg[i], iv[i], comp[i], a[i], met[i], v[i], cl[i], it[i]);
        return rows;
    }
}
