using System.Text.Json;

namespace Mspgt.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer.json of any vocabulary size, for synthetic models that have no real tokenizer: the
/// 256 byte tokens (GPT-2's byte-to-character table), then merges drawn from a seeded generator — an existing token
/// (earlier ones more often) followed by one printable ASCII character — and special tokens at the ids asked for.
/// It is valid and deterministic, and every text encodes; its merges are not learned from text, so it splits text
/// into more, and arbitrary, pieces than a trained tokenizer would.
/// </summary>
public static class GeneratedBpeTokenizer
{
    /// <summary>A generated vocabulary: every id's token text (specials at their ids) and the merges in rank order.</summary>
    public sealed record GeneratedVocabulary(string[] Tokens, IReadOnlyList<(string A, string B)> Merges, IReadOnlyDictionary<int, string> Specials);

    /// <summary>
    /// The vocabulary <see cref="WriteTokenizerJson"/> writes: <paramref name="vocab"/> ids, <paramref name="specials"/>
    /// (id → text) at their ids, the 256 byte tokens and the merged pieces at the others in order.
    /// </summary>
    public static GeneratedVocabulary Generate(int vocab, IReadOnlyDictionary<int, string> specials, int seed)
    {
        int merges = vocab - 256 - specials.Count;
        if (merges < 0 || specials.Keys.Any(id => id < 0 || id >= vocab))
            throw MspgtException.ForSetting("vocab", $"a byte-level vocabulary needs at least {256 + specials.Count} ids with its special tokens inside it, not {vocab}");
        var pieces = new List<string>(vocab);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++) { string t = ByteLevelMap.Token(b); pieces.Add(t); seen.Add(t); }
        string[] ascii = Enumerable.Range(0x20, 0x7F - 0x20).Select(ByteLevelMap.Token).ToArray();
        var rng = new Random(seed);
        var pairs = new List<(string A, string B)>(merges);
        while (pairs.Count < merges)
        {
            // rng.Next(rng.Next(n) + 1) favours early (short) tokens, so pieces stay a few characters long.
            string a = pieces[rng.Next(rng.Next(pieces.Count) + 1)], b = ascii[rng.Next(ascii.Length)];
            if (!seen.Add(a + b)) continue;
            pieces.Add(a + b);
            pairs.Add((a, b));
        }
        var tokens = new string[vocab];
        foreach (var (id, text) in specials) tokens[id] = text;
        int next = 0;
        foreach (string piece in pieces)
        {
            while (specials.ContainsKey(next)) next++;
            tokens[next++] = piece;
        }
        return new GeneratedVocabulary(tokens, pairs, specials);
    }

    /// <summary>Writes tokenizer.json: <paramref name="vocab"/> ids, <paramref name="specials"/> (id → text) as added tokens.</summary>
    public static void WriteTokenizerJson(Stream output, int vocab, IReadOnlyDictionary<int, string> specials, int seed)
    {
        var generated = Generate(vocab, specials, seed);
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (id, text) in specials.OrderBy(s => s.Key))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", text);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
        w.WriteNull("post_processor");
        w.WriteStartObject("decoder");
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WriteStartObject("vocab");
        for (int id = 0; id < generated.Tokens.Length; id++)
            if (!specials.ContainsKey(id)) w.WriteNumber(generated.Tokens[id], id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (a, b) in generated.Merges)
        {
            w.WriteStartArray();
            w.WriteStringValue(a);
            w.WriteStringValue(b);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Writes tokenizer_config.json naming BOS / EOS and whether BOS is prepended.</summary>
    public static void WriteTokenizerConfig(Stream output, string? bos, string? eos, bool addBos, int maxLength)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        if (bos is null) w.WriteNull("bos_token"); else w.WriteString("bos_token", bos);
        if (eos is null) w.WriteNull("eos_token"); else w.WriteString("eos_token", eos);
        w.WriteBoolean("add_bos_token", addBos && bos is not null);
        w.WriteBoolean("add_eos_token", false);
        w.WriteNumber("model_max_length", maxLength);
        w.WriteEndObject();
    }
}
