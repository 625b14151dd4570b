using Mspgt.Files;
using System.Text.Json;

namespace Mspgt.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json with a BPE model (byte-level: Llama 3, Qwen2, Qwen3; SentencePiece-style with
/// byte fallback: Llama 2, TinyLlama) into a <see cref="BpeTokenizer"/>. BOS / EOS come from tokenizer_config.json
/// beside it when present (bos_token, eos_token, add_bos_token), else from the TemplateProcessing post-processor.
/// Any pipeline component we do not implement is reported by name rather than approximated.
/// </summary>
public static class TokenizerJson
{
    public static BpeTokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "file not found");
        string? configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "tokenizer_config.json");
        RegularFile.Require(path);
        using var doc = ParseJson(File.ReadAllBytes(path), path);
        using var config = File.Exists(configPath) ? ParseJson(RegularFile.ReadAllBytes(configPath), configPath) : null;
        return Build(doc.RootElement, config?.RootElement, path);
    }

    /// <summary>Builds from the parsed tokenizer.json and (optionally) tokenizer_config.json.</summary>
    public static BpeTokenizer Parse(string tokenizerJson, string? tokenizerConfigJson, string source)
    {
        using var doc = ParseJson(System.Text.Encoding.UTF8.GetBytes(tokenizerJson), source);
        using var config = tokenizerConfigJson is null ? null : ParseJson(System.Text.Encoding.UTF8.GetBytes(tokenizerConfigJson), source);
        return Build(doc.RootElement, config?.RootElement, source);
    }

    internal static JsonDocument ParseJson(byte[] bytes, string source)
    {
        // System.Text.Json checks UTF-8 only when a string is read: a bad name would surface later as a bug
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new MspgtException(source, "not valid UTF-8 text");
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new MspgtException(source, JsonOutput.Problem(e));
        }
    }

    private static BpeTokenizer Build(JsonElement root, JsonElement? config, string source)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new MspgtException(source, "not a tokenizer.json (no \"model\" object)");
        string modelType = Str(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "?");
        if (modelType != "BPE")
            throw new MspgtException(source, $"tokenizer model \"{modelType}\" is not supported (only BPE: Llama 2/3, TinyLlama, Qwen2/3)");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (!string.IsNullOrEmpty(Str(model, affix)))
                throw new MspgtException(source, $"BPE {affix} is not supported");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw new MspgtException(source, "BPE dropout is random at encode time and is not supported");

        // vocabulary + added tokens
        if (!model.TryGetProperty("vocab", out var vocabEl) || vocabEl.ValueKind != JsonValueKind.Object)
            throw new MspgtException(source, "model.vocab is missing");
        var entries = new List<(int Id, string Text)>(200_000);
        int maxId = -1;
        foreach (var p in vocabEl.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new MspgtException(source, $"vocab entry \"{p.Name}\" has no valid id");
            entries.Add((id, p.Name));
            maxId = Math.Max(maxId, id);
        }
        var literals = new List<LiteralToken>();
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var t in added.EnumerateArray())
            {
                string content = Str(t, "content") ?? throw new MspgtException(source, "added token without content");
                int id = t.TryGetProperty("id", out var idEl) && idEl.TryGetInt32(out int v) && v >= 0 ? v
                    : throw new MspgtException(source, $"added token \"{content}\" has no valid id");
                entries.Add((id, content));
                maxId = Math.Max(maxId, id);
                literals.Add(new LiteralToken(content, id, Bool(t, "lstrip"), Bool(t, "rstrip"), Bool(t, "single_word")));
            }
        if (maxId >= 10_000_000) throw new MspgtException(source, $"token id {maxId} is implausibly large");
        var tokens = new string[maxId + 1];
        Array.Fill(tokens, "");
        foreach (var (id, text) in entries) tokens[id] = text; // an added token overrides a vocab entry of the same id

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesEl) && mergesEl.ValueKind == JsonValueKind.Array)
            foreach (var m in mergesEl.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    string line = m.GetString()!;
                    int sp = line.IndexOf(' ');
                    if (sp <= 0 || line.IndexOf(' ', sp + 1) >= 0) throw new MspgtException(source, $"merge \"{line}\" is not two tokens");
                    merges.Add((line[..sp], line[(sp + 1)..]));
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                    merges.Add((m[0].GetString() ?? "", m[1].GetString() ?? ""));
                else throw new MspgtException(source, "a merge is neither \"a b\" nor [\"a\", \"b\"]");
            }

        string? unk = Str(model, "unk_token");
        int? unkId = unk is null ? null : Array.IndexOf(tokens, unk) is int u && u >= 0 ? u : null;
        var bpe = new BpeModel(tokens, merges, Bool(model, "byte_fallback"), unkId, Bool(model, "fuse_unk"), Bool(model, "ignore_merges"));

        var normalizers = new List<TextNormalizer>();
        if (root.TryGetProperty("normalizer", out var norm)) AddNormalizers(norm, normalizers, source);
        var pre = new List<PreTokenizerStep>();
        if (root.TryGetProperty("pre_tokenizer", out var preEl)) AddPreTokenizers(preEl, pre, source);
        var decoders = new List<TokenDecoder>();
        if (root.TryGetProperty("decoder", out var dec)) AddDecoders(dec, decoders, source);

        // BOS / EOS
        int? templateBos = root.TryGetProperty("post_processor", out var post) ? TemplateBos(post) : null;
        int? Lookup(string? text) => text is null ? null : Array.IndexOf(tokens, text) is int i && i >= 0 ? i : null;
        int? bos = templateBos, eos = null;
        bool addBos = templateBos is not null;
        if (config is JsonElement cfg && cfg.ValueKind == JsonValueKind.Object)
        {
            if (cfg.TryGetProperty("bos_token", out var b)) bos = Lookup(TokenContent(b)) ?? (b.ValueKind == JsonValueKind.Null ? null : bos);
            if (cfg.TryGetProperty("eos_token", out var e)) eos = Lookup(TokenContent(e));
            if (cfg.TryGetProperty("add_bos_token", out var ab) && ab.ValueKind is JsonValueKind.True or JsonValueKind.False) addBos = ab.GetBoolean();
        }
        if (bos is null) addBos = false;

        // a byte-fallback vocabulary finds its byte tokens by spelling: "<0x-1>" would be neither a byte nor text
        if (bpe.ByteFallback || decoders.Any(d => d is ByteFallbackDecoder))
            Vocabulary.RequireExactByteTokens(tokens, source, bySpelling: true);
        bool byteLevel = pre.Any(p => p is ByteLevelStep);
        string kind = byteLevel ? "byte-level BPE" : bpe.ByteFallback ? "SentencePiece-style BPE" : "BPE";
        return new BpeTokenizer(bpe, normalizers, pre, decoders, literals, bos, eos, addBos,
            $"tokenizer.json {Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(source)))} ({kind}, {tokens.Length} tokens)");
    }

    private static string? TokenContent(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Object => Str(e, "content"),
        _ => null,
    };

    /// <summary>The id of the special token a TemplateProcessing puts before $A (Llama's &lt;s&gt;), if any.</summary>
    private static int? TemplateBos(JsonElement post)
    {
        if (post.ValueKind != JsonValueKind.Object) return null;
        switch (Str(post, "type"))
        {
            case "Sequence":
                if (post.TryGetProperty("processors", out var procs) && procs.ValueKind == JsonValueKind.Array)
                    foreach (var p in procs.EnumerateArray())
                        if (TemplateBos(p) is int id) return id;
                return null;
            case "TemplateProcessing":
                if (!post.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array) return null;
                foreach (var item in single.EnumerateArray())
                {
                    if (item.TryGetProperty("Sequence", out _)) return null;
                    if (item.TryGetProperty("SpecialToken", out var st) && Str(st, "id") is string name
                        && post.TryGetProperty("special_tokens", out var specials) && specials.TryGetProperty(name, out var spec)
                        && spec.TryGetProperty("ids", out var ids) && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() > 0)
                        return ids[0].GetInt32();
                }
                return null;
            default:
                return null; // ByteLevel adds nothing; other processors belong to encoder models
        }
    }

    private static void AddNormalizers(JsonElement n, List<TextNormalizer> output, string source)
    {
        if (n.ValueKind == JsonValueKind.Null) return;
        string type = Str(n, "type") ?? "?";
        switch (type)
        {
            case "Sequence":
                foreach (var c in Arr(n, "normalizers", source)) AddNormalizers(c, output, source);
                break;
            case "NFC": output.Add(new UnicodeNormalizer(UnicodeForm.Nfc)); break;
            case "NFD": output.Add(new UnicodeNormalizer(UnicodeForm.Nfd)); break;
            case "NFKC": output.Add(new UnicodeNormalizer(UnicodeForm.Nfkc)); break;
            case "NFKD": output.Add(new UnicodeNormalizer(UnicodeForm.Nfkd)); break;
            case "Prepend": output.Add(new PrependNormalizer(Str(n, "prepend") ?? "")); break;
            case "Replace": output.Add(new ReplaceNormalizer(Pattern(n, source), Str(n, "content") ?? "")); break;
            case "Lowercase": output.Add(new LowercaseNormalizer()); break;
            case "Strip": output.Add(new StripNormalizer(Bool(n, "strip_left"), Bool(n, "strip_right"))); break;
            default: throw new MspgtException(source, $"normalizer \"{type}\" is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Prepend, Replace, Lowercase, Strip)");
        }
    }

    private static void AddPreTokenizers(JsonElement p, List<PreTokenizerStep> output, string source)
    {
        if (p.ValueKind == JsonValueKind.Null) return;
        string type = Str(p, "type") ?? "?";
        switch (type)
        {
            case "Sequence":
                foreach (var c in Arr(p, "pretokenizers", source)) AddPreTokenizers(c, output, source);
                break;
            case "Split":
                output.Add(new SplitStep(Pattern(p, source), Behavior(Str(p, "behavior"), source), Bool(p, "invert")));
                break;
            case "ByteLevel":
                output.Add(new ByteLevelStep(Bool(p, "add_prefix_space"), !p.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False));
                break;
            case "Metaspace":
                output.Add(new MetaspaceStep(Replacement(p, source), Scheme(p, source), !p.TryGetProperty("split", out var sp) || sp.ValueKind != JsonValueKind.False));
                break;
            case "Digits":
                output.Add(new DigitsStep(Bool(p, "individual_digits")));
                break;
            default: throw new MspgtException(source, $"pre-tokenizer \"{type}\" is not supported (supported: Sequence, Split, ByteLevel, Metaspace, Digits)");
        }
    }

    private static void AddDecoders(JsonElement d, List<TokenDecoder> output, string source)
    {
        if (d.ValueKind == JsonValueKind.Null) return;
        string type = Str(d, "type") ?? "?";
        switch (type)
        {
            case "Sequence":
                foreach (var c in Arr(d, "decoders", source)) AddDecoders(c, output, source);
                break;
            case "ByteLevel": output.Add(new ByteLevelDecoder()); break;
            case "ByteFallback": output.Add(new ByteFallbackDecoder()); break;
            case "Fuse": output.Add(new FuseDecoder()); break;
            case "Replace":
                if (!d.TryGetProperty("pattern", out var pat) || Str(pat, "String") is not string literal)
                    throw new MspgtException(source, "Replace decoder: only a String pattern is supported");
                output.Add(new ReplaceDecoder(literal, Str(d, "content") ?? ""));
                break;
            case "Strip":
                string content = Str(d, "content") ?? " ";
                output.Add(new StripDecoder(content.Length == 1 ? content[0] : throw new MspgtException(source, "Strip decoder content must be one character"),
                    Int(d, "start"), Int(d, "stop")));
                break;
            case "Metaspace": output.Add(new MetaspaceDecoder(Replacement(d, source), Scheme(d, source))); break;
            default: throw new MspgtException(source, $"decoder \"{type}\" is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace)");
        }
    }

    private static SplitPattern Pattern(JsonElement e, string source)
    {
        if (!e.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
            throw new MspgtException(source, $"{Str(e, "type")}: pattern missing");
        if (Str(p, "String") is string s) return SplitPattern.Literal(s, source);
        if (Str(p, "Regex") is string r) return new SplitPattern(r, source);
        throw new MspgtException(source, $"{Str(e, "type")}: pattern is neither String nor Regex");
    }

    private static SplitBehavior Behavior(string? name, string source) => name switch
    {
        "Isolated" => SplitBehavior.Isolated,
        "Removed" => SplitBehavior.Removed,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw new MspgtException(source, $"Split behavior \"{name}\" is not supported"),
    };

    private static char Replacement(JsonElement e, string source)
    {
        string r = Str(e, "replacement") ?? "\u2581";
        return r.Length == 1 ? r[0] : throw new MspgtException(source, "Metaspace replacement must be one character");
    }

    /// <summary>prepend_scheme (newer files) or add_prefix_space (older: true means always).</summary>
    private static PrependScheme Scheme(JsonElement e, string source)
    {
        if (Str(e, "prepend_scheme") is string s)
            return s switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                _ => throw new MspgtException(source, $"Metaspace prepend_scheme \"{s}\" is not supported"),
            };
        return !e.TryGetProperty("add_prefix_space", out var a) || a.ValueKind != JsonValueKind.False ? PrependScheme.Always : PrependScheme.Never;
    }

    private static IEnumerable<JsonElement> Arr(JsonElement e, string name, string source) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray()
            : throw new MspgtException(source, $"{Str(e, "type")}: \"{name}\" list missing");

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static int Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : 0;
}
