using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mspgt.Experiments.Predictions;
using Mspgt.Reporting;
using Mspgt.Files;
using Mspgt.Interventions;
using Mspgt.Signals;

namespace Mspgt.Experiments;

/// <summary>A model's intervention results in the study summary (the numbers behind P3/P4).</summary>
public sealed record StudyInterventionEntry(
    [property: JsonPropertyName("condition")] string Condition,
    [property: JsonPropertyName("brittleness")] Dictionary<string, double> Brittleness,
    [property: JsonPropertyName("diagonal_dominance")] double? DiagonalDominance);

/// <summary>One model in study.json / `mspgt study --json`.</summary>
public sealed record StudyModelEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("size")] string Size,
    [property: JsonPropertyName("precision")] string? Precision,
    [property: JsonPropertyName("base")] string Base,
    [property: JsonPropertyName("control")] bool Control,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("n_layers")] int NLayers,
    [property: JsonPropertyName("n_documents")] int NDocuments,
    [property: JsonPropertyName("k_selected")] int KSelected,
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("boundary_ci")] int[][]? BoundaryCi,
    [property: JsonPropertyName("depth_fractions")] double[] DepthFractions,
    [property: JsonPropertyName("depth_fraction_ci")] double[][]? DepthFractionCi,
    [property: JsonPropertyName("segments")] Dictionary<string, int[]> Segments,
    [property: JsonPropertyName("scale_order_decided_by")] string ScaleOrderDecidedBy,
    [property: JsonPropertyName("forced_k2_boundaries")] int[] ForcedK2Boundaries,
    [property: JsonPropertyName("forced_k2_boundary_ci")] int[][]? ForcedK2BoundaryCi,
    [property: JsonPropertyName("forced_k2_p_value")] double? ForcedK2PValue,
    [property: JsonPropertyName("interventions")] StudyInterventionEntry? Interventions,
    [property: JsonPropertyName("model_sha256")] string ModelSha256,
    [property: JsonPropertyName("folder")] string Folder);

public sealed record StudyManifestModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("model_sha256")] string ModelSha256,
    [property: JsonPropertyName("tokenizer")] string Tokenizer,
    [property: JsonPropertyName("tokenizer_sha256")] string? TokenizerSha256,
    [property: JsonPropertyName("corpus")] string Corpus,
    [property: JsonPropertyName("corpus_sha256")] string? CorpusSha256,
    [property: JsonPropertyName("corpus_seed")] int? CorpusSeed,
    [property: JsonPropertyName("settings")] AnalysisSettings Settings,
    [property: JsonPropertyName("folder")] string Folder,
    [property: JsonPropertyName("cache_key")] string CacheKey);

/// <summary>What was run: enough to reproduce every number of the study.</summary>
public sealed record StudyManifest(
    [property: JsonPropertyName("program")] string Program,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("date")] string Date,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("study_file")] string StudyFile,
    [property: JsonPropertyName("study_file_sha256")] string StudyFileSha256,
    [property: JsonPropertyName("corpus")] StudyCorpusSpec Corpus,
    [property: JsonPropertyName("corpus_sha256")] string? CorpusSha256,
    [property: JsonPropertyName("analyze")] AnalysisSettings Analyze,
    [property: JsonPropertyName("intervene")] StudyInterventionSettings? Intervene,
    [property: JsonPropertyName("prediction_seed")] int PredictionSeed,
    [property: JsonPropertyName("prediction_resamples")] int PredictionResamples,
    [property: JsonPropertyName("models")] IReadOnlyList<StudyManifestModel> Models);

/// <summary>study.json and what `mspgt study --json` prints.</summary>
public sealed record StudySummary(
    [property: JsonPropertyName("models")] IReadOnlyList<StudyModelEntry> Models,
    [property: JsonPropertyName("predictions")] IReadOnlyList<Prediction> Predictions,
    [property: JsonPropertyName("manifest")] StudyManifest Manifest);

/// <summary>The study's output files: study.json, study.parquet and report.html in the output folder.</summary>
public static class StudyOutputs
{
    public const string SummaryFileName = "study.json";
    public const string TableFileName = "study.parquet";
    public const string ReportFileName = "report.html";

