using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Mspgt.Experiments.Predictions;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Reporting;
using Mspgt.Corpora;
using Mspgt.Files;
using Mspgt.Signals;

namespace Mspgt.Experiments;

/// <summary>
/// model.json in a model's cache folder: what was analysed and the key it was cached under. Written last, after
/// every other file of the folder, so its presence with a matching key means the model's analysis is complete.
/// </summary>
public sealed record StudyModelRecord(
    [property: JsonPropertyName("cache_key")] string CacheKey,
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
    [property: JsonPropertyName("version")] string Version);

/// <summary>One model's results in a study: its spec, analysis and (when run) intervention outcome.</summary>
/// <param name="Folder">The model's cache folder, relative to the study output folder.</param>
/// <param name="FromCache">True when the analysis was read from a previous run instead of computed.</param>
/// <param name="InterventionsFolder">The intervention run's folder, relative to the study output folder; null when none ran.</param>
public sealed record StudyModelResult(StudyModelSpec Spec, StudyModelRecord Record, AnalysisSummary Summary, string Folder,
    StudyInterventionOutcome? Interventions, bool FromCache, string? InterventionsFolder = null);

/// <summary>How a study run reports progress and how tests interrupt it.</summary>
public sealed class StudyOptions
{
    /// <summary>(what is running, done, total), e.g. ("[2/6] stories-llama-12L: documents", 3, 5).</summary>
    public Action<string, int, int>? Progress { get; init; }
    /// <summary>One line per model: computed or read from the cache.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Checked between models and between documents; a cancelled study resumes on the next run.</summary>
    public CancellationToken Cancellation { get; init; }
    /// <summary>Called after model i's results are saved (before the next model starts).</summary>
    public Action<int, StudyModelResult>? AfterModel { get; init; }
    /// <summary>The clock for the manifest's date (tests pin it).</summary>
    public Func<DateTimeOffset> Now { get; init; } = () => DateTimeOffset.UtcNow;
    /// <summary>Resamples for the prediction intervals (P2, P3).</summary>
    public int PredictionResamples { get; init; } = StudyPredictions.DefaultResamples;
    /// <summary>How long to wait for a model another process is computing before giving up (default: 12 hours).</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromHours(12);
}

/// <summary>What one shard of a study did: the models assigned to it, each computed or found in the cache.</summary>
public sealed record StudyShardResult(StudyDefinition Definition, StudyShard Shard, IReadOnlyList<StudyModelResult> Models);

/// <summary>Everything a finished study produced.</summary>
public sealed record StudyResult(StudyDefinition Definition, IReadOnlyList<StudyModelResult> Models, IReadOnlyList<Prediction> Predictions,
    StudySummary Summary);

/// <summary>
/// `mspgt study`: analyses every model of a study (and runs its interventions when the study asks for them),
/// caching each model under OUT/models/&lt;name&gt;-&lt;key12&gt;/, where the key is a sha256 over the model's files,
/// the tokenizer, the corpus and every setting; a re-run reads finished models back and computes only the rest, so an
/// interrupted study resumes where it stopped. Then evaluates the predictions; Reporting's StudyReport writes
/// study.json, the Parquet tables, report.html and the figures from the result.
/// </summary>
public static class StudyRunner
{
    public const string ModelsFolder = "models";
    public const string RecordFileName = "model.json";
    public const string SummaryFileName = "summary.json";

    /// <summary>Every model (computed, or read from the cache), then the predictions.</summary>
    public static StudyResult Run(StudyDefinition def, StudyOptions? options = null) => Finish(def, RunModels(def, options, _ => true, compute: true), options);

    /// <summary>
    /// Only the models <see cref="StudyShard.Assign"/> gives to <paramref name="shard"/>, into the shared cache; no
    /// predictions and no study outputs (a later <see cref="Run"/> or <see cref="Merge"/> finds every model cached).
    /// </summary>
    public static StudyShardResult RunShard(StudyDefinition def, StudyShard shard, StudyOptions? options = null)
    {
        var owner = StudyShard.Assign(def, shard.Count);
        return new StudyShardResult(def, shard, RunModels(def, options, i => owner[i] == shard.Index, compute: true));
    }

    /// <summary>
    /// The study from its cache alone: every model must be there (analysis and, when the study asks for them,
    /// interventions), else one error lists what is missing and which shard computes it.
    /// </summary>
    public static StudyResult Merge(StudyDefinition def, StudyOptions? options = null, int? shards = null)
    {
        var missing = new List<string>();
        var results = RunModels(def, options, _ => true, compute: false, missing);
        if (missing.Count > 0)
        {
            var owner = shards is int n ? StudyShard.Assign(def, n) : null;
            string Where(string name) => owner is null ? "" : $" (shard {owner[def.Models.ToList().FindIndex(m => m.Name == name)]}/{shards})";
            throw new MspgtException(def.StudyFile, $"{missing.Count} unit(s) not computed yet: {string.Join(", ", missing.Select(m => m + Where(m.Split(':')[0])))}");
        }
        return Finish(def, results, options);
    }

