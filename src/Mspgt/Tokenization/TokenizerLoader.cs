using Mspgt.Files;
using System.Globalization;

namespace Mspgt.Tokenization;

/// <summary>Opens a tokenizer from a file: tokenizer.json (or a folder holding one), a llama2.c vocabulary (.bin)
/// or a GGUF file's embedded vocabulary. The kind is told by content, not by file name.</summary>
public static class TokenizerLoader
{
    // llama.cpp's token types (tokenizer.ggml.token_type)
    private const long TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeByte = 6;

    // llama.cpp's pre-tokenizer regexes (llama-vocab.cpp), selected by tokenizer.ggml.pre; several regexes split
    // one after the other, the text between matches kept as pieces too.
    private const string Llama3Regex =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Regex =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
    private static readonly string[] DefaultRegexes =
    [
        @"[\p{P}\$\+<=>\^~\|]+",
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)",
        @"\p{N}+",
        @"[0-9][0-9][0-9]",
    ];

    public static ITokenizer Load(string path)
    {
        if (Directory.Exists(path))
        {
            string json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return TokenizerJson.Load(json);
            throw new MspgtException(path, "folder has no tokenizer.json");
        }
        RegularFile.Require(path);
        byte[] head = new byte[8];
        int n;
        using (var f = File.OpenRead(path)) n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F')
            return FromGgufMetadata(ReadGgufMetadata(path), path);
        if (LooksLikeJson(head.AsSpan(0, n))) return TokenizerJson.Load(path);
        return Llama2cTokenizer.Parse(File.ReadAllBytes(path), path)
            ?? throw new MspgtException(path, "not a tokenizer: expected a tokenizer.json, a llama2.c vocabulary (.bin) or a GGUF file");
    }

    /// <summary>The GGUF metadata of a file (read into memory, so it outlives the reader's mapping).</summary>
    private static IReadOnlyDictionary<string, object> ReadGgufMetadata(string path)
    {
        using var f = Mspgt.Checkpoints.GgufReader.Open(path);
        return f.Metadata;
    }

    private static bool LooksLikeJson(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("\uFEFF"u8)) head = head[3..];
        foreach (byte b in head)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == '{';
        }
        return false;
    }

    /// <summary>
    /// The tokenizer a GGUF file embeds (llama.cpp conventions). Values: integers long, floats double, strings
    /// string, arrays string[] / long[] / double[] / bool[]. tokenizer.ggml.model "llama" → SentencePiece (scores,
    /// byte fallback); "gpt2" → byte-level BPE with tokenizer.ggml.merges and the regex of tokenizer.ggml.pre.
    /// </summary>
    public static ITokenizer FromGgufMetadata(IReadOnlyDictionary<string, object> metadata, string source)
    {
        string model = Get<string>(metadata, "tokenizer.ggml.model", source)
            ?? throw new MspgtException(source, "the GGUF file embeds no tokenizer (tokenizer.ggml.model missing)");
        string[] tokens = Get<string[]>(metadata, "tokenizer.ggml.tokens", source)
            ?? throw new MspgtException(source, "tokenizer.ggml.tokens missing");
        long[] types = Get<long[]>(metadata, "tokenizer.ggml.token_type", source) ?? Enumerable.Repeat(1L, tokens.Length).ToArray();
        if (types.Length != tokens.Length)
            throw new MspgtException(source, $"tokenizer.ggml.token_type has {types.Length} entries for {tokens.Length} tokens");
        // a byte token of a SentencePiece vocabulary is found by its spelling; any vocabulary's declared byte tokens must be
        // spelled exactly too (llama.cpp decodes them by their text)
        Vocabulary.RequireExactByteTokens(tokens, source, bySpelling: model == "llama", i => types[i] == TypeByte);
        int? bos = TokenId(metadata, "tokenizer.ggml.bos_token_id", tokens.Length, source);
        int? eos = TokenId(metadata, "tokenizer.ggml.eos_token_id", tokens.Length, source);
        int? unk = TokenId(metadata, "tokenizer.ggml.unknown_token_id", tokens.Length, source);
        bool? addBos = Flag(metadata, "tokenizer.ggml.add_bos_token", source);
        // control, user-defined and unknown tokens are matched literally in text (llama.cpp's special-token cache)
        var literals = new List<LiteralToken>();
        for (int i = 0; i < tokens.Length; i++)
            if (types[i] is TypeUnknown or TypeControl or TypeUserDefined) literals.Add(new LiteralToken(tokens[i], i));

        switch (model)
        {
            case "llama":
            {
                double[] scores = Get<double[]>(metadata, "tokenizer.ggml.scores", source)
                    ?? throw new MspgtException(source, "tokenizer.ggml.scores missing (needed by a SentencePiece vocabulary)");
                if (scores.Length != tokens.Length)
                    throw new MspgtException(source, $"tokenizer.ggml.scores has {scores.Length} entries for {tokens.Length} tokens");
                // llama.cpp's SentencePiece defaults: <unk> 0, <s> 1, </s> 2, BOS added, dummy-prefix space
                unk ??= Array.IndexOf(types, TypeUnknown) is int u && u >= 0 ? u : null;
                bos ??= tokens.Length > 1 ? 1 : null;
                eos ??= tokens.Length > 2 ? 2 : null;
                bool addSpacePrefix = Flag(metadata, "tokenizer.ggml.add_space_prefix", source) ?? true;
                return new SentencePieceTokenizer(tokens, scores.Select(s => (float)s).ToArray(), literals, bos, eos, unk,
                    addBos ?? true, addSpacePrefix, $"GGUF SentencePiece vocabulary ({tokens.Length} tokens)");
            }
            case "gpt2":
            {
                string[] merges = Get<string[]>(metadata, "tokenizer.ggml.merges", source)
                    ?? throw new MspgtException(source, "tokenizer.ggml.merges missing (needed by a byte-level BPE vocabulary)");
                string pre = Get<string>(metadata, "tokenizer.ggml.pre", source) ?? "default";
                string[] regexes;
                bool ignoreMerges = false, preAddsBos = false;
                switch (pre)
                {
                    case "default": regexes = DefaultRegexes; break;
                    case "gpt2": regexes = [Gpt2Regex]; break;
                    case "llama3" or "llama-v3" or "llama-bpe": regexes = [Llama3Regex]; ignoreMerges = true; preAddsBos = true; break;
                    case "qwen2": regexes = [Qwen2Regex]; break;
                    default:
                        throw new MspgtException(source, $"tokenizer.ggml.pre \"{pre}\" is not supported (supported: default, gpt2, llama3 / llama-bpe, qwen2)");
                }
                var pairs = new List<(string, string)>(merges.Length);
                foreach (var m in merges)
                {
                    int sp = m.IndexOf(' ', 1); // a merge's left token never starts with a space in byte-level text
                    if (sp <= 0) throw new MspgtException(source, $"tokenizer.ggml.merges entry \"{m}\" is not two tokens");
                    pairs.Add((m[..sp], m[(sp + 1)..]));
                }
                var steps = new List<PreTokenizerStep>();
                foreach (var r in regexes) steps.Add(new SplitStep(new SplitPattern(r, source), SplitBehavior.Isolated, false));
                steps.Add(new ByteLevelStep(AddPrefixSpace: false, UseRegex: false));
                var bpe = new BpeModel(tokens, pairs, UnkId: unk, IgnoreMerges: ignoreMerges);
                return new BpeTokenizer(bpe, [], steps, [new ByteLevelDecoder()], literals, bos, eos,
                    (addBos ?? preAddsBos) && bos is not null, $"GGUF byte-level BPE vocabulary ({tokens.Length} tokens, pre-tokenizer {pre})");
            }
            default:
                throw new MspgtException(source, $"tokenizer.ggml.model \"{model}\" is not supported (supported: llama, gpt2)");
        }
    }

    private static T? Get<T>(IReadOnlyDictionary<string, object> md, string key, string source) where T : class
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        return v as T ?? throw new MspgtException(source, $"{key} has type {v.GetType().Name}, expected {typeof(T).Name}");
    }

    private static int? TokenId(IReadOnlyDictionary<string, object> md, string key, int count, string source)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        long id = v switch
        {
            long l => l,
            int i => i,
            ulong u => u > int.MaxValue ? -1 : (long)u,
            _ => throw new MspgtException(source, $"{key} has type {v.GetType().Name}, expected an integer"),
        };
        if (id < 0 || id >= count) throw new MspgtException(source, $"{key} = {id.ToString(CultureInfo.InvariantCulture)} is outside the vocabulary (0..{count - 1})");
        return (int)id;
    }

    private static bool? Flag(IReadOnlyDictionary<string, object> md, string key, string source)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        return v switch
        {
            bool b => b,
            long l => l != 0,
            _ => throw new MspgtException(source, $"{key} has type {v.GetType().Name}, expected a boolean"),
        };
    }
}
