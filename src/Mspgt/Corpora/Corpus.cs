using System.Text;
using System.Text.Json;
using Mspgt.Models;
using Mspgt.Tokenization;
using Mspgt.Files;

namespace Mspgt.Corpora;

/// <summary>One document as the model sees it: token ids (BOS first where the tokenizer adds it) and its text.</summary>
public sealed record Document(int Index, string Text, int[] Ids);

/// <summary>
/// The documents an analysis runs over: read from a file (plain text with blank-line-separated documents, or JSONL
/// with a "text" field per line) or sampled from the model itself with a fixed seed, so the main job needs no input.
/// </summary>
public sealed class Corpus
{
    public IReadOnlyList<Document> Documents { get; }
    /// <summary>"file PATH (sha256 …)" or "sampled from the model (seed …)" for manifests.</summary>
    public string Description { get; }
    /// <summary>sha256 of the corpus file, or null for a sampled corpus.</summary>
    public string? Sha256 { get; }
    public int? Seed { get; }

    private Corpus(IReadOnlyList<Document> docs, string description, string? sha, int? seed)
    {
        Documents = docs; Description = description; Sha256 = sha; Seed = seed;
    }

    /// <summary>Splits a corpus file into document texts (JSONL if every non-empty line is a JSON object).</summary>
    public static List<string> ReadTexts(string path)
    {
        RegularFile.Require(path, "corpus file");
        string content;
        try { content = File.ReadAllText(path, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MspgtException(path, $"cannot read corpus: {e.Message}"); }
        var lines = content.Split('\n');
        var nonEmpty = lines.Select((l, i) => (Line: l.Trim(), No: i + 1)).Where(x => x.Line.Length > 0).ToList();
        var texts = new List<string>();
        bool jsonl = nonEmpty.Count > 0 && nonEmpty.All(x => x.Line.StartsWith('{'));
        if (jsonl)
        {
            foreach (var (line, no) in nonEmpty)
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    if (!doc.RootElement.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                        throw new MspgtException(path, $"line {no}: JSON object has no string \"text\" field");
                    string s = t.GetString()!.Trim();
                    if (s.Length > 0) texts.Add(s);
                }
                catch (JsonException e) { throw new MspgtException(path, $"line {no}: {JsonOutput.Problem(e).Replace(" at line 1,", " at")}"); }
            }
        }
        else
        {
            var current = new StringBuilder();
            foreach (var raw in lines)
            {
                if (raw.Trim().Length == 0)
                {
                    if (current.Length > 0) { texts.Add(current.ToString().Trim()); current.Clear(); }
                }
                else current.Append(raw.TrimEnd('\r')).Append('\n');
            }
            if (current.Length > 0) texts.Add(current.ToString().Trim());
        }
        if (texts.Count == 0) throw new MspgtException(path, "corpus is empty: no documents (plain text separated by blank lines, or JSONL with a \"text\" field)");
        return texts;
    }

    public static Corpus FromFile(string path, ITokenizer tokenizer, int maxTokens, int minTokens = 2)
    {
        var texts = ReadTexts(path);
        var docs = new List<Document>();
        foreach (var text in texts)
        {
            var ids = tokenizer.Encode(text, tokenizer.AddBosByDefault);
            if (ids.Length > maxTokens) ids = ids[..maxTokens];
            if (ids.Length >= minTokens) docs.Add(new Document(docs.Count, text, ids));
        }
        if (docs.Count == 0) throw new MspgtException(path, $"no document has at least {minTokens} tokens");
        string sha = FileHashes.Sha256(path);
        return new Corpus(docs, $"file {path} ({docs.Count} documents)", sha, null);
    }

    /// <summary>
    /// N documents sampled from the model at temperature 1, each started from BOS, stopped at EOS/BOS or maxTokens.
    /// Document i uses seed (seed + i), so the corpus is identical for a given seed.
    /// </summary>
    public static Corpus Sample(IDecoder model, ITokenizer? tokenizer, int documents, int maxTokens, int seed, Action<int>? progress = null)
    {
        if (documents <= 0) throw MspgtException.ForSetting("documents", $"must be ≥ 1, got {documents}");
        int bos = StopTokens.BosOf(model.Config, tokenizer)
            ?? throw MspgtException.ForSetting("corpus", "the model has no BOS token to start sampled documents from; give a corpus file");
        var stop = StopTokens.For(model.Config, tokenizer);
        var docs = new List<Document>();
        for (int i = 0; i < documents; i++)
        {
            var gen = Generator.Generate(model, [bos], maxTokens - 1, new SamplingOptions(1f, 0, 1f, seed + i), stop);
            int[] ids = [bos, .. gen];
            docs.Add(new Document(i, tokenizer?.Decode(ids) ?? "", ids));
            progress?.Invoke(i + 1);
        }
        return new Corpus(docs, $"sampled from the model ({documents} documents, temperature 1, seed {seed})", null, seed);
    }
}

/// <summary>
/// Where a run's documents come from: the corpus file <see cref="Path"/> (documents cut to <see cref="MaxTokens"/>), or,
/// when it is null, <see cref="Documents"/> documents of at most <see cref="MaxTokens"/> tokens sampled from the model
/// with <see cref="Seed"/>. `analyze`, `intervene` and a study all choose between the two this way.
/// </summary>
public sealed record CorpusSource(string? Path, int Documents, int MaxTokens, int Seed)
{
    public bool IsSampled => Path is null;

    /// <param name="sampled">Documents sampled so far (only when sampling).</param>
    public Corpus Open(IDecoder model, ITokenizer tokenizer, Action<int>? sampled = null) => Path is not null
        ? Corpus.FromFile(Path, tokenizer, MaxTokens)
        : Corpus.Sample(model, tokenizer, Documents, MaxTokens, Seed, sampled);
}