    public static StudySummary Summarise(StudyDefinition def, IReadOnlyList<StudyModelResult> models, IReadOnlyList<Prediction> predictions,
        DateTimeOffset date, int predictionResamples)
    {
        var entries = models.Select(Entry).ToList();
        var manifest = new StudyManifest("mspgt", ProgramInfo.Version,
            date.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            def.Title, def.StudyFile, FileHashes.Sha256(def.StudyFile), def.Corpus,
            def.Corpus.Path != null ? FileHashes.Sha256(def.Corpus.Path) : null, def.Analyze, def.Intervene,
            def.Analyze.Seed, predictionResamples,
            models.Select(m => new StudyManifestModel(m.Spec.Name, m.Spec.Path, m.Record.Format, m.Record.ModelSha256, m.Record.Tokenizer,
                m.Record.TokenizerSha256, m.Record.Corpus, m.Record.CorpusSha256, m.Record.CorpusSeed, m.Record.Settings,
                m.Folder.Replace('\\', '/'), m.Record.CacheKey)).ToList());
        return new StudySummary(entries, predictions, manifest);
    }

    private static StudyModelEntry Entry(StudyModelResult m)
    {
        var s = m.Summary;
        return new StudyModelEntry(m.Spec.Name, m.Spec.Family, m.Spec.Size, m.Spec.Precision, m.Spec.Base, m.Spec.Control,
            m.Record.Format, s.NLayers, s.NDocuments, s.KSelected, s.Boundaries, s.BoundaryCi, s.DepthFractions,
            s.BoundaryCi?.Select(c => new[] { (double)c[0] / s.NLayers, (double)c[1] / s.NLayers }).ToArray(),
            s.Segments, s.ScaleOrderDecidedBy, s.ForcedK2.Boundaries, s.ForcedK2.BoundaryCi, s.ForcedK2.PValueVsSmooth,
            m.Interventions is { } iv
                ? new StudyInterventionEntry(iv.Condition, iv.Brittleness.ToDictionary(b => b.Segment, b => b.Mean), iv.DiagonalDominance)
                : null,
            m.Record.ModelSha256, m.Folder.Replace('\\', '/'));
    }

    public static void Write(StudyDefinition def, IReadOnlyList<StudyModelResult> models, StudySummary summary)
    {
        Directory.CreateDirectory(def.Output);
        Table(def, models).Write(Path.Combine(def.Output, TableFileName));
        Report(models, summary).Save(Path.Combine(def.Output, ReportFileName));
        JsonOutput.WriteFile(Path.Combine(def.Output, SummaryFileName), summary); // last: the study is complete
    }

    /// <summary>
    /// study.parquet: every per-document, per-layer signal row of every model (table = "signals") and, where
    /// interventions ran, every intervention row (table = "interventions"), each with the model's labels. Columns that
    /// do not apply to a row are null (numbers) or "" (text).
    /// </summary>
    public static ParquetTable Table(StudyDefinition def, IReadOnlyList<StudyModelResult> models)
    {
        var table = new List<string>(); var model = new List<string>(); var family = new List<string>(); var size = new List<string>();
        var precision = new List<string>(); var baseName = new List<string>(); var control = new List<int>();
        var document = new List<int>(); var layer = new List<int?>(); var signal = new List<string>(); var value = new List<double>();
        var continuation = new List<int?>(); var segment = new List<string>(); var intervention = new List<string>();
        var component = new List<string>(); var alpha = new List<double?>(); var metric = new List<string>();
        var clean = new List<double?>(); var intervened = new List<double?>();
        foreach (var m in models)
        {
            string dir = Path.Combine(def.Output, m.Folder);
            void Labels(string kind)
            {
                table.Add(kind); model.Add(m.Spec.Name); family.Add(m.Spec.Family); size.Add(m.Spec.Size);
                precision.Add(m.Spec.Precision ?? ""); baseName.Add(m.Spec.Base); control.Add(m.Spec.Control ? 1 : 0);
            }
            foreach (var r in SignalTable.Read(Path.Combine(dir, SignalTable.FileName)))
            {
                Labels("signals");
                document.Add(r.Document); layer.Add(r.Layer); signal.Add(r.Signal); value.Add(r.Value);
                continuation.Add(null); segment.Add(""); intervention.Add(""); component.Add(""); alpha.Add(null); metric.Add("");
                clean.Add(null); intervened.Add(null);
            }
            string? ivPath = m.InterventionsFolder is { } ivf ? Path.Combine(def.Output, ivf, InterventionTable.FileName) : null;
            if (ivPath != null && File.Exists(ivPath))
                foreach (var r in InterventionTable.Read(ivPath))
                {
                    Labels("interventions");
                    document.Add(r.Document); layer.Add(null); signal.Add(""); value.Add(r.Value);
                    continuation.Add(r.Continuation); segment.Add(r.Segment); intervention.Add(r.Intervention); component.Add(r.Component);
                    alpha.Add(r.Alpha); metric.Add(r.Metric); clean.Add(r.Clean); intervened.Add(r.Intervened);
                }
        }
        return new ParquetTable()
            .AddStrings("table", table).AddStrings("model", model).AddStrings("family", family).AddStrings("size", size)
            .AddStrings("precision", precision).AddStrings("base", baseName).AddInts("control", control)
            .AddInts("document", document).AddNullableInts("layer", layer).AddStrings("signal", signal).AddDoubles("value", value)
            .AddNullableInts("continuation", continuation).AddStrings("segment", segment).AddStrings("intervention", intervention)
            .AddStrings("component", component).AddNullableDoubles("alpha", alpha).AddStrings("metric", metric)
            .AddNullableDoubles("clean", clean).AddNullableDoubles("intervened", intervened);
    }

