using Mspgt.Files;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mspgt.Experiments;

/// <summary>One model of a study. Paths are absolute (resolved against the study file's folder).</summary>
/// <param name="Base">Models sharing a base are the same network in another precision or format (prediction P5);
/// default: the name.</param>
/// <param name="Control">A random-weight control: analysed and reported, but kept out of every prediction.</param>
/// <param name="Student">Checkpoints of one training run share a student label (prediction P6); only the latest
/// checkpoint of a student enters the other predictions.</param>
/// <param name="Step">The checkpoint's training step (default: read from training.json beside the weights).</param>
public sealed record StudyModelSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("size")] string Size,
    [property: JsonPropertyName("precision")] string? Precision,
    [property: JsonPropertyName("base")] string Base,
    [property: JsonPropertyName("tokenizer")] string? Tokenizer,
    [property: JsonPropertyName("control")] bool Control,
    [property: JsonPropertyName("student")] string? Student = null,
    [property: JsonPropertyName("step")] int? Step = null);

/// <summary>The study corpus: a file, or (Path null) Documents documents sampled from each model with Seed.</summary>
public sealed record StudyCorpusSpec(
    [property: JsonPropertyName("path")] string? Path,
    [property: JsonPropertyName("documents")] int Documents,
    [property: JsonPropertyName("seed")] int Seed);

/// <summary>
/// Settings of the intervention step of a study (the options of <c>mspgt intervene</c>); the segments are each
/// model's own K = 2 scales from its analysis.
/// </summary>
public sealed record StudyInterventionSettings
{
    [JsonPropertyName("interventions")] public string[] Interventions { get; init; } = ["noise", "zero", "mean", "resample", "skip"];
    [JsonPropertyName("components")] public string[] Components { get; init; } = ["attn", "mlp"];
    [JsonPropertyName("alpha")] public double[] Alpha { get; init; } = [0.5];
    [JsonPropertyName("controls")] public int Controls { get; init; } = global::Mspgt.Interventions.ControlWindows.DefaultCount;
    [JsonPropertyName("continuations")] public int Continuations { get; init; } = 2;
    [JsonPropertyName("gen_tokens")] public int GenTokens { get; init; } = 48;
    [JsonPropertyName("prompt_tokens")] public int PromptTokens { get; init; } = 32;
    [JsonPropertyName("temperature")] public double Temperature { get; init; } = 1.0;
    [JsonPropertyName("top_p")] public double TopP { get; init; } = 1.0;
    [JsonPropertyName("seed")] public int Seed { get; init; }
    [JsonPropertyName("bootstrap")] public int Bootstrap { get; init; } = 2000;
    [JsonPropertyName("permutations")] public int Permutations { get; init; } = 10_000;
    /// <summary>Documents of the corpus used for interventions (the first N); null: all.</summary>
    [JsonPropertyName("documents")] public int? Documents { get; init; }
}

/// <summary>A parsed, validated study file.</summary>
public sealed record StudyDefinition(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("study_file")] string StudyFile,
    [property: JsonPropertyName("output")] string Output,
    [property: JsonPropertyName("corpus")] StudyCorpusSpec Corpus,
    [property: JsonPropertyName("analyze")] AnalysisSettings Analyze,
    [property: JsonPropertyName("intervene")] StudyInterventionSettings? Intervene,
    [property: JsonPropertyName("models")] IReadOnlyList<StudyModelSpec> Models,
    [property: JsonPropertyName("device")] string? Device = null);

