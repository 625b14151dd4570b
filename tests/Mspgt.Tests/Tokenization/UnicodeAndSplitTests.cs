using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

public class UnicodeAndSplitTests
{
    [Theory]
    [InlineData("e\u0301", UnicodeForm.Nfc, "\u00E9")]                 // compose
    [InlineData("\u00E9", UnicodeForm.Nfd, "e\u0301")]                 // decompose
    [InlineData("\u212B", UnicodeForm.Nfc, "\u00C5")]                  // singleton (Angstrom sign → Å)
    [InlineData("\u1E0B\u0323", UnicodeForm.Nfc, "\u1E0D\u0307")]      // reorder below-dot before dot-above, then compose
    [InlineData("\u1E0B\u0323", UnicodeForm.Nfd, "d\u0323\u0307")]
    [InlineData("\u0958", UnicodeForm.Nfc, "\u0915\u093C")]            // composition exclusion stays decomposed
    [InlineData("\u1100\u1161\u11A8", UnicodeForm.Nfc, "\uAC01")]      // Hangul L V T
    [InlineData("\uAC01", UnicodeForm.Nfd, "\u1100\u1161\u11A8")]
    [InlineData("\uFB01", UnicodeForm.Nfc, "\uFB01")]                  // compatibility ligature kept by NFC
    [InlineData("\uFB01", UnicodeForm.Nfkc, "fi")]
    [InlineData("\u2460 x\u00B2", UnicodeForm.Nfkd, "1 x2")]
    [InlineData("plain ASCII", UnicodeForm.Nfc, "plain ASCII")]
    [InlineData("\u0301a", UnicodeForm.Nfc, "\u0301a")]                // leading combining mark
    public void Normalizes(string input, UnicodeForm form, string expected) =>
        Assert.Equal(expected, UnicodeNormalization.Normalize(input, form));

    private const string QwenRegex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Llama3Regex = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Expected pieces from Python's `regex` module (full code point semantics, like Oniguruma).
    /// 𠀀 (U+20000) is a letter, 𝟎.. (U+1D7CE..) digits, 𝐀 a letter, 🙂 a symbol.</summary>
    [Theory]
    [InlineData(QwenRegex, "a\U00020000b \U0001F600x", new[] { "a\U00020000b", " \U0001F600", "x" })]
    [InlineData(QwenRegex, "\U0001F600x", new[] { "\U0001F600x" })]
    [InlineData(QwenRegex, "\U0001D7CE\U0001D7CF\U0001D7D0\U0001D7D1 \U0001D400bc", new[] { "\U0001D7CE", "\U0001D7CF", "\U0001D7D0", "\U0001D7D1", " \U0001D400bc" })]
    [InlineData(Llama3Regex, "\U0001D7CE\U0001D7CF\U0001D7D0\U0001D7D1 \U0001D400bc", new[] { "\U0001D7CE\U0001D7CF\U0001D7D0", "\U0001D7D1", " \U0001D400bc" })]
    [InlineData(QwenRegex, "I'M they'll  \n\n  x\ty", new[] { "I", "'M", " they", "'ll", "  \n\n", " ", " x", "\ty" })]
    public void SplitsPerCodePoint(string pattern, string text, string[] expected)
    {
        var pieces = new List<string>();
        new SplitPattern(pattern, "test").Split(text, SplitBehavior.Isolated, false, pieces);
        Assert.Equal(expected, pieces);
    }

    [Theory]
    [InlineData(SplitBehavior.Isolated, new[] { "a", "-", "b", "-", "-", "c" })]
    [InlineData(SplitBehavior.Removed, new[] { "a", "b", "c" })]
    [InlineData(SplitBehavior.MergedWithPrevious, new[] { "a-", "b-", "-", "c" })]
    [InlineData(SplitBehavior.MergedWithNext, new[] { "a", "-b", "-", "-c" })]
    [InlineData(SplitBehavior.Contiguous, new[] { "a", "-", "b", "--", "c" })]
    public void SplitBehaviors(SplitBehavior behavior, string[] expected)
    {
        var pieces = new List<string>();
        SplitPattern.Literal("-", "test").Split("a-b--c", behavior, false, pieces);
        Assert.Equal(expected, pieces);
    }

    [Fact]
    public void LiteralTokensLeftmostLongest()
    {
        var m = new LiteralTokenMatcher([new("<a>", 1), new("<a><b>", 2), new("<b>", 3), new("x", 4, LeftStrip: true)]);
        var segs = m.Split("q<a><b><b> x");
        Assert.Equal([(0, 1, -1), (1, 6, 2), (7, 3, 3), (10, 2, 4)], segs.Select(s => (s.Start, s.Length, s.TokenId)));
    }

    [Fact]
    public void ByteLevelMapIsGpt2s()
    {
        Assert.Equal('Ġ', ByteLevelMap.ByteToChar((byte)' '));
        Assert.Equal('Ċ', ByteLevelMap.ByteToChar((byte)'\n'));
        Assert.Equal('ĉ', ByteLevelMap.ByteToChar((byte)'\t'));
        Assert.Equal('A', ByteLevelMap.ByteToChar((byte)'A'));
        Assert.Equal("ä½łå¥½", ByteLevelMap.Encode("你好"u8));
        for (int b = 0; b < 256; b++)
        {
            Assert.True(ByteLevelMap.TryCharToByte(ByteLevelMap.ByteToChar((byte)b), out byte back));
            Assert.Equal(b, back);
        }
    }
}
