using System.Diagnostics;
using System.Text.Json.Serialization;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Scales;
using Mspgt.Signals;
using Mspgt.Corpora;
using Mspgt.Files;

namespace Mspgt.Experiments;

/// <summary>Settings of one `mspgt analyze` run (all of them go into the manifest).</summary>
public sealed record AnalysisSettings
{
    [JsonPropertyName("max_tokens")] public int MaxTokens { get; init; } = 256;
    [JsonPropertyName("documents")] public int Documents { get; init; } = 64;
    [JsonPropertyName("min_document_tokens")] public int MinDocumentTokens { get; init; } = 16;
    [JsonPropertyName("seed")] public int Seed { get; init; }
    [JsonPropertyName("bootstrap")] public int Bootstrap { get; init; } = 200;
    [JsonPropertyName("max_k")] public int MaxK { get; init; } = 4;
    /// <summary>Fewest layers per segment in the calibrated choice of K.</summary>
    [JsonPropertyName("min_size")] public int MinSize { get; init; } = 2;
    /// <summary>Level of each test in the sequence that chooses K.</summary>
    [JsonPropertyName("alpha")] public double Alpha { get; init; } = 0.05;
    /// <summary>Parametric-bootstrap replicates per test.</summary>
    [JsonPropertyName("null_replicates")] public int NullReplicates { get; init; } = 200;
    /// <summary>Cap on the smooth null's effective degrees of freedom per curve.</summary>
    [JsonPropertyName("null_max_edf")] public double NullMaxEdf { get; init; } = Scales.WhittakerSmoother.DefaultMaxEdf;
    /// <summary>PELT penalty (exploratory); null: from the smooth null.</summary>
    [JsonPropertyName("penalty")] public double? Penalty { get; init; }
    [JsonPropertyName("weights")] public Dictionary<string, double>? Weights { get; init; }
    [JsonPropertyName("pca_dims")] public int PcaDims { get; init; } = 16;
    [JsonPropertyName("ksg_neighbors")] public int KsgNeighbors { get; init; } = 3;
    [JsonPropertyName("lens_positions")] public int LensPositions { get; init; } = 64;
    /// <summary>Every position through the lens (exact) instead of the sample sized by DocumentSignals.LensSampleSize.</summary>
    [JsonPropertyName("lens_exact")] public bool LensExact { get; init; }
    [JsonPropertyName("probe_tokens_per_document")] public int ProbeTokensPerDocument { get; init; } = 64;
    [JsonPropertyName("probe_local_classes")] public int ProbeLocalClasses { get; init; } = 32;
    /// <summary>Token positions per document sampled (evenly) for the pooled Gaussian MI.</summary>
    [JsonPropertyName("mi_tokens_per_document")] public int MiTokensPerDocument { get; init; } = 256;
    /// <summary>Whether position 0 (BOS) enters MI, adjacent CKA, effective rank and TwoNN (the probes never use it).</summary>
    [JsonPropertyName("include_bos")] public bool IncludeBos { get; init; }
}

/// <summary>A document left out of the analysis: why (one of <see cref="Reasons"/>) and the details.</summary>
public sealed record SkippedDocument(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("detail")] string Detail)
{
    public const string TooShort = "shorter_than_min_document_tokens";
    public const string TooFewForEstimators = "too_few_tokens_for_estimators";
    public const string MeasurementFailed = "measurement_failed";
    public static readonly string[] Reasons = [TooShort, TooFewForEstimators, MeasurementFailed];
}

/// <summary>
/// Per block, the ceiling of an estimator that cannot exceed a sample-size bound and how many documents reached it;
/// their values are lower bounds.
/// </summary>
public sealed record SaturationReport(
    [property: JsonPropertyName("ceiling")] double[] Ceiling,
    [property: JsonPropertyName("saturated_documents")] int[] SaturatedDocuments,
    [property: JsonPropertyName("n_documents")] int NDocuments,
    [property: JsonPropertyName("note")] string Note);

/// <summary>The pooled Gaussian MI per block: the estimate on all documents' tokens and its jackknife standard error.</summary>
public sealed record PooledMiReport(
    [property: JsonPropertyName("estimate")] double[] Estimate,
    [property: JsonPropertyName("standard_error")] double[] StandardError,
    [property: JsonPropertyName("components_x")] int[] ComponentsX,
    [property: JsonPropertyName("components_y")] int[] ComponentsY,
    [property: JsonPropertyName("pooled_tokens")] int PooledTokens);

