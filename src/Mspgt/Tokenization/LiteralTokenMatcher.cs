namespace Mspgt.Tokenization;

/// <summary>A token matched literally in raw text before any normalization or BPE (special / added / control tokens).</summary>
public sealed record LiteralToken(string Content, int Id, bool LeftStrip = false, bool RightStrip = false, bool SingleWord = false);

/// <summary>One piece of text after literal-token splitting: either plain text or a token id.</summary>
public readonly record struct TextSegment(int Start, int Length, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}

/// <summary>
/// Finds literal tokens in text, leftmost first and longest on ties (as Hugging Face's added-vocabulary
/// Aho-Corasick matcher and llama.cpp's special-token partition do), and cuts the text around them.
/// </summary>
public sealed class LiteralTokenMatcher
{
    private readonly Dictionary<char, LiteralToken[]> _byFirstChar;

    public int Count { get; }

    public LiteralTokenMatcher(IEnumerable<LiteralToken> tokens)
    {
        var list = tokens.Where(t => t.Content.Length > 0).ToList();
        Count = list.Count;
        _byFirstChar = list.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ThenBy(t => t.Id).ToArray());
    }

    public List<TextSegment> Split(string text)
    {
        var segments = new List<TextSegment>();
        int textStart = 0; // start of the pending plain-text run
        int i = 0;
        while (i < text.Length)
        {
            if (Count > 0 && _byFirstChar.TryGetValue(text[i], out var candidates) && TryMatchAt(text, i, candidates, out var tok))
            {
                int start = i, end = i + tok.Content.Length;
                if (tok.LeftStrip) while (start > textStart && char.IsWhiteSpace(text[start - 1])) start--;
                if (tok.RightStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
                if (start > textStart) segments.Add(new TextSegment(textStart, start - textStart, -1));
                segments.Add(new TextSegment(start, end - start, tok.Id));
                i = textStart = end;
                continue;
            }
            i++;
        }
        if (textStart < text.Length) segments.Add(new TextSegment(textStart, text.Length - textStart, -1));
        return segments;
    }

    private static bool TryMatchAt(string text, int i, LiteralToken[] candidates, out LiteralToken match)
    {
        foreach (var t in candidates)
        {
            if (i + t.Content.Length > text.Length || string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) != 0) continue;
            if (t.SingleWord && (IsWordChar(text, i - 1) || IsWordChar(text, i + t.Content.Length))) continue;
            match = t;
            return true;
        }
        match = null!;
        return false;
    }

    private static bool IsWordChar(string text, int i) =>
        i >= 0 && i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_');
}