    /// <summary>report.html: predictions, boundaries across models, per-model figures, controls and the manifest.</summary>
    public static HtmlReport Report(IReadOnlyList<StudyModelResult> models, StudySummary summary)
    {
        var mf = summary.Manifest;
        var report = new HtmlReport($"mspgt study: {mf.Title}");
        int controls = models.Count(m => m.Spec.Control);
        report.Paragraph($"{models.Count - controls} model(s) and {controls} random-weight control(s); corpus: " +
                         (mf.Corpus.Path != null ? $"{Path.GetFileName(mf.Corpus.Path)} (sha256 {mf.CorpusSha256})" : $"{mf.Corpus.Documents} documents sampled from each model (seed {mf.Corpus.Seed})") +
                         $"; mspgt {mf.Version}; {mf.Date}.");

        report.Section("Predictions");
        report.Table(["id", "statement", "verdict", "why", "threshold (fixed before the data)", "null", "p / interval"],
            summary.Predictions.Select(p => (IReadOnlyList<string>)[p.Id, p.Statement, VerdictJsonConverter.Text(p.Supported), p.Reason, p.Threshold, p.Null, Evidence(p)]),
            "Each prediction is a test with its decision rule fixed before the data and a null it can fail against; \"not evaluable\": the models given cannot test it; \"not identifiable\": the test also passes on random-weight controls.");
        foreach (var p in summary.Predictions)
            report.Manifest(JsonOutput.Serialize(p.Numbers, p.Id), $"{p.Id}: all numbers", open: false);

        report.Section("Boundaries across models");
        var ordered = models.Where(m => !m.Spec.Control).Concat(models.Where(m => m.Spec.Control)).ToList();
        report.Figure(BoundaryDepthPlot.Create(new BoundaryDepthData("Best two-boundary fits: depth fractions with bootstrap 95% intervals",
            ordered.Select(m => new BoundaryDepthRow($"{m.Spec.Name} · {m.Spec.Family} {m.Spec.Size}".TrimEnd(),
                m.Summary.ForcedK2.DepthFractions,
                m.Summary.ForcedK2.BoundaryCi?.Select(c => new[] { (double)c[0] / m.Summary.NLayers, (double)c[1] / m.Summary.NLayers }).ToList(),
                m.Spec.Control)).ToList())),
            "Each row one model; markers: depth fraction b/L of its best two-boundary fit (b = first layer of the next segment), whether or not K = 2 was selected; bars: bootstrap 95% interval over documents. Open markers: random-weight controls.");
        report.Table(["model", "family", "size", "precision", "format", "layers", "K selected", "test p-values", "two-boundary fit", "95% intervals", "p vs smooth", "local · intermediate · global"],
            ordered.Select(m => (IReadOnlyList<string>)[
                m.Spec.Control ? $"{m.Spec.Name} (control)" : m.Spec.Name, m.Spec.Family, m.Spec.Size, m.Spec.Precision ?? "", m.Record.Format,
                m.Summary.NLayers.ToString(CultureInfo.InvariantCulture), m.Summary.KSelected.ToString(CultureInfo.InvariantCulture),
                string.Join(", ", m.Summary.KTests.Select(t => $"K={t.K}: {P(t.PValue)}")),
                string.Join(", ", m.Summary.ForcedK2.Boundaries),
                m.Summary.ForcedK2.BoundaryCi is { } ci ? string.Join(", ", ci.Select(c => $"[{c[0]}, {c[1]}]")) : "",
                P(m.Summary.ForcedK2.PValueVsSmooth),
                string.Join(" · ", ScaleNames.All.Select(n => Range(m.Summary.Segments[n])))]),
            "K selected: sequential tests against smooth nulls at α = 0.05 (0 is a possible answer). Boundaries are block indices (0-based); segments are inclusive block ranges of the two-boundary fit, named from the data.");

        foreach (var m in models.Where(m => !m.Spec.Control)) ModelSection(report, m, $"Model {m.Spec.Name} ({m.Spec.Family}, {m.Spec.Size}{(m.Spec.Precision is { } p ? ", " + p : "")})");
        foreach (var m in models.Where(m => m.Spec.Control)) ModelSection(report, m, $"Random-weight control {m.Spec.Name} (not part of any prediction)");

        report.Section("Manifest");
        report.ManifestJson(mf);
        return report;
    }