public sealed record ProbeReport(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("accuracy")] double[] Accuracy,
    [property: JsonPropertyName("chance")] double[] Chance,
    [property: JsonPropertyName("peak_layer")] int PeakLayer,
    [property: JsonPropertyName("train_samples")] int TrainSamples,
    [property: JsonPropertyName("test_samples")] int TestSamples)
{
    /// <summary>Document folds of the cross-fitting (1: trained on every document's early tokens).</summary>
    [JsonPropertyName("folds")] public int Folds { get; init; }
}

public sealed record AnalysisManifest(
    [property: JsonPropertyName("program")] string Program,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("model_path")] string ModelPath,
    [property: JsonPropertyName("model_format")] string ModelFormat,
    [property: JsonPropertyName("model_sha256")] string ModelSha256,
    [property: JsonPropertyName("tokenizer")] string Tokenizer,
    [property: JsonPropertyName("corpus")] string Corpus,
    [property: JsonPropertyName("corpus_sha256")] string? CorpusSha256,
    [property: JsonPropertyName("corpus_seed")] int? CorpusSeed,
    [property: JsonPropertyName("skipped_documents")] Dictionary<string, int> SkippedDocuments,
    [property: JsonPropertyName("settings")] AnalysisSettings Settings,
    [property: JsonPropertyName("fused_signals")] string[] FusedSignals,
    [property: JsonPropertyName("signal_definitions")] Dictionary<string, string> SignalDefinitions)
{
    /// <summary>Worker threads the run used (-t/--threads); results do not depend on it.</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = Mspgt.Numerics.Parallelism.Threads;

    /// <summary>Where the forward pass ran: "cpu" or e.g. "cuda:0 (NVIDIA H200)".</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";

    /// <summary>What is exact and what is sampled: per signal group, how many positions per document it read.</summary>
    [JsonPropertyName("sampling")] public Dictionary<string, string> Sampling { get; init; } = [];

    /// <summary>Every skipped document, with its reason (the counts per reason are <see cref="SkippedDocuments"/>).</summary>
    [JsonPropertyName("skipped_document_list")] public SkippedDocument[] SkippedDocumentList { get; init; } = [];
}

/// <summary>
/// What `mspgt analyze --json` prints and summary.json holds. <see cref="KSelected"/> is the calibrated number of
/// boundaries (0 is possible) and <see cref="Boundaries"/> / <see cref="BoundaryCi"/> / <see cref="DepthFractions"/>
/// belong to it; <see cref="KTests"/> are the sequential tests behind it; <see cref="ForcedK2"/> is the best
/// two-boundary fit with its p-value against the smooth null, and <see cref="Segments"/> (the three named scales)
/// always come from it, so interventions have segments to work on whatever K was selected —
/// <see cref="SegmentsFrom"/> says whether they were also selected. Boundary convention: b is the first layer of
/// the next segment; depth fraction b / n_layers. <see cref="Detection"/> holds everything the detector reported.
/// </summary>
public sealed record AnalysisSummary(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("n_layers")] int NLayers,
    [property: JsonPropertyName("n_documents")] int NDocuments,
    [property: JsonPropertyName("n_tokens")] long NTokens,
    [property: JsonPropertyName("signals")] Dictionary<string, double[]> Signals,
    [property: JsonPropertyName("fused")] double[] Fused,
    [property: JsonPropertyName("k_selected")] int KSelected,
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("boundary_ci")] int[][]? BoundaryCi,
    [property: JsonPropertyName("depth_fractions")] double[] DepthFractions,
    [property: JsonPropertyName("k_tests")] IReadOnlyList<KTest> KTests,
    [property: JsonPropertyName("forced_k2")] FitSummary ForcedK2,
    [property: JsonPropertyName("null")] NullSummary Null,
    [property: JsonPropertyName("segments")] Dictionary<string, int[]> Segments,
    [property: JsonPropertyName("segments_from")] string SegmentsFrom,
    [property: JsonPropertyName("scale_order_decided_by")] string ScaleOrderDecidedBy,
    [property: JsonPropertyName("pelt_boundaries")] int[] PeltBoundaries,
    [property: JsonPropertyName("v1_rule_boundaries")] int[] V1RuleBoundaries,
    [property: JsonPropertyName("probes")] Dictionary<string, ProbeReport> Probes,
    [property: JsonPropertyName("cka_matrix")] double[][] CkaMatrix,
    [property: JsonPropertyName("detection")] BoundaryReport Detection,
    [property: JsonPropertyName("manifest")] AnalysisManifest Manifest)
{
    /// <summary>Per signal whose estimator has a sample-size ceiling (mi_ksg), where documents reached it.</summary>
    [JsonPropertyName("saturation")] public Dictionary<string, SaturationReport> Saturation { get; init; } = new();
    /// <summary>mi_gaussian's pooled estimate per block, before it is split into per-document pseudo-values.</summary>
    [JsonPropertyName("mi_gaussian_pooled")] public PooledMiReport? MiGaussianPooled { get; init; }
}

