using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mspgt.Experiments.Predictions;
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
/// <summary>The study's records and its data table (study.json's content, study.parquet); the report and the
/// figures are Reporting's <c>StudyReport</c>.</summary>
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
}