    private static void ModelSection(HtmlReport report, StudyModelResult m, string heading)
    {
        var s = m.Summary;
        report.Section(heading);
        report.Paragraph($"{s.NLayers} blocks, {s.NDocuments} documents, {s.NTokens} tokens; {m.Record.Format}, sha256 {m.Record.ModelSha256}; " +
                         $"calibrated K = {s.KSelected}; best two-boundary fit {string.Join(", ", s.ForcedK2.Boundaries)} (p {P(s.ForcedK2.PValueVsSmooth)} against the smooth null); {string.Join(", ", ScaleNames.All.Select(n => $"{n} {Range(s.Segments[n])}"))} " +
                         $"(order decided by {s.ScaleOrderDecidedBy}).");
        report.Figure(Analysis.SignalsFigure(s), $"{m.Spec.Name}: standardised per-layer signals and the fused score; dashed lines: boundaries, grey bands: their bootstrap 95% intervals.");
        report.Figure(Analysis.CkaFigure(s), $"{m.Spec.Name}: linear CKA between the embedding and every block's output.");
        if (m.Interventions is not { } iv)
        {
            report.Paragraph("Interventions not run for this model.");
            return;
        }
        int rows = iv.DissociationRows.Length, cols = iv.DissociationColumns.Length;
        if (rows > 0 && cols > 0 && iv.Dissociation.All(r => r.All(v => v is not null)))
        {
            var mat = new double[rows, cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) mat[r, c] = iv.Dissociation[r][c]!.Value;
            report.Figure(HeatmapPlot.Create(new HeatmapData($"{m.Spec.Name}: dissociation ({iv.Condition})", mat, iv.DissociationRows,
                    iv.DissociationColumns, "mean |Cohen's d_z|", XLabel: "outcome family", YLabel: "perturbed segment", Min: 0)),
                $"{m.Spec.Name}: mean |Cohen's d_z| of each metric family when each segment is perturbed; diagonal dominance {F(iv.DiagonalDominance)}{Dominance(iv)}.");
        }
        else report.Paragraph($"Dissociation matrix incomplete (diagonal dominance {F(iv.DiagonalDominance)}).");
        if (iv.DoseResponse.Count > 0)
            report.Figure(DoseResponsePlot.Create(new DoseResponseData($"{m.Spec.Name}: brittleness against noise strength",
                    iv.DoseResponse.Select(Series).ToList(), iv.DoseControl is { } c ? Series(c) : null, YLabel: "brittleness KL (nats)")),
                $"{m.Spec.Name}: next-token KL(clean ‖ noised) against α per segment; dashed: random segments of the same width.");
    }

    private static DoseResponseSeries Series(DoseCurve c) => new(c.Segment, c.Alphas, c.Values, c.Lower, c.Upper);

    private static string Dominance(StudyInterventionOutcome iv) => iv.DominanceTest is { } d
        ? $" (95% interval {(d.Ci is { } ci ? $"[{F(ci[0])}, {F(ci[1])}]" : "–")}; permutation null mean {F(d.NullMean)}, p {P(d.PValue)})"
        : iv.DominanceTestNote is { } note ? $" ({note})" : "";

    /// <summary>The p-value or interval a prediction rests on, as one cell.</summary>
    public static string Evidence(Prediction p) =>
        p.PValue is double v ? $"p {P(v)}" : p.Interval is { Length: 2 } iv ? $"[{F(iv[0])}, {F(iv[1])}]" : "–";

    private static string P(double? p) => p is double v ? (v < 0.001 ? "< 0.001" : v.ToString("0.000", CultureInfo.InvariantCulture)) : "–";

    private static string F(double? v) => v is double d ? d.ToString("0.###", CultureInfo.InvariantCulture) : "–";

    private static string Range(int[] r) => r[0] == r[1] ? $"{r[0]}" : $"{r[0]}–{r[1]}";
}