/// <summary>Everything an analysis produced: the summary plus the per-document rows behind it.</summary>
public sealed record AnalysisResult(AnalysisSummary Summary, IReadOnlyList<SignalRow> Rows, string[] SignalOrder, double[][] StandardisedSignals)
{
    /// <summary>How long its stages took (kept out of the summary, which a seed fixes bit for bit).</summary>
    public AnalysisTimings? Timings { get; init; }
}

/// <summary>
/// Wall seconds of an analysis' stages, so that what the signals cost beside the forward passes they need can be read
/// off any run (timings.json). The forward passes include the attention statistics they stream; the per-document
/// signals are everything else measured per document (representations, KSG, TwoNN, CKA, effective rank, the sampled
/// lens, the pooled samples) with the collection after each; the corpus-level signals the pooled MI, the probes and the
/// layer × layer CKA matrix; the boundaries the calibrated tests, their nulls and the bootstrap (statistics, not signals).
/// </summary>
public sealed record AnalysisTimings(
    [property: JsonPropertyName("forward_seconds")] double ForwardSeconds,
    [property: JsonPropertyName("document_signals_seconds")] double DocumentSignalsSeconds,
    [property: JsonPropertyName("corpus_signals_seconds")] double CorpusSignalsSeconds,
    [property: JsonPropertyName("boundaries_seconds")] double BoundariesSeconds,
    [property: JsonPropertyName("documents")] int Documents,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("device")] string Device)
{
    /// <summary>(per-document + corpus-level signals) / forward passes.</summary>
    [JsonPropertyName("signals_over_forward")]
    public double SignalsOverForward => ForwardSeconds > 0 ? (DocumentSignalsSeconds + CorpusSignalsSeconds) / ForwardSeconds : double.NaN;

    public const string FileName = "timings.json";
}

