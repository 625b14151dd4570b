using System.Text.Json;
using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

/// <summary>TokenizerLoader.FromGgufMetadata with metadata built here (the GGUF reader is a separate component).</summary>
public class GgufVocabularyTests
{
    /// <summary>tok512.bin as the stories260K GGUF v1 file embeds it: '▁' for spaces, &lt;s&gt; / &lt;/s&gt;,
    /// token types unknown 2 / control 3 / byte 6 / normal 1 (checked against the file's metadata).</summary>
    internal static Dictionary<string, object> Tok512AsGguf()
    {
        var tok = Llama2cTokenizerTests.Tok512.Value;
        var tokens = new string[tok.VocabSize];
        var scores = new double[tok.VocabSize];
        var types = new long[tok.VocabSize];
        for (int i = 0; i < tok.VocabSize; i++)
        {
            var (text, score) = tok.Entry(i);
            tokens[i] = i switch { 1 => "<s>", 2 => "</s>", _ => text.Replace(' ', '\u2581') };
            scores[i] = score;
            types[i] = i == 0 ? 2 : i <= 2 ? 3 : i <= 258 ? 6 : 1;
        }
        return new Dictionary<string, object>
        {
            ["general.architecture"] = "llama",
            ["tokenizer.ggml.model"] = "llama",
            ["tokenizer.ggml.tokens"] = tokens,
            ["tokenizer.ggml.scores"] = scores,
            ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.bos_token_id"] = 1L,
            ["tokenizer.ggml.eos_token_id"] = 2L,
            ["tokenizer.ggml.padding_token_id"] = 0L,
        };
    }

