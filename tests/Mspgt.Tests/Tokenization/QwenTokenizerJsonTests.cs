using System.Text.Json;
using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

/// <summary>The real Qwen3 tokenizer.json against reference ids from Hugging Face tokenizers (shared/tokenizers/qwen3/golden.json).</summary>
public class QwenTokenizerJsonTests
{
    private static Lazy<ITokenizer> Qwen => SharedTokenizers.Qwen3;

    public static TheoryData<string> Kinds() => new(Golden().Select(c => c.Kind));

    private sealed record Case(string Kind, string Text, int[] Ids, string[] Tokens, string Decoded);

    private static IEnumerable<Case> Golden()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("tokenizers", "qwen3", "golden.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return new Case(c.GetProperty("kind").GetString()!, c.GetProperty("text").GetString()!,
                c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray(),
                c.GetProperty("decoded").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReproducesReferenceIdsTokensAndText(string kind)
    {
        var c = Golden().Single(g => g.Kind == kind);
        var tok = Qwen.Value;
        int[] ids = tok.Encode(c.Text, addBos: true); // Qwen has no BOS, so asking for one adds nothing
        Assert.Equal(c.Ids, ids);
        Assert.Equal(c.Tokens, ids.Select(tok.TokenText).ToArray());
        Assert.Equal(c.Text, tok.Decode(ids)); // round trip, special tokens kept
        if (kind != "chat") Assert.Equal(c.Decoded, tok.Decode(ids));
    }

    [Fact]
    public void VocabularyFacts()
    {
        var tok = Qwen.Value;
        Assert.Equal(151669, tok.VocabSize);
        Assert.Null(tok.BosId);
        Assert.Equal(151645, tok.EosId); // <|im_end|> per tokenizer_config.json
        Assert.False(tok.AddBosByDefault);
        Assert.Equal("<|endoftext|>", tok.TokenText(151643));
        Assert.Equal("</think>", tok.TokenText(151668));
        Assert.Throws<MspgtException>(() => tok.TokenText(151669));
    }
}