/// <summary>
/// `mspgt analyze`: stream the corpus through the model, measure every signal per document and block, find the
/// boundaries with K chosen by tests against smooth nulls (<see cref="BoundaryDetector"/>; the best two-boundary fit,
/// PELT and the v1 ΔI rule beside it), bootstrap them over documents, and name the scales from the data.
/// </summary>
public static class Analysis
{
    /// <param name="name">The model's name in the tables and the summary (default: the file or folder name).</param>
    public static AnalysisResult Run(LoadedModel model, Corpus corpus, AnalysisSettings s, Action<int, int>? progress = null, string? name = null)
    {
        var c = model.Config;
        if (c.Layers < BoundaryDetector.MinLayers)
            throw new MspgtException(model.Path, $"the model has {c.Layers} layers; finding two boundaries needs at least {BoundaryDetector.MinLayers}");
        var tokenizer = model.Tokenizer ?? throw new MspgtException(model.Path, "analysis needs the model's tokenizer (for sentence positions); give a tokenizer");
        var tf = model.Decoder;
        // Each document's pooled samples wait on disk for the corpus-level stage, so memory does not grow with the corpus.
        using var samples = SampleStore.OnDisk();
        var signals = new DocumentSignals(tf, new SignalSettings
        {
            PcaDims = s.PcaDims, KsgNeighbors = s.KsgNeighbors, LensPositions = s.LensPositions, ExactLens = s.LensExact,
            ProbeTokensPerDocument = s.ProbeTokensPerDocument, MiTokensPerDocument = s.MiTokensPerDocument,
            IncludeBos = s.IncludeBos, Seed = s.Seed,
        }, samples);
        // Two passes: per-document signals, then the pooled MI and cross-fitted probes, which need every document.
        // Pass 2 reads only the kept samples: the weights' pages leave the resident set first, so its working set
        // does not add to theirs (the model stays usable; a later forward pass faults them back in).
        var measurement = CorpusMeasurement.Run(signals, tokenizer, corpus, s, c.Layers, c.Vocab, progress, model.DropResidentWeights);
        var measured = measurement.Measured;
        var skipped = measurement.Skipped;
        var probes = measurement.Probes;

        string[] names = [.. DocumentSignals.PerDocumentSignals, .. probes.Select(p => p.Signal)];
        int D = measured.Count, L = c.Layers, S = names.Length, S0 = DocumentSignals.PerDocumentSignals.Length;
        var cube = new double[D, L, S];
        var rows = new List<SignalRow>();
        string modelName = name ?? ModelName(model.Path);
        for (int d = 0; d < D; d++)
            for (int l = 0; l < L; l++)
                for (int k = 0; k < S; k++)
                {
                    double v = k < S0 ? measured[d].M.Values[l, k] : probes[k - S0].PerDocument[d][l];
                    if (!double.IsFinite(v)) throw new MspgtException("signals", $"{names[k]} is not finite at block {l} of document {measured[d].Doc.Index}");
                    cube[d, l, k] = v;
                    rows.Add(new SignalRow(modelName, measured[d].Doc.Index, l, names[k], v));
                }

        long detectStart = Stopwatch.GetTimestamp();
        var report = BoundaryDetector.Detect(names, cube, Options(s), "signals");
        double boundaries = Stopwatch.GetElapsedTime(detectStart).TotalSeconds;
        var mean = new Dictionary<string, double[]>();
        for (int k = 0; k < S; k++)
        {
            var curve = new double[L];
            for (int l = 0; l < L; l++) { double sum = 0; for (int d = 0; d < D; d++) sum += cube[d, l, k]; curve[l] = sum / D; }
            mean[names[k]] = curve;
        }
        var v1 = L >= 4 ? MutualInformationDropRule.Find(mean[SignalNames.MiGaussian].AsSpan(1)) : [];
        var k2 = report.ForcedK2;
        var naming = ScaleNaming.Assign(k2.Boundaries, L, mean[SignalNames.AttnDistance], mean[SignalNames.ProbeGlobal]);

        // Layer × layer CKA over the pooled sample: embedding and every block's output.
        // Each representation's pooled rows are read back from the sample store when CKA reaches them.
        long ckaStart = Stopwatch.GetTimestamp();
        var pooled = measured.Select(x => x.M.Pooled).ToList();
        var lengths = measured.Select(x => x.M.Positions.Length * signals.PooledDims).ToArray();
        var read = new float[lengths.Max()];
        var layerRows = new Numerics.DenseMatrix(lengths.Sum() / signals.PooledDims, signals.PooledDims);   // every representation's in turn (LayerMatrix keeps none)
        var ckaM = Signals.Estimators.LinearCka.LayerMatrix(L + 1, r =>
        {
            SampleRows.Gather(pooled, lengths, r, read, layerRows.Data);
            return layerRows;
        }, maxSamples: 4096, seed: s.Seed);
        var cka = Enumerable.Range(0, L + 1).Select(i => Enumerable.Range(0, L + 1).Select(j => ckaM[i, j]).ToArray()).ToArray();
        double ckaSeconds = Stopwatch.GetElapsedTime(ckaStart).TotalSeconds;

        var manifest = new AnalysisManifest("mspgt", ProgramInfo.Version, model.Path, model.Format, ModelHash.Of(model),
            tokenizer.Description, corpus.Description, corpus.Sha256, corpus.Seed, CorpusMeasurement.CountByReason(skipped), s,
            names.Where((_, k) => report.Weights[k] > 0).ToArray(),
            SignalNames.All.ToDictionary(a => a.Name, a => a.Meaning))
        {
            SkippedDocumentList = skipped.ToArray(),
            Device = tf.Device,
            Sampling = SamplingNote(c, measured.Select(x => x.Doc.Ids.Length).ToArray(), signals.Settings),
        };
        var summary = new AnalysisSummary(
            modelName, c.Spec.Name, L, D, measured.Sum(x => (long)x.Doc.Ids.Length),
            mean, report.Fused, report.KSelected, report.Boundaries, report.BoundaryCi, report.DepthFractions,
            report.KTests, k2, report.Null,
            new Dictionary<string, int[]> { [ScaleNames.Local] = naming.Local, [ScaleNames.Intermediate] = naming.Intermediate, [ScaleNames.Global] = naming.Global },
            SegmentsFrom(report), naming.DecidedBy, report.Pelt.Boundaries, v1,
            probes.ToDictionary(p => p.Signal, p => new ProbeReport(p.Target, p.Accuracy, p.Chance, p.PeakLayer, p.TrainSamples, p.TestSamples) { Folds = p.Folds }),
            cka, report, manifest)
        { Saturation = new() { [SignalNames.MiKsg] = measurement.KsgSaturation }, MiGaussianPooled = measurement.MiGaussian };
        var z = Enumerable.Range(0, S).Select(k => SignalFusion.ZScore(mean[names[k]])).ToArray();
        return new AnalysisResult(summary, rows, names, z)
        {
            Timings = new AnalysisTimings(measurement.ForwardSeconds, measurement.DocumentSignalsSeconds,
                measurement.CorpusSignalsSeconds + ckaSeconds, boundaries, D, summary.NTokens, manifest.Threads, manifest.Device),
        };
    }

