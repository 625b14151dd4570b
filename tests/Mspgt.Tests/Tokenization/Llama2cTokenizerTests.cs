using System.Text.Json;
using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

public class Llama2cTokenizerTests
{
    internal static readonly Lazy<Llama2cTokenizer> Tok512 = new(() => Llama2cTokenizer.Load(TestData.Path("models", "stories260K", "tok512.bin")));

    [Theory]
    [InlineData("stories260K")]
    [InlineData("stories-llama-12L")]
    public void ReproducesGoldenIds(string model)
    {
        var tok = Llama2cTokenizer.Load(TestData.Path("models", model, "tok512.bin"));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("models", model, "golden.json")));
        int n = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            int[] want = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(want, tok.Encode(text, addBos: true));
            Assert.Equal(text, tok.Decode(want));
            n++;
        }
        Assert.True(n > 0);
    }

    [Fact]
    public void VocabularyFacts()
    {
        var tok = Tok512.Value;
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal(7, tok.MaxTokenLength);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.True(tok.AddBosByDefault);
        Assert.Equal("<0x0A>", tok.TokenText(13));
        Assert.Equal(" t", tok.TokenText(259));
    }

    [Fact]
    public void EmptyTextGetsNoDummyPrefix()
    {
        Assert.Equal([1], Tok512.Value.Encode("", addBos: true));
        Assert.Empty(Tok512.Value.Encode("", addBos: false));
    }

    [Fact]
    public void UnknownCharactersFallBackToBytePlusThree()
    {
        var tok = Tok512.Value;
        int space = Enumerable.Range(0, tok.VocabSize).First(i => tok.TokenText(i) == " ");
        // '\n' is not a vocabulary entry: byte 0x0A → id 13; "<0x0A>" joins with nothing
        Assert.Equal([1, space, 0x0A + 3], tok.Encode("\n", addBos: true));
        // 世 = E4 B8 96
        Assert.Equal([space, 0xE4 + 3, 0xB8 + 3, 0x96 + 3], tok.Encode("世", addBos: false));
    }

    [Theory]
    [InlineData("Hello\n世界 🙂 naïve café")]
    [InlineData("  two  spaces\tand a tab")]
    [InlineData("Once upon a time")]
    public void DecodeAfterBosRoundTrips(string text)
    {
        var tok = Tok512.Value;
        Assert.Equal(text, tok.Decode(tok.Encode(text, addBos: true)));
        // without BOS, run.c keeps the dummy-prefix space
        Assert.Equal(" " + text, tok.Decode(tok.Encode(text, addBos: false)));
    }

    /// <summary>A hand-built vocabulary where the merge order matters: "aa" (score 0) beats " a" (-1); two "aa"
    /// pairs tie and the leftmost wins, leaving " " + "aa" + "a" → " aa" + "a".</summary>
    [Fact]
    public void MergesHighestScoreFirstAndLeftmostOnTies()
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        tokens.AddRange(Enumerable.Range(0, 256).Select(b => Vocabulary.ByteTokenText((byte)b)));
        var scores = Enumerable.Repeat(0f, tokens.Count).ToList();
        int Add(string t, float s) { tokens.Add(t); scores.Add(s); return tokens.Count - 1; }
        int space = Add(" ", -10), a = Add("a", -10), spaceA = Add(" a", -1), aa = Add("aa", 0), spaceAa = Add(" aa", -5);
        var tok = new Llama2cTokenizer(tokens.ToArray(), scores.ToArray(), 3, "synthetic");
        Assert.Equal([spaceAa, a], tok.Encode("aaa", addBos: false));
        Assert.Equal([spaceA], tok.Encode("a", addBos: false));
        Assert.Equal([1, spaceAa], tok.Encode("aa", addBos: true));
        Assert.Equal([space], tok.Encode(" ", addBos: false).Take(1).ToArray());
    }

    [Fact]
    public void TruncatedOrGarbledFilesAreRejected()
    {
        byte[] data = File.ReadAllBytes(TestData.Path("models", "stories260K", "tok512.bin"));
        Assert.NotNull(Llama2cTokenizer.Parse(data, "tok512.bin"));
        Assert.Null(Llama2cTokenizer.Parse(data.AsSpan(0, data.Length - 3), "cut"));
        Assert.Null(Llama2cTokenizer.Parse(data.AsSpan(0, 3000), "cut"));
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        Assert.Null(Llama2cTokenizer.Parse(random, "random"));
    }

    [Fact]
    public void OutOfRangeIdsThrowMspgtException()
    {
        Assert.Throws<MspgtException>(() => Tok512.Value.Decode([1, 512]));
        Assert.Throws<MspgtException>(() => Tok512.Value.TokenText(-1));
    }
}