    private static List<StudyModelResult> RunModels(StudyDefinition def, StudyOptions? options, Func<int, bool> include, bool compute,
        List<string>? missing = null)
    {
        var o = options ?? new StudyOptions();
        Directory.CreateDirectory(def.Output);
        string? corpusSha = def.Corpus.Path != null ? FileHashes.Sha256(def.Corpus.Path) : null;
        var results = new List<StudyModelResult>();
        for (int i = 0; i < def.Models.Count; i++)
        {
            if (!include(i)) continue;
            o.Cancellation.ThrowIfCancellationRequested();
            var r = RunModel(def, def.Models[i], corpusSha, $"[{i + 1}/{def.Models.Count}] {def.Models[i].Name}", o, compute, missing);
            if (r is null) continue;
            results.Add(r);
            o.AfterModel?.Invoke(i, r);
        }
        return results;
    }

    private static StudyResult Finish(StudyDefinition def, List<StudyModelResult> results, StudyOptions? options)
    {
        var o = options ?? new StudyOptions();
        var predictions = StudyPredictions.Evaluate(
            results.Select(r => new PredictionInput(r.Spec, r.Summary, r.Interventions)).ToList(), def.Analyze.Seed, o.PredictionResamples);
        var summary = StudyOutputs.Summarise(def, results, predictions, o.Now(), o.PredictionResamples);
        return new StudyResult(def, results, predictions, summary);
    }