    /// <summary>The boundary model's settings from the analysis settings: the default fused signals, weighted by family.</summary>
    public static BoundaryOptions Options(AnalysisSettings s) => new()
    {
        MaxK = s.MaxK, MinSegmentLength = s.MinSize, Alpha = s.Alpha, NullReplicates = s.NullReplicates, MaxEdf = s.NullMaxEdf,
        Bootstrap = s.Bootstrap, Seed = s.Seed, Penalty = s.Penalty, Weights = s.Weights,
        Use = s.Weights is null ? SignalNames.DefaultFused : null, Families = SignalNames.Families,
    };

    /// <summary>Where the named segments come from, said plainly.</summary>
    public static string SegmentsFrom(BoundaryReport r) => r.KSelected == 2
        ? "k_selected (the calibrated test selected two boundaries)"
        : $"forced_k2 (not selected: the calibrated test selected K = {r.KSelected}; the best two-boundary fit has p = {r.ForcedK2.PValueVsSmooth:0.###} against the smooth null)";

    public static string ModelName(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        return Path.GetFileName(full);
    }

    public const string SummaryFileName = "summary.json";

    /// <summary>Writes the data of an analysis, signals.parquet and summary.json, into dir (each atomically; the
    /// figures are Reporting's <c>AnalysisFigures</c>).</summary>
    public static void WriteData(AnalysisResult r, string dir)
    {
        Directory.CreateDirectory(dir);
        SignalTable.Write(Path.Combine(dir, SignalTable.FileName), r.Rows);
        JsonOutput.WriteFile(Path.Combine(dir, SummaryFileName), r.Summary);
    }

    /// <summary>Writes the run's stage timings, timings.json, into dir (atomically; nothing when there are none).</summary>
    public static void WriteTimings(AnalysisResult r, string dir)
    {
        if (r.Timings is null) return;
        Directory.CreateDirectory(dir);
        JsonOutput.WriteFile(Path.Combine(dir, AnalysisTimings.FileName), r.Timings);
    }

    /// <summary>Per signal group, whether it reads every position or a sample, and how many.</summary>
    private static Dictionary<string, string> SamplingNote(ModelConfig c, int[] tokens, SignalSettings s)
    {
        var lens = tokens.Select(t => DocumentSignals.LensSampleSize(c, t, s)).ToArray();
        string range(int[] v) => v.Length == 0 ? "0" : v.Min() == v.Max() ? $"{v.Min()}" : $"{v.Min()}-{v.Max()}";
        return new()
        {
            ["lens_kl,lens_entropy"] = s.ExactLens
                ? "exact: every position"
                : $"sampled: {range(lens)} evenly spaced positions per document of {range(tokens)} tokens (at most {s.LensPositions}, and no more than keeps the lens within half the forward pass's arithmetic; at least {Math.Min(s.LensPositions, DocumentSignals.MinimumLensPositions)}); standard error about sd/sqrt(n)*sqrt(1-n/T); --exact-lens reads every position",
            ["mi_gaussian,mi_delta"] = $"sampled: up to {s.MiTokensPerDocument} evenly spaced positions per document, pooled",
            ["probes,cka_matrix"] = $"sampled: up to {s.ProbeTokensPerDocument} evenly spaced positions per document",
            ["attn_distance,attn_entropy,attn_entropy_norm,mi_ksg,cka_adjacent,effective_rank,twonn"] = "exact: every position",
        };
    }
}