/// <summary>
/// Reads a study file (JSON, or YAML for .yaml/.yml) into a <see cref="StudyDefinition"/>. Every problem is one
/// <see cref="MspgtException"/> naming the file and the key path (e.g. <c>models[2].path</c>); unknown keys are
/// errors, so a typo never silently falls back to a default.
/// <code>
/// { "title": "...", "output": "out/x",                        // relative paths: against the study file's folder
///   "corpus": { "path": "stories.jsonl" }  |  { "documents": 64, "seed": 0 },   // absent: sampled, 64 documents
///   "analyze": { "bootstrap": 200, "max_tokens": 256, ... },   // AnalysisSettings keys
///   "intervene": { "alpha": [0.25, 0.5, 1], ... },             // optional; StudyInterventionSettings keys
///   "models": [ { "name", "path", "family", "size", "precision"?, "base"?, "tokenizer"?, "control"?, "student"?, "step"? } ],
///   "device": "cuda" }                                          // optional: auto, cpu (default), cuda, cuda:N
/// </code>
/// </summary>
public static class StudyFile
{
    private static readonly string[] TopKeys = ["title", "output", "corpus", "analyze", "intervene", "models", "device"];
    private static readonly string[] ModelKeys = ["name", "path", "family", "size", "precision", "base", "tokenizer", "control", "student", "step"];
    private static readonly string[] CorpusKeys = ["path", "documents", "seed"];

