using System.Text.Json;
using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

/// <summary>Llama 2 / TinyLlama-style tokenizer.json (BPE with byte fallback and '▁'), built here with a tiny
/// vocabulary so that every expected id is derived by hand.</summary>
public class SentencePieceJsonTests
{
    // ids: <unk> 0, <s> 1, </s> 2, <0x00>..<0xFF> 3..258, ▁ 259, a 260, b 261, ▁a 262, ab 263, ▁ab 264
    private static string Json(string normalizer, string preTokenizer, bool byteFallback = true, bool fuseUnk = true)
    {
        var vocab = new Dictionary<string, int> { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        foreach (var t in new[] { "\u2581", "a", "b", "\u2581a", "ab", "\u2581ab" }) vocab[t] = vocab.Count;
        var doc = new
        {
            version = "1.0",
            added_tokens = new[] { "<unk>", "<s>", "</s>" }.Select((t, i) => new { id = i, content = t, single_word = false, lstrip = false, rstrip = false, normalized = false, special = true }),
            normalizer = JsonDocument.Parse(normalizer).RootElement,
            pre_tokenizer = JsonDocument.Parse(preTokenizer).RootElement,
            post_processor = JsonDocument.Parse("""
                {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
                 "pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}}
                """).RootElement,
            decoder = JsonDocument.Parse("""
                {"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}
                """).RootElement,
            model = new { type = "BPE", dropout = (double?)null, unk_token = "<unk>", continuing_subword_prefix = (string?)null, end_of_word_suffix = (string?)null,
                fuse_unk = fuseUnk, byte_fallback = byteFallback, vocab, merges = new[] { "\u2581 a", "a b", "\u2581a b" } },
        };
        return JsonSerializer.Serialize(doc);
    }

    private const string LegacyNormalizer = """{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}""";
    private const string MetaspacePre = """{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""";

    private static ITokenizer Legacy(bool byteFallback = true) => TokenizerJson.Parse(Json(LegacyNormalizer, "null", byteFallback), null, "legacy/tokenizer.json");
    private static ITokenizer Metaspace() => TokenizerJson.Parse(Json("null", MetaspacePre), null, "metaspace/tokenizer.json");

    [Fact]
    public void MergesByRankOverTheWholeText()
    {
        // "ab ab" → "▁ab▁ab": ▁ a b ▁ a b; "▁ a" (rank 0) at both places, then "▁a b" (rank 2) → ▁ab ▁ab
        foreach (var tok in new[] { Legacy(), Metaspace() })
        {
            Assert.Equal([264, 264], tok.Encode("ab ab", addBos: false));
            Assert.Equal([1, 264, 264], tok.Encode("ab ab", addBos: true));
            Assert.Equal("ab ab", tok.Decode([1, 264, 264]));
            Assert.True(tok.AddBosByDefault);
            Assert.Equal(1, tok.BosId);
        }
    }

    [Fact]
    public void ByteFallbackForMissingCharacters()
    {
        var tok = Legacy();
        // "aé" → ▁ a é; é = C3 A9 is not in the vocabulary → <0xC3> <0xA9> = ids 0xC3+3, 0xA9+3
        Assert.Equal([262, 0xC3 + 3, 0xA9 + 3], tok.Encode("aé", addBos: false));
        Assert.Equal("aé", tok.Decode([1, 262, 0xC3 + 3, 0xA9 + 3]));
        Assert.Equal("a\uFFFD", tok.Decode([262, 0xC3 + 3])); // a lone lead byte decodes to U+FFFD
    }

    [Fact]
    public void UnknownCharactersWithoutByteFallbackFuseIntoOneUnk()
    {
        var tok = Legacy(byteFallback: false);
        Assert.Equal([259, 0, 261], tok.Encode("ééb", addBos: false)); // ▁ é é b → ▁ <unk> b
    }

    /// <summary>The legacy Prepend normalizer runs on every text run between special tokens; Metaspace with
    /// prepend_scheme "first" prepends only at the start of the input.</summary>
    [Fact]
    public void SpecialTokensInTextAndThePrefixSpace()
    {
        Assert.Equal([264, 2, 264], Legacy().Encode("ab</s>ab", addBos: false));
        Assert.Equal([264, 2, 263], Metaspace().Encode("ab</s>ab", addBos: false));
    }

    [Fact]
    public void UnsupportedComponentsAreNamed()
    {
        var e = Assert.Throws<MspgtException>(() => TokenizerJson.Parse(Json("""{"type":"BertNormalizer"}""", "null"), null, "t.json"));
        Assert.Contains("BertNormalizer", e.Message);
        e = Assert.Throws<MspgtException>(() => TokenizerJson.Parse("""{"model":{"type":"Unigram","vocab":[]}}""", null, "t.json"));
        Assert.Contains("Unigram", e.Message);
        Assert.Throws<MspgtException>(() => TokenizerJson.Parse("{\"model\": ", null, "t.json"));
        Assert.Throws<MspgtException>(() => TokenizerJson.Parse("[1,2]", null, "t.json"));
    }
}
