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
    [property: JsonPropertyName("models")] IReadOnlyList<StudyManifestModel> Models)
{
    /// <summary>The device the study asked for (its file's "device" or --device); null: the CPU.</summary>
    [JsonPropertyName("device")] public string? Device { get; init; }
}

/// <summary>study.json and what `mspgt study --json` prints.</summary>
public sealed record StudySummary(
    [property: JsonPropertyName("models")] IReadOnlyList<StudyModelEntry> Models,
    [property: JsonPropertyName("predictions")] IReadOnlyList<Prediction> Predictions,
    [property: JsonPropertyName("manifest")] StudyManifest Manifest);

/// <summary>The study's records and its data table (study.json's content, and its three Parquet tables); the report and the
/// figures are Reporting's <c>StudyReport</c>.</summary>
public static class StudyOutputs
{
    public const string SummaryFileName = "study.json";
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
                m.Folder.Replace('\\', '/'), m.Record.CacheKey)).ToList()) { Device = def.Device };
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

    public const string SignalsFileName = "signals.parquet";
    public const string InterventionsFileName = "interventions.parquet";
    public const string PredictionsFileName = "predictions.parquet";

    /// <summary>Columns every study table starts with: who the row belongs to.</summary>
    private static readonly Dictionary<string, string> LabelColumns = new()
    {
        ["model"] = "the model's name in the study file (the same name as in study.json and the model's folder)",
        ["family"] = "its family label", ["size"] = "its size label", ["precision"] = "its precision / format label (null if none)",
        ["base"] = "the network it is a variant of", ["control"] = "true for a random-weight control (never a prediction's subject)",
        ["student"] = "the training run it is a checkpoint of (null if none)", ["step"] = "its training step (null if none)",
    };

    /// <summary>The study-level tables, one per file, with real nulls and their definitions as Parquet metadata.</summary>
    public static IReadOnlyList<(string FileName, ParquetTable Table)> Tables(StudyDefinition def, IReadOnlyList<StudyModelResult> models,
        IReadOnlyList<Prediction> predictions)
    {
        var tables = new List<(string, ParquetTable)> { (SignalsFileName, SignalsTable(def, models)) };
        if (models.Any(m => m.InterventionsFolder is not null)) tables.Add((InterventionsFileName, InterventionsTable(def, models)));
        tables.Add((PredictionsFileName, PredictionsTable(predictions)));
        return tables;
    }

    private sealed class Labels
    {
        public readonly List<string> Model = [], Family = [], Size = [], Base = [];
        public readonly List<string?> Precision = [], Student = [];
        public readonly List<bool> Control = [];
        public readonly List<int?> Step = [];

        public void Add(StudyModelSpec m)
        {
            Model.Add(m.Name); Family.Add(m.Family); Size.Add(m.Size); Base.Add(m.Base);
            Precision.Add(m.Precision); Student.Add(m.Student); Control.Add(m.Control); Step.Add(m.Step);
        }

        public ParquetTable Start() => new ParquetTable()
            .AddStrings("model", Model).AddStrings("family", Family).AddStrings("size", Size).AddNullableStrings("precision", Precision)
            .AddStrings("base", Base).AddBools("control", Control).AddNullableStrings("student", Student).AddNullableInts("step", Step);
    }

    /// <summary>signals.parquet: every model's per-document, per-layer signal values, labelled.</summary>
    public static ParquetTable SignalsTable(StudyDefinition def, IReadOnlyList<StudyModelResult> models)
    {
        var labels = new Labels();
        var (document, layer, signal, value) = (new List<int>(), new List<int>(), new List<string>(), new List<double>());
        foreach (var m in models)
            foreach (var r in SignalTable.Read(Path.Combine(def.Output, m.Folder, SignalTable.FileName)))
            {
                labels.Add(m.Spec);
                document.Add(r.Document); layer.Add(r.Layer); signal.Add(r.Signal); value.Add(r.Value);
            }
        var t = labels.Start().AddInts("document", document).AddInts("layer", layer).AddStrings("signal", signal).AddDoubles("value", value);
        Describe(t, new Dictionary<string, string>(LabelColumns)
        {
            ["document"] = "the document's index in the corpus", ["layer"] = "the block, 0-based",
            ["signal"] = "the signal's name (definitions and units: mspgt.signals)", ["value"] = "the signal's value for that document and block, in its own unit",
        });
        t.Metadata["mspgt.signals"] = JsonOutput.Serialize(Signals.SignalNames.All.ToDictionary(a => a.Name, a => a.Meaning));
        return t;
    }

    /// <summary>interventions.parquet: every model's intervention rows, labelled; the segment's blocks and the control draw kept.</summary>
    public static ParquetTable InterventionsTable(StudyDefinition def, IReadOnlyList<StudyModelResult> models)
    {
        var labels = new Labels();
        var rows = new List<InterventionTableRow>();
        foreach (var m in models)
        {
            if (m.InterventionsFolder is not { } ivf) continue;
            string path = Path.Combine(def.Output, ivf, InterventionTable.FileName);
            if (!File.Exists(path)) continue;
            var t = ParquetTable.Read(path);
            var basic = InterventionTable.Read(path);
            var (first, last, draw, controlFor) = (t.Ints("first_layer"), t.Ints("last_layer"), t.NullableInts("draw"), t.NullableStrings("control_for"));
            for (int i = 0; i < basic.Count; i++)
            {
                labels.Add(m.Spec);
                rows.Add(new InterventionTableRow(basic[i] with { Model = m.Spec.Name }, first[i], last[i], draw[i], controlFor[i]));
            }
        }
        var table = InterventionTable.Table(rows);
        var labelled = labels.Start();
        foreach (var name in table.ColumnNames.Where(n => n != "model")) Copy(table, labelled, name);
        Describe(labelled, new Dictionary<string, string>(LabelColumns)
        {
            ["document"] = "the document's index in the corpus",
            ["continuation"] = "null: the document-level value the statistics pair; c ≥ 0: continuation c measured alone",
            ["segment"] = "local / intermediate / global, \"random\" for a control window, \"none\" for the no-op",
            ["intervention"] = "noise, zero, mean, resample, skip or noop", ["component"] = "attn, mlp, both, resid or none",
            ["alpha"] = "noise strength α (× mean residual norm); null for interventions without a dose",
            ["metric"] = "the outcome (definitions: mspgt.metrics)",
            ["effect"] = "intervened − clean for that document (the KL itself for brittleness_kl), in the metric's unit",
            ["clean"] = "the metric's clean value where it has one (null for metrics defined only as a difference)",
            ["intervened"] = "the metric's intervened value where it has one",
            ["first_layer"] = "the first block intervened on", ["last_layer"] = "the last block intervened on",
            ["draw"] = "the control window's index among the segment's windows (null for named segments)",
            ["control_for"] = "for a control window, the named segment it controls (null otherwise)",
        });
        labelled.Metadata["mspgt.metrics"] = JsonOutput.Serialize(Interventions.Outcomes.OutcomeMetrics.All.ToDictionary(m => m.Name, m => m.Definition));
        return labelled;
    }

    /// <summary>predictions.parquet: one row per prediction with its verdict, threshold, null, p-value or interval.</summary>
    public static ParquetTable PredictionsTable(IReadOnlyList<Prediction> predictions)
    {
        var t = new ParquetTable()
            .AddStrings("id", predictions.Select(p => p.Id).ToArray())
            .AddStrings("statement", predictions.Select(p => p.Statement).ToArray())
            .AddStrings("verdict", predictions.Select(p => VerdictJsonConverter.Text(p.Supported)).ToArray())
            .AddNullableBools("supported", predictions.Select(p => p.Supported switch
            {
                Verdict.Supported => true, Verdict.NotSupported => (bool?)false, _ => null,
            }).ToArray())
            .AddStrings("threshold", predictions.Select(p => p.Threshold).ToArray())
            .AddStrings("null_hypothesis", predictions.Select(p => p.Null).ToArray())
            .AddNullableDoubles("p_value", predictions.Select(p => p.PValue).ToArray())
            .AddNullableDoubles("interval_low", predictions.Select(p => p.Interval?[0]).ToArray())
            .AddNullableDoubles("interval_high", predictions.Select(p => p.Interval?[1]).ToArray())
            .AddStrings("reason", predictions.Select(p => p.Reason).ToArray());
        Describe(t, new Dictionary<string, string>
        {
            ["id"] = "P1–P7", ["statement"] = "what the theory predicts", ["verdict"] = "supported, not supported, not evaluable or not identifiable",
            ["supported"] = "true / false, null when not evaluable or not identifiable", ["threshold"] = "the decision rule, fixed before the data",
            ["null_hypothesis"] = "what the test is calibrated against", ["p_value"] = "the test's p-value where it rests on one",
            ["interval_low"] = "the interval's lower end where it rests on one", ["interval_high"] = "the interval's upper end",
            ["reason"] = "why the verdict is what it is",
        });
        return t;
    }

    private static void Describe(ParquetTable t, Dictionary<string, string> columns)
    {
        t.Metadata["mspgt.columns"] = JsonOutput.Serialize(columns);
        t.Metadata["mspgt.version"] = ProgramInfo.Version;
    }

    private static void Copy(ParquetTable from, ParquetTable to, string name)
    {
        switch (name)
        {
            case "continuation" or "draw": to.AddNullableInts(name, from.NullableInts(name)); break;
            case "document" or "first_layer" or "last_layer": to.AddInts(name, from.Ints(name)); break;
            case "alpha" or "clean" or "intervened": to.AddNullableDoubles(name, from.NullableDoubles(name)); break;
            case "effect": to.AddDoubles(name, from.Doubles(name)); break;
            case "control_for": to.AddNullableStrings(name, from.NullableStrings(name)); break;
            default: to.AddStrings(name, from.Strings(name)); break;
        }
    }
}
