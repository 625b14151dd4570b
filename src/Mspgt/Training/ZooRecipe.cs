using Mspgt.Files;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mspgt.Training;

/// <summary>One student of a zoo: a name (its folder under the zoo's output) and its settings.</summary>
public sealed record ZooStudent(string Name, TrainSettings Settings);

/// <summary>
/// A zoo recipe (JSON): students that share one corpus (a teacher sampled once, or a corpus file) and one tokenizer.
/// Keys mirror `mspgt train`'s options in snake_case; "defaults" apply to every student, a student's own keys win.
/// <code>
/// { "teacher": "../shared/models/stories260K/stories260K.bin", "teacher_docs": 2000, "teacher_doc_tokens": 256,
///   "teacher_seed": 1, "defaults": { "dim": 64, "heads": 4, "kv_heads": 2, "ffn": 172, "tied": true, "seq": 128,
///   "batch": 8, "steps": 200, "lr": 0.003, "warmup": 20, "seed": 1, "checkpoint_every": 50, "eval_every": 25 },
///   "students": [ { "name": "llama-4L", "arch": "llama", "layers": 4 }, { "name": "qwen3-4L", "arch": "qwen3", "layers": 4 } ] }
/// </code>
/// Paths are relative to the recipe file.
/// </summary>
public sealed record ZooRecipe
{
    /// <summary>The recipe file (errors about its settings name it).</summary>
    public required string File { get; init; }
    /// <summary>The shared corpus: "teacher", "teacher_docs", "teacher_doc_tokens", "teacher_seed", "corpus", "tokenizer".</summary>
    public required TrainingDataSource Data { get; init; }
    public required IReadOnlyList<ZooStudent> Students { get; init; }

    private static readonly HashSet<string> StudentKeys =
    [
        "name", "arch", "layers", "dim", "heads", "kv_heads", "ffn", "head_dim", "tied", "seq", "batch", "steps", "lr", "warmup",
        "weight_decay", "clip", "seed", "init_std", "rope_theta", "norm_eps", "max_positions", "checkpoint_every", "eval_every", "eval_windows",
    ];

    public static ZooRecipe Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new MspgtException(path, "zoo recipe not found");
        JsonNode? root;
        try { root = JsonNode.Parse(RegularFile.ReadAllText(path)); }
        catch (JsonException e) { throw new MspgtException(path, JsonOutput.Problem(e)); }
        if (root is not JsonObject o) throw new MspgtException(path, "a zoo recipe is a JSON object");
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? PathOf(string key) => o[key] is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrEmpty(s) ? Path.GetFullPath(Path.Combine(dir, s)) : null;
        int IntOf(JsonObject obj, string key, int dflt) =>
            obj[key] is null ? dflt : obj[key] is JsonValue v && v.TryGetValue(out int i) ? i : throw new MspgtException(path, $"\"{key}\" must be an integer");
        foreach (var (k, _) in o)
            if (k is not ("teacher" or "teacher_docs" or "teacher_doc_tokens" or "teacher_seed" or "corpus" or "tokenizer" or "defaults" or "students"))
                throw new MspgtException(path, $"unknown key \"{k}\"");
        var defaults = o["defaults"] as JsonObject ?? [];
        if (o["students"] is not JsonArray arr || arr.Count == 0) throw new MspgtException(path, "\"students\" must be a non-empty array");
        var students = new List<ZooStudent>();
        foreach (var node in arr)
        {
            string at = $"students[{students.Count}]";
            if (node is not JsonObject s) throw new MspgtException(path, "each student is a JSON object");
            var merged = new JsonObject();
            foreach (var (k, v) in defaults) merged[k] = v?.DeepClone();
            foreach (var (k, v) in s) merged[k] = v?.DeepClone();
            foreach (var (k, _) in merged)
                if (!StudentKeys.Contains(k)) throw new MspgtException(path, $"unknown student key \"{k}\"; known: {string.Join(", ", StudentKeys)}");
            string name = merged["name"]?.GetValue<string>() ?? throw new MspgtException(path, "a student has no \"name\"");
            if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.StartsWith('.') || name == "corpus")
                throw new MspgtException(path, $"student name \"{name}\" is not usable as a folder name");
            if (students.Any(x => x.Name == name)) throw new MspgtException(path, $"two students are named \"{name}\"");
            try { students.Add(new ZooStudent(name, SettingsFrom(merged, path))); }
            catch (MspgtException e) when (e.Setting != null) { throw e.InFile(path, at); }
        }
        var data = new TrainingDataSource
        {
            Teacher = PathOf("teacher"), Corpus = PathOf("corpus"), Tokenizer = PathOf("tokenizer"),
            TeacherDocs = IntOf(o, "teacher_docs", 2000), TeacherDocTokens = IntOf(o, "teacher_doc_tokens", 256), TeacherSeed = IntOf(o, "teacher_seed", 1),
        };
        if ((data.Teacher == null) == (data.Corpus == null)) throw new MspgtException(path, "give exactly one of \"teacher\" and \"corpus\"");
        if (data.Corpus != null && data.Tokenizer == null) throw new MspgtException(path, "a \"corpus\" recipe needs a \"tokenizer\"");
        return new ZooRecipe { File = path, Data = data, Students = students };
    }

    private static TrainSettings SettingsFrom(JsonObject m, string path)
    {
        T Get<T>(string key, T dflt)
        {
            if (m[key] is null) return dflt;
            try { return m[key]!.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw new MspgtException(path, $"\"{key}\" has the wrong type (expected {typeof(T).Name})"); }
        }
        T Req<T>(string key) => m[key] is null ? throw new MspgtException(path, $"student \"{m["name"]}\" has no \"{key}\"") : Get<T>(key, default!);
        var s = new TrainSettings
        {
            Architecture = TrainSettings.ParseArchitecture(Req<string>("arch")),
            Layers = Req<int>("layers"), Dim = Req<int>("dim"), Heads = Req<int>("heads"), KvHeads = Get("kv_heads", Req<int>("heads")),
            Ffn = Req<int>("ffn"), HeadDim = Get("head_dim", 0), Tied = Get("tied", false),
            Seq = Req<int>("seq"), Batch = Req<int>("batch"), Steps = Req<int>("steps"),
            Lr = Get("lr", 3e-3), Warmup = Get("warmup", 100), WeightDecay = Get("weight_decay", 0.1), Clip = Get("clip", 1.0),
            Seed = Get("seed", 1), InitStd = Get("init_std", 0.02), RopeTheta = Get("rope_theta", 10000.0), NormEps = Get("norm_eps", 1e-5),
            MaxPositions = Get("max_positions", 0), CheckpointEvery = Get("checkpoint_every", 0), EvalEvery = Get("eval_every", 0),
            EvalWindows = Get("eval_windows", 32),
        };
        s.Validate();
        return s;
    }
}
