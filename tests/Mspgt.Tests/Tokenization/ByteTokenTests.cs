using System.Text;
using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

/// <summary>Byte tokens are exactly &lt;0xHH&gt; wherever a vocabulary finds bytes by spelling or declares them.</summary>
public class ByteTokenTests
{
    [Theory]
    [InlineData("<0x00>", 0)]
    [InlineData("<0x0A>", 10)]
    [InlineData("<0xff>", 255)]
    [InlineData("<0x-1>", -1)]
    [InlineData("<0xZZ>", -1)]
    [InlineData("<0x1>", -1)]
    [InlineData("<0x123>", -1)]
    [InlineData("<0x 1>", -1)]
    [InlineData("<0x1 >", -1)]
    [InlineData("<0x+1>", -1)]
    [InlineData("hello!", -1)]
    public void ParseByteTokenTakesExactlyTwoHexDigits(string text, int expected) =>
        Assert.Equal(expected, Vocabulary.ParseByteToken(text));

    [Theory]
    [InlineData("<0x-1>")]
    [InlineData("<0xZZ>")]
    [InlineData("<0x1>")]
    [InlineData("<0x123>")]
    public void ASpelledByteTokenMustBeExact(string bad)
    {
        string[] tokens = ["a", "<0x41>", bad];
        var e = Assert.Throws<MspgtException>(() => Vocabulary.RequireExactByteTokens(tokens, "v.bin", bySpelling: true));
        Assert.Equal("v.bin", e.Source);
        Assert.Contains($"token 2 \"{bad}\" is spelled like a byte token but is not <0xHH>", e.Message);
        // a byte-level vocabulary may hold the same text as plain text
        Vocabulary.RequireExactByteTokens(tokens, "v.bin", bySpelling: false);
        // a declared byte token must be exact whatever it looks like
        Assert.Contains("token 0 \"a\" is declared a byte token",
            Assert.Throws<MspgtException>(() => Vocabulary.RequireExactByteTokens(tokens, "v.bin", false, i => i == 0)).Message);
    }

    private static Dictionary<string, object> GgufVocabulary(string model, string[] tokens, long[] types)
    {
        var md = new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = model,
            ["tokenizer.ggml.tokens"] = tokens,
            ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.scores"] = new double[tokens.Length],
            ["tokenizer.ggml.merges"] = Array.Empty<string>(),
        };
        return md;
    }

    [Fact]
    public void GgufByteTokensAreExact()
    {
        string[] good = ["<unk>", "<s>", "</s>", "<0x41>", "a"];
        long[] types = [2, 3, 3, 6, 1];
        Assert.Equal(5, TokenizerLoader.FromGgufMetadata(GgufVocabulary("llama", good, types), "m.gguf").VocabSize);
        foreach (string bad in new[] { "<0x-1>", "<0xZZ>" })
        {
            string[] tokens = ["<unk>", "<s>", "</s>", bad, "a"];
            var e = Assert.Throws<MspgtException>(() => TokenizerLoader.FromGgufMetadata(GgufVocabulary("llama", tokens, types), "m.gguf"));
            Assert.Equal("m.gguf", e.Source);
            Assert.Contains($"token 3 \"{bad}\" is declared a byte token", e.Message);
            // spelled so without the byte type: still refused by a SentencePiece vocabulary, plain text to a BPE one
            Assert.Contains("is spelled like a byte token", Assert.Throws<MspgtException>(() =>
                TokenizerLoader.FromGgufMetadata(GgufVocabulary("llama", tokens, [2, 3, 3, 1, 1]), "m.gguf")).Message);
            Assert.Equal(5, TokenizerLoader.FromGgufMetadata(GgufVocabulary("gpt2", tokens, [2, 3, 3, 1, 1]), "m.gguf").VocabSize);
        }
        Assert.Contains("token_type has 4 entries for 5 tokens", Assert.Throws<MspgtException>(() =>
            TokenizerLoader.FromGgufMetadata(GgufVocabulary("llama", good, [2, 3, 3, 6]), "m.gguf")).Message);
    }

    [Fact]
    public void TokenizerJsonWithByteFallbackHasExactByteTokens()
    {
        string Json(string tok) => "{\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"vocab\":{\"<unk>\":0,\"a\":1,\"" + tok + "\":2},\"merges\":[]}}";
        Assert.Equal(3, TokenizerJson.Parse(Json("<0x41>"), null, "t.json").VocabSize);
        var e = Assert.Throws<MspgtException>(() => TokenizerJson.Parse(Json("<0xZZ>"), null, "t.json"));
        Assert.Equal("t.json", e.Source);
        Assert.Contains("token 2 \"<0xZZ>\" is spelled like a byte token", e.Message);
        // without byte fallback the text is an ordinary token
        Assert.Equal(3, TokenizerJson.Parse(Json("<0xZZ>").Replace("true", "false"), null, "t.json").VocabSize);
    }

    [Fact]
    public void Llama2cVocabularyHoldsTheByteTokensWhereRunCPutsThem()
    {
        var bytes = File.ReadAllBytes(TestData.Path("models", "stories260K", "tok512.bin"));
        using var dir = new Mspgt.Tests.Checkpoints.TempDir();
        foreach (var (from, to) in new[] { ("<0x00>", "<0x-1>"), ("<0x10>", "<0xZZ>"), ("<0x41>", "<0x42>") })
        {
            var copy = (byte[])bytes.Clone();
            int at = IndexOf(copy, Encoding.ASCII.GetBytes(from));
            Encoding.ASCII.GetBytes(to).CopyTo(copy, at);
            string path = Path.Combine(dir.Path, "tok.bin");
            File.WriteAllBytes(path, copy);
            var e = Assert.Throws<MspgtException>(() => TokenizerLoader.Load(path));
            Assert.Equal(path, e.Source);
            Assert.Contains($"should be the byte token {from}", e.Message);
        }
    }

    internal static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("pattern not found");
    }
}