    /// <summary>The cache key of one model's analysis: sha256 over a canonical description of all its inputs.</summary>
    public static string CacheKey(string modelSha, string? tokenizerSha, string? corpusSha, StudyCorpusSpec corpus, AnalysisSettings settings)
    {
        var sb = new StringBuilder();
        sb.Append("mspgt-study-analysis/1\n");
        sb.Append("version ").Append(ProgramInfo.Version).Append('\n');
        sb.Append("model ").Append(modelSha).Append('\n');
        sb.Append("tokenizer ").Append(tokenizerSha ?? "model's own").Append('\n');
        sb.Append(corpusSha != null ? $"corpus file {corpusSha}\n" : $"corpus sampled {corpus.Documents} seed {corpus.Seed}\n");
        sb.Append("settings ").Append(JsonOutput.Serialize(settings)).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>
    /// One model: its analysis and intervention step from the cache, or computed (under the model's lock, so two
    /// processes sharing the cache never compute the same unit: the second waits, then reads what the first wrote).
    /// With <paramref name="compute"/> false, a unit not in the cache is added to <paramref name="missing"/> and the
    /// model returns null.
    /// </summary>
    private static StudyModelResult? RunModel(StudyDefinition def, StudyModelSpec spec, string? corpusSha, string label, StudyOptions o,
        bool compute = true, List<string>? missing = null)
    {
        using var m = ModelLoader.Load(spec.Path, spec.Tokenizer);
        if (def.Device is string device) m.UseDevice(Models.Gpu.DeviceSpec.Parse(device, "device"), note: o.Log, deferred: true);
        var tok = m.Tokenizer ?? throw new MspgtException(spec.Path, m.TokenizerError != null
            ? $"cannot read the model's tokenizer ({m.TokenizerError}); set \"tokenizer\" for model {spec.Name} in the study file"
            : $"no tokenizer found for model {spec.Name}; set its \"tokenizer\" in the study file (tokenizer.json, a llama2.c vocab or a .gguf)");
        var settings = def.Analyze with { MaxTokens = Math.Min(def.Analyze.MaxTokens, m.Config.MaxSeq) };
        string modelSha = ModelHash.Of(m);
        string? tokSha = spec.Tokenizer == null ? null
            : Directory.Exists(spec.Tokenizer) ? FileHashes.Sha256(Directory.GetFiles(spec.Tokenizer).OrderBy(f => f, StringComparer.Ordinal))
            : FileHashes.Sha256(spec.Tokenizer);
        string key = CacheKey(modelSha, tokSha, corpusSha, def.Corpus, settings);
        // Folders are named after the model; the key that says what they hold is in model.json (and the manifest).
        string rel = Path.Combine(ModelsFolder, spec.Name);
        string dir = Path.Combine(def.Output, rel);

        // A setting that fails only against this model is reported as the study file's key (analyze.min_size).
        T InSection<T>(string? section, Func<T> step)
        {
            try { return step(); }
            catch (MspgtException e) when (e.Setting != null) { throw e.InFile(def.StudyFile, section); }
        }

        Corpus? corpus = null;
        Corpus GetCorpus() => corpus ??= InSection(null, () => new CorpusSource(def.Corpus.Path, def.Corpus.Documents, settings.MaxTokens, def.Corpus.Seed)
            .Open(m.Decoder, tok,
                d => { o.Cancellation.ThrowIfCancellationRequested(); o.Progress?.Invoke($"{label}: sampling corpus", d, def.Corpus.Documents); }));

        var (record, summary) = TryReadCached(dir, key);
        bool cached = summary != null;
        using var unitLock = summary == null && compute ? StudyLock.Acquire(def.Output, Path.GetFileName(dir), o, label) : null;
        if (unitLock is not null) { (record, summary) = TryReadCached(dir, key); cached = summary != null; } // done meanwhile?
        if (summary == null && !compute)
        {
            missing!.Add($"{spec.Name}: analysis");
            return null;
        }
        if (summary == null)
        {
            // Another key's results may be here (changed settings): unmark the folder before anything is rewritten.
            if (File.Exists(Path.Combine(dir, RecordFileName))) File.Delete(Path.Combine(dir, RecordFileName));
            var c = GetCorpus();
            var result = InSection("analyze", () => Analysis.Run(m, c, settings, (done, total) =>
            {
                o.Cancellation.ThrowIfCancellationRequested();
                o.Progress?.Invoke($"{label}: documents", done, total);
            }, spec.Name));
            Analysis.WriteData(result, dir);
            summary = result.Summary;
            record = new StudyModelRecord(key, spec.Name, spec.Path, m.Format, modelSha, tok.Description, tokSha,
                c.Description, c.Sha256, c.Seed, settings, ProgramInfo.Version);
            JsonOutput.WriteFile(Path.Combine(dir, RecordFileName), record); // last: marks the folder complete
        }
        o.Log?.Invoke(cached ? $"{label}: read from {rel}" : $"{label}: analysed into {rel}");

        // The intervention step: its own folder, keyed by the analysis key and the intervene settings (the key is in
        // the outcome file), complete when its outcome file with that key exists (written last).
        StudyInterventionOutcome? interventions = null;
        string? ivRel = null;
        if (def.Intervene is { } iv)
        {
            o.Cancellation.ThrowIfCancellationRequested();
            string ivKey = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{JsonOutput.Serialize(iv)}")));
            ivRel = Path.Combine(rel, StudyInterventions.FolderName);
            string ivDir = Path.Combine(def.Output, ivRel), outcomePath = Path.Combine(ivDir, StudyInterventions.OutcomeFileName);
            interventions = ReadOutcome(outcomePath, ivKey);
            if (interventions == null && !compute)
            {
                missing!.Add($"{spec.Name}: interventions");
                return null;
            }
            using var ivLock = interventions == null ? unitLock ?? StudyLock.Acquire(def.Output, Path.GetFileName(dir), o, label) : null;
            if (ivLock is not null && unitLock is null) interventions = ReadOutcome(outcomePath, ivKey); // done meanwhile?
            if (interventions == null)
            {
                if (File.Exists(outcomePath)) File.Delete(outcomePath);
                var c = GetCorpus();
                interventions = InSection("intervene", () => StudyInterventions.Run(m, c, summary, iv, ivDir,
                    (done, total) => { o.Cancellation.ThrowIfCancellationRequested(); o.Progress?.Invoke($"{label}: interventions", done, total); }))
                    with { CacheKey = ivKey };
                JsonOutput.WriteFile(outcomePath, interventions);
                o.Log?.Invoke($"{label}: interventions into {ivRel}");
            }
            else o.Log?.Invoke($"{label}: interventions read from {ivRel}");
        }
        return new StudyModelResult(spec, record!, summary, rel, interventions, cached, ivRel);
    }

    /// <summary>The intervention outcome written for <paramref name="key"/>, or null (absent, damaged, or another key's).</summary>
    private static StudyInterventionOutcome? ReadOutcome(string path, string key)
    {
        if (!File.Exists(path)) return null;
        try { return JsonOutput.ReadFile<StudyInterventionOutcome>(path) is { } o && o.CacheKey == key ? o : null; }
        catch (MspgtException) { return null; } // damaged: recompute
    }

    /// <summary>A complete cache folder (model.json with the same key, and a readable summary.json), else (null, null).</summary>
    private static (StudyModelRecord?, AnalysisSummary?) TryReadCached(string dir, string key)
    {
        string recordPath = Path.Combine(dir, RecordFileName), summaryPath = Path.Combine(dir, SummaryFileName);
        if (!File.Exists(recordPath) || !File.Exists(summaryPath)) return (null, null);
        try
        {
            var record = JsonOutput.ReadFile<StudyModelRecord>(recordPath);
            if (record.CacheKey != key) return (null, null);
            var summary = JsonOutput.ReadFile<AnalysisSummary>(summaryPath);
            if (!File.Exists(Path.Combine(dir, SignalTable.FileName))) return (null, null);
            return (record, summary);
        }
        catch (MspgtException)
        {
            return (null, null); // a damaged cache entry is recomputed, never trusted
        }
    }
}