    /// <param name="outputOverride">--out: replaces the file's "output" (relative to the current folder).</param>
    /// <param name="relativeTo">Folder that relative paths in the file resolve against (default: the file's own folder).</param>
    public static StudyDefinition Load(string path, string? outputOverride = null, string? relativeTo = null)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "study file not found");
        string text;
        try { text = RegularFile.ReadAllText(path, "study file"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MspgtException(path, $"cannot read: {e.Message}"); }
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        JsonNode? root = ext is ".yaml" or ".yml" ? ParseYaml(path, text) : ParseJson(path, text);
        return Parse(root, path, outputOverride, relativeTo);
    }

    private static JsonNode? ParseJson(string path, string text)
    {
        try { return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new MspgtException(path, JsonOutput.Problem(e)); }
    }

    /// <summary>YAML → the same JSON tree: plain scalars become numbers / booleans / null where they read as such.</summary>
    private static JsonNode? ParseYaml(string path, string text)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e) { throw new MspgtException(path, $"invalid YAML at line {e.Start.Line}: {FirstLine(e.Message)}"); }
        catch (InvalidOperationException e) { throw new MspgtException(path, $"invalid YAML: {FirstLine(e.Message)}"); } // YamlDotNet's parser on some malformed input
        if (stream.Documents.Count != 1) throw new MspgtException(path, $"expected one YAML document, found {stream.Documents.Count}");
        return Convert(stream.Documents[0].RootNode);

        JsonNode? Convert(YamlNode n)
        {
            switch (n)
            {
                case YamlMappingNode m:
                    var o = new JsonObject();
                    foreach (var (k, v) in m.Children)
                    {
                        string key = k is YamlScalarNode ks ? ks.Value ?? "" : throw new MspgtException(path, $"line {k.Start.Line}: keys must be plain names");
                        if (o.ContainsKey(key)) throw new MspgtException(path, $"line {k.Start.Line}: key '{key}' given twice");
                        o[key] = Convert(v);
                    }
                    return o;
                case YamlSequenceNode s:
                    var a = new JsonArray();
                    foreach (var item in s.Children) a.Add(Convert(item));
                    return a;
                case YamlScalarNode sc:
                    string val = sc.Value ?? "";
                    if (sc.Style is ScalarStyle.Plain)
                    {
                        if (val is "" or "~" or "null" or "Null" or "NULL") return null;
                        if (val is "true" or "True" or "TRUE") return JsonValue.Create(true);
                        if (val is "false" or "False" or "FALSE") return JsonValue.Create(false);
                        if (long.TryParse(val, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) return JsonValue.Create(l);
                        if (double.TryParse(val, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) return JsonValue.Create(d);
                    }
                    return JsonValue.Create(val);
                default:
                    throw new MspgtException(path, $"line {n.Start.Line}: unsupported YAML node (anchors and aliases are not supported)");
            }
        }
    }

    /// <summary>Validates a study given as a JSON tree; relative paths resolve against the study file's folder.</summary>
    public static StudyDefinition Parse(JsonNode? root, string studyPath, string? outputOverride = null, string? relativeTo = null)
    {
        string src = studyPath;
        string baseDir = relativeTo != null ? System.IO.Path.GetFullPath(relativeTo) : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(studyPath))!;
        var top = AsObject(root, "the study", src);
        CheckKeys(top, TopKeys, "the study", src);

        string title = OptionalString(top, "title", "title", src) ?? System.IO.Path.GetFileNameWithoutExtension(studyPath);
        string? outRel = OptionalString(top, "output", "output", src);
        string output = outputOverride != null ? System.IO.Path.GetFullPath(outputOverride)
            : outRel != null ? System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, outRel))
            : throw new MspgtException(src, "no \"output\" folder given (set \"output\" in the study file or pass --out)");
        if (File.Exists(output)) throw new MspgtException(src, $"output {output} is a file, not a folder");

        var analyze = top["analyze"] is null ? new AnalysisSettings() : Bind<AnalysisSettings>(top["analyze"], "analyze", src);
        ValidateAnalysis(analyze, src);

        StudyCorpusSpec corpus;
        if (top["corpus"] is null) corpus = new StudyCorpusSpec(null, analyze.Documents, analyze.Seed);
        else
        {
            var c = AsObject(top["corpus"], "corpus", src);
            CheckKeys(c, CorpusKeys, "corpus", src);
            string? cp = OptionalString(c, "path", "corpus.path", src);
            int? docs = OptionalInt(c, "documents", "corpus.documents", src);
            int? seed = OptionalInt(c, "seed", "corpus.seed", src);
            if (cp != null && (docs != null || seed != null))
                throw new MspgtException(src, "corpus: give either \"path\" (a corpus file) or \"documents\"/\"seed\" (sampled from each model), not both");
            if (cp != null)
            {
                string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, cp));
                if (!File.Exists(full)) throw new MspgtException(src, $"corpus.path: file {full} not found");
                corpus = new StudyCorpusSpec(full, analyze.Documents, analyze.Seed);
            }
            else
            {
                int d = docs ?? analyze.Documents;
                if (d < 2) throw new MspgtException(src, $"corpus.documents: must be ≥ 2, got {d}");
                corpus = new StudyCorpusSpec(null, d, seed ?? analyze.Seed);
                analyze = analyze with { Documents = d };
            }
        }

        StudyInterventionSettings? intervene = top["intervene"] is null ? null : Bind<StudyInterventionSettings>(top["intervene"], "intervene", src);
        if (intervene != null) ValidateIntervene(intervene, src);

        if (top["models"] is not JsonArray arr) throw new MspgtException(src, "\"models\" must be a list of models");
        if (arr.Count == 0) throw new MspgtException(src, "\"models\" is empty");
        var models = new List<StudyModelSpec>();
        for (int i = 0; i < arr.Count; i++)
        {
            string at = $"models[{i}]";
            var m = AsObject(arr[i], at, src);
            CheckKeys(m, ModelKeys, at, src);
            string mp = OptionalString(m, "path", $"{at}.path", src) ?? throw new MspgtException(src, $"{at}: \"path\" is missing");
            string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, mp));
            if (!File.Exists(full) && !Directory.Exists(full)) throw new MspgtException(src, $"{at}.path: {full} not found");
            string name = OptionalString(m, "name", $"{at}.name", src) ?? Analysis.ModelName(full);
            if (name.Length == 0 || name.Length > 80 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '_') || name.StartsWith('.'))
                throw new MspgtException(src, $"{at}.name: \"{name}\" must be 1–80 characters of letters, digits, '.', '-', '_' (it names a folder)");
            bool control = OptionalBool(m, "control", $"{at}.control", src) ?? false;
            string? family = OptionalString(m, "family", $"{at}.family", src);
            string? size = OptionalString(m, "size", $"{at}.size", src);
            if (!control && string.IsNullOrWhiteSpace(family)) throw new MspgtException(src, $"{at} ({name}): \"family\" is missing (e.g. \"llama\" or \"qwen\")");
            if (!control && string.IsNullOrWhiteSpace(size)) throw new MspgtException(src, $"{at} ({name}): \"size\" is missing (e.g. \"260K\")");
            string? tok = OptionalString(m, "tokenizer", $"{at}.tokenizer", src);
            if (tok != null)
            {
                tok = System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, tok));
                if (!File.Exists(tok) && !Directory.Exists(tok)) throw new MspgtException(src, $"{at}.tokenizer: {tok} not found");
            }
            string? student = OptionalString(m, "student", $"{at}.student", src);
            int? step = null;
            if (m["step"] is JsonNode stepNode)
                step = stepNode is JsonValue sv && sv.TryGetValue(out int si) && si >= 0 ? si : throw new MspgtException(src, $"{at}.step: must be a non-negative integer");
            else if (student != null) step = TrainingStepOf(full);
            if (student != null && step == null)
                throw new MspgtException(src, $"{at} ({name}): a student checkpoint needs \"step\" (or a training.json beside its weights)");
            models.Add(new StudyModelSpec(name, full, family ?? "control", size ?? "", OptionalString(m, "precision", $"{at}.precision", src),
                OptionalString(m, "base", $"{at}.base", src) ?? name, tok, control, student, step));
        }
        var dup = models.GroupBy(m => m.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new MspgtException(src, $"model name \"{dup.Key}\" is used twice; give each model a distinct \"name\"");
        // Where each model's forward pass runs (auto, cpu, cuda, cuda:N); `mspgt study --device` overrides it.
        string? device = OptionalString(top, "device", "device", src);
        if (device != null)
        {
            try { device = Models.Gpu.DeviceSpec.Parse(device, "device").ToString(); }
            catch (MspgtException e) { throw new MspgtException(src, e.Message); }
        }
        return new StudyDefinition(title, System.IO.Path.GetFullPath(studyPath), output, corpus, analyze, intervene, models, device);
    }

    private static void ValidateAnalysis(AnalysisSettings s, string src)
    {
        if (s.MaxTokens < 2) throw new MspgtException(src, $"analyze.max_tokens: must be ≥ 2, got {s.MaxTokens}");
        if (s.Documents < 2) throw new MspgtException(src, $"analyze.documents: must be ≥ 2, got {s.Documents}");
        if (s.Bootstrap < 1) throw new MspgtException(src, $"analyze.bootstrap: must be ≥ 1 (the study's intervals come from it), got {s.Bootstrap}");
        if (s.MaxK is < 2 or > 10) throw new MspgtException(src, $"analyze.max_k: must be 2..10, got {s.MaxK}");
        if (s.MinSize < 1) throw new MspgtException(src, $"analyze.min_size: must be ≥ 1, got {s.MinSize}");
        if (!(s.Alpha > 0 && s.Alpha < 1)) throw new MspgtException(src, $"analyze.alpha: must lie strictly between 0 and 1, got {s.Alpha}");
        if (s.NullReplicates < 19) throw new MspgtException(src, $"analyze.null_replicates: must be ≥ 19, got {s.NullReplicates}");
        if (!(s.NullMaxEdf >= 2) || !double.IsFinite(s.NullMaxEdf)) throw new MspgtException(src, $"analyze.null_max_edf: must be a finite number ≥ 2, got {s.NullMaxEdf}");
        if (s.PcaDims < 1) throw new MspgtException(src, $"analyze.pca_dims: must be ≥ 1, got {s.PcaDims}");
        if (s.KsgNeighbors < 1) throw new MspgtException(src, $"analyze.ksg_neighbors: must be ≥ 1, got {s.KsgNeighbors}");
        if (s.ProbeTokensPerDocument < 3)
            throw new MspgtException(src, $"analyze.probe_tokens_per_document: must be ≥ 3 (the document probe trains on a document's first 60% of positions and scores the rest), got {s.ProbeTokensPerDocument}");
        if (s.ProbeLocalClasses < 2) throw new MspgtException(src, $"analyze.probe_local_classes: must be ≥ 2, got {s.ProbeLocalClasses}");
        // Zero positions would give every block a lens KL and entropy of 0 rather than an error.
        if (s.LensPositions < 1) throw new MspgtException(src, $"analyze.lens_positions: must be ≥ 1, got {s.LensPositions}");
        if (s.MiTokensPerDocument < 2) throw new MspgtException(src, $"analyze.mi_tokens_per_document: must be ≥ 2, got {s.MiTokensPerDocument}");
        if (s.Weights is { } w && w.Any(kv => !double.IsFinite(kv.Value) || kv.Value < 0))
            throw new MspgtException(src, "analyze.weights: every weight must be a finite number ≥ 0");
    }

    private static void ValidateIntervene(StudyInterventionSettings s, string src)
    {
        if (s.Interventions.Length == 0) throw new MspgtException(src, "intervene.interventions: empty");
        foreach (var k in s.Interventions)
            if (k is not ("noise" or "zero" or "mean" or "resample" or "skip"))
                throw new MspgtException(src, $"intervene.interventions: unknown intervention \"{k}\" (noise, zero, mean, resample, skip)");
        foreach (var c in s.Components)
            if (c is not ("attn" or "mlp" or "both")) throw new MspgtException(src, $"intervene.components: unknown component \"{c}\" (attn, mlp, both)");
        if (s.Alpha.Length == 0 || s.Alpha.Any(a => !double.IsFinite(a) || a < 0)) throw new MspgtException(src, "intervene.alpha: give one or more finite values ≥ 0");
        if (s.Controls < 1) throw new MspgtException(src, $"intervene.controls: must be ≥ 1, got {s.Controls}");
        if (s.Continuations < 0) throw new MspgtException(src, $"intervene.continuations: must be ≥ 0, got {s.Continuations}");
        if (s.Documents is < 2) throw new MspgtException(src, $"intervene.documents: must be ≥ 2, got {s.Documents}");
        // The run's own checks that need no model (sampling, resamples, prompt and continuation lengths).
        try { StudyInterventions.RunSettings(s, []).Validate(); }
        catch (MspgtException e) when (e.Setting != null) { throw e.InFile(src, "intervene"); }
    }

    /// <summary>Binds an object onto a settings record after checking its keys against the record's JSON names.</summary>
    private static T Bind<T>(JsonNode? node, string at, string src)
    {
        var o = AsObject(node, at, src);
        var known = typeof(T).GetProperties().Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name).OfType<string>().ToArray();
        CheckKeys(o, known, at, src);
        try { return o.Deserialize<T>(Files.JsonOutput.Options) ?? throw new MspgtException(src, $"{at}: is null"); }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 1 } p ? $"{at}{p[1..]}" : at;
            throw new MspgtException(src, $"{where}: wrong type ({FirstLine(e.Message).Split(" Path:")[0]})");
        }
    }

    private static JsonObject AsObject(JsonNode? node, string at, string src) =>
        node as JsonObject ?? throw new MspgtException(src, $"{at} must be an object with keys");

    private static void CheckKeys(JsonObject o, IReadOnlyCollection<string> known, string at, string src)
    {
        foreach (var (key, _) in o)
            if (!known.Contains(key))
                throw new MspgtException(src, $"{at}: unknown key \"{key}\" (known: {string.Join(", ", known)})");
    }

    private static string? OptionalString(JsonObject o, string key, string at, string src) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new MspgtException(src, $"{at}: must be a string"),
    };

    private static int? OptionalInt(JsonObject o, string key, string at, string src) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i) => i,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long l) && l is >= int.MinValue and <= int.MaxValue => (int)l,
        _ => throw new MspgtException(src, $"{at}: must be an integer"),
    };

    private static bool? OptionalBool(JsonObject o, string key, string at, string src) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw new MspgtException(src, $"{at}: must be true or false"),
    };

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    /// <summary>The "step" of a checkpoint folder's training.json (written by `mspgt train`), or null.</summary>
    private static int? TrainingStepOf(string modelPath)
    {
        string dir = Directory.Exists(modelPath) ? modelPath : System.IO.Path.GetDirectoryName(modelPath)!;
        string tj = System.IO.Path.Combine(dir, "training.json");
        if (!File.Exists(tj)) return null;
        try
        {
            return JsonNode.Parse(RegularFile.ReadAllText(tj))?["step"] is JsonValue v && v.TryGetValue(out int st) ? st : null;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }
}