    public static TheoryData<string> Texts()
    {
        var data = new TheoryData<string>
        {
            "Once upon a time, there was a little girl named Lily.",
            "Hello\n世界 🙂 naïve café",
            "  two  spaces\tand a tab",
            "x",
        };
        foreach (var line in File.ReadLines(TestData.Path("corpora", "tinystories-sample", "stories.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String && p.Value.GetString()!.Length > 100) data.Add(p.Value.GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void LlamaVocabularyGivesTheSameIdsAsTok512(string text)
    {
        var gguf = TokenizerLoader.FromGgufMetadata(Tok512AsGguf(), "stories260K.gguf");
        var bin = Llama2cTokenizerTests.Tok512.Value;
        Assert.IsType<SentencePieceTokenizer>(gguf);
        Assert.Equal(bin.Encode(text, addBos: true), gguf.Encode(text, addBos: true));
        Assert.Equal(text, gguf.Decode(gguf.Encode(text, addBos: true)));
        Assert.Equal(text, gguf.Decode(gguf.Encode(text, addBos: false)));
    }

    [Fact]
    public void LlamaVocabularyFacts()
    {
        var gguf = TokenizerLoader.FromGgufMetadata(Tok512AsGguf(), "x.gguf");
        Assert.Equal(512, gguf.VocabSize);
        Assert.Equal(1, gguf.BosId);
        Assert.Equal(2, gguf.EosId);
        Assert.True(gguf.AddBosByDefault);
        Assert.Equal("\u2581t", gguf.TokenText(259));
    }

    /// <summary>llama.cpp matches control tokens literally and gives the text after one a new dummy prefix.</summary>
    [Fact]
    public void LlamaControlTokensAreMatchedLiterally()
    {
        var gguf = TokenizerLoader.FromGgufMetadata(Tok512AsGguf(), "x.gguf");
        var bin = Llama2cTokenizerTests.Tok512.Value;
        int[] want = [.. bin.Encode("Lily", false), 2, .. bin.Encode("Tom", false)];
        Assert.Equal(want, gguf.Encode("Lily</s>Tom", addBos: false));
    }

    /// <summary>A small byte-level vocabulary: ids 0..255 are the GPT-2 byte characters in byte order.</summary>
    private static Dictionary<string, object> SmallGpt2(string pre, bool? addBos = null)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelMap.ByteToChar((byte)b).ToString()).ToList();
        tokens.AddRange(["he", "Ġt", "Ġthe", "ll", "12", "123", "45", "xyz", "34", "<|endoftext|>"]); // 256..265
        var types = Enumerable.Repeat(1L, tokens.Count).ToArray();
        types[265] = 3;
        var md = new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "gpt2",
            ["tokenizer.ggml.pre"] = pre,
            ["tokenizer.ggml.tokens"] = tokens.ToArray(),
            ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.merges"] = new[] { "h e", "Ġ t", "Ġt he", "l l", "3 4", "1 2", "12 3", "4 5" },
            ["tokenizer.ggml.bos_token_id"] = 265L,
            ["tokenizer.ggml.eos_token_id"] = 265L,
        };
        if (addBos is bool b) md["tokenizer.ggml.add_bos_token"] = b;
        return md;
    }

    [Fact]
    public void Gpt2MergesByRankAndMatchesControlTokens()
    {
        var tok = TokenizerLoader.FromGgufMetadata(SmallGpt2("qwen2"), "x.gguf");
        // "hello": h e l l o → "h e" (rank 0) → "l l" (rank 3) → he ll o
        // " the": Ġ t h e → "h e" (0) → "Ġ t" (1) → "Ġt he" (2) → Ġthe
        Assert.Equal([256, 259, 'o', 258, 265], tok.Encode("hello the<|endoftext|>", addBos: false));
        Assert.Equal("hello the<|endoftext|>", tok.Decode([256, 259, 'o', 258, 265]));
        Assert.False(tok.AddBosByDefault); // qwen2 and no add_bos_token key
        Assert.Equal([265, 256], tok.Encode("he", addBos: true));
    }

    [Fact]
    public void Gpt2PreTokenizerRegexIsChosenByName()
    {
        var qwen2 = TokenizerLoader.FromGgufMetadata(SmallGpt2("qwen2"), "x.gguf");
        var llama3 = TokenizerLoader.FromGgufMetadata(SmallGpt2("llama3"), "x.gguf");
        var gpt2 = TokenizerLoader.FromGgufMetadata(SmallGpt2("gpt2"), "x.gguf");
        // qwen2 splits digits one by one; llama3 in groups of three ("123" "45"); gpt2 keeps the run whole, where
        // "3 4" (rank 4) goes before "1 2" (rank 5): 1 2 34 5 → 12 34 5
        Assert.Equal(['1', '2', '3', '4', '5'], qwen2.Encode("12345", false));
        Assert.Equal([261, 262], llama3.Encode("12345", false));
        Assert.Equal([260, 264, '5'], gpt2.Encode("12345", false));
        // llama3 sets ignore_merges: a word that is a vocabulary entry is taken whole even without merges for it
        Assert.Equal([263], llama3.Encode("xyz", false));
        Assert.Equal(['x', 'y', 'z'], qwen2.Encode("xyz", false));
        Assert.True(llama3.AddBosByDefault);
        Assert.False(TokenizerLoader.FromGgufMetadata(SmallGpt2("llama3", addBos: false), "x.gguf").AddBosByDefault);
    }

    [Fact]
    public void DefaultPreTokenizerAppliesLlamaCppRegexesInTurn()
    {
        var tok = TokenizerLoader.FromGgufMetadata(SmallGpt2("default"), "x.gguf");
        // default: punctuation runs, GPT-2 words, digit runs, then ASCII digit triples, each regex splitting the
        // pieces of the one before: "123456 7" → "123456" " 7" → "123456" " " "7" → "123" "456" " " "7"
        Assert.Equal([261, 262, '6', ' ', '7'], tok.Encode("123456 7", false));
        var gpt2 = TokenizerLoader.FromGgufMetadata(SmallGpt2("gpt2"), "x.gguf");
        Assert.Equal([260, 264, '5', '6', ' ', '7'], gpt2.Encode("123456 7", false));
    }

    [Fact]
    public void BadMetadataIsAnMspgtException()
    {
        var md = SmallGpt2("deepseek-llm");
        Assert.Contains("not supported", Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(md, "x.gguf")).Message);
        md = SmallGpt2("qwen2");
        md["tokenizer.ggml.model"] = "bert";
        Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(md, "x.gguf"));
        md = SmallGpt2("qwen2");
        md.Remove("tokenizer.ggml.merges");
        Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(md, "x.gguf"));
        md = SmallGpt2("qwen2");
        md["tokenizer.ggml.merges"] = new[] { "h q" }; // 'q' exists but "hq" does not
        Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(md, "x.gguf"));
        md = SmallGpt2("qwen2");
        md["tokenizer.ggml.tokens"] = new long[] { 1, 2 };
        Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(md, "x.gguf"));
        md = SmallGpt2("qwen2");
        md["tokenizer.ggml.bos_token_id"] = 100000L;
        Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(md, "x.gguf"));
        Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(new Dictionary<string, object>(), "x.gguf"));
    }
}
