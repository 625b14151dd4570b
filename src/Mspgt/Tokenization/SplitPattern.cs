using System.Globalization;
using System.Text.RegularExpressions;

namespace Mspgt.Tokenization;

/// <summary>How the pieces a pattern finds are kept (Hugging Face SplitDelimiterBehavior).</summary>
public enum SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// A pre-tokenizer regex that matches per Unicode code point, as the Rust/Oniguruma and llama.cpp engines do.
/// .NET regexes see UTF-16 units, so a supplementary character (emoji, CJK extension B, math letters) would be two
/// surrogates of category Cs: `[^\r\n\p{L}\p{N}]?\p{L}+` would then split "🙂a" differently. We match on a shadow
/// string in which each supplementary code point is one BMP stand-in of the same general category, and map the
/// match offsets back.
/// </summary>
public sealed class SplitPattern
{
    private static readonly char[] StandIns = BuildStandIns();
    private readonly Regex _regex;

    public string Pattern { get; }

    public SplitPattern(string pattern, string source)
    {
        Pattern = pattern;
        try
        {
            _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new MspgtException(source, $"unsupported pre-tokenizer regex /{pattern}/: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    public static SplitPattern Literal(string text, string source) => new(Regex.Escape(text), source);

    /// <summary>The non-empty matches of the pattern in text as (start, length) in UTF-16 units of text.</summary>
    public void FindMatches(string text, List<(int Start, int Length)> matches)
    {
        matches.Clear();
        if (!HasSurrogatePair(text))
        {
            for (var m = _regex.Match(text); m.Success; m = m.NextMatch())
                if (m.Length > 0) matches.Add((m.Index, m.Length));
            return;
        }
        var shadow = new char[text.Length];
        var toOriginal = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            toOriginal[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                int cp = char.ConvertToUtf32(text[i], text[i + 1]);
                shadow[n] = StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(cp)];
                i += 2;
            }
            else shadow[n] = text[i++];
        }
        toOriginal[n] = text.Length;
        var shadowText = new string(shadow, 0, n);
        for (var m = _regex.Match(shadowText); m.Success; m = m.NextMatch())
            if (m.Length > 0)
            {
                int start = toOriginal[m.Index];
                matches.Add((start, toOriginal[m.Index + m.Length] - start));
            }
    }

    /// <summary>Splits text into pieces by this pattern with the given behavior (empty pieces dropped).</summary>
    public void Split(string text, SplitBehavior behavior, bool invert, List<string> output)
    {
        var matches = new List<(int Start, int Length)>();
        FindMatches(text, matches);
        // The text as alternating runs, each flagged as delimiter (a match, or a gap when inverted).
        var runs = new List<(int Start, int Length, bool Delimiter)>(matches.Count * 2 + 1);
        int prev = 0;
        foreach (var (start, length) in matches)
        {
            if (start > prev) runs.Add((prev, start - prev, invert));
            runs.Add((start, length, !invert));
            prev = start + length;
        }
        if (prev < text.Length) runs.Add((prev, text.Length - prev, invert));

        int pendingStart = -1; // start of a piece still being extended
        int pendingEnd = -1;
        void Flush()
        {
            if (pendingStart >= 0 && pendingEnd > pendingStart) output.Add(text[pendingStart..pendingEnd]);
            pendingStart = pendingEnd = -1;
        }
        for (int r = 0; r < runs.Count; r++)
        {
            var (start, length, delim) = runs[r];
            int end = start + length;
            switch (behavior)
            {
                case SplitBehavior.Removed:
                    if (!delim) output.Add(text[start..end]);
                    break;
                case SplitBehavior.Isolated:
                    output.Add(text[start..end]);
                    break;
                case SplitBehavior.MergedWithPrevious:
                    if (delim && pendingStart >= 0) { pendingEnd = end; Flush(); }
                    else if (delim) output.Add(text[start..end]);
                    else { Flush(); pendingStart = start; pendingEnd = end; }
                    break;
                case SplitBehavior.MergedWithNext:
                    if (delim) { Flush(); pendingStart = start; pendingEnd = end; }
                    else if (pendingStart >= 0) { pendingEnd = end; Flush(); }
                    else output.Add(text[start..end]);
                    break;
                case SplitBehavior.Contiguous:
                    // runs alternate, so every run is its own piece; consecutive matches were already one run
                    // only when they touch: join touching delimiter runs
                    if (delim && pendingStart >= 0 && pendingEnd == start) pendingEnd = end;
                    else { Flush(); if (delim) { pendingStart = start; pendingEnd = end; } else output.Add(text[start..end]); }
                    break;
            }
        }
        Flush();
    }

    private static bool HasSurrogatePair(string text)
    {
        foreach (char c in text)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>For each general category, a BMP character of that category that no supported pattern names
    /// literally (all are above U+00A0 and none is whitespace unless the category is).</summary>
    private static char[] BuildStandIns()
    {
        int count = Enum.GetValues<UnicodeCategory>().Length;
        var table = new char[count];
        var found = new bool[count];
        for (int c = 0xA1; c <= 0xFFFD; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            var cat = CharUnicodeInfo.GetUnicodeCategory((char)c);
            int k = (int)cat;
            if (found[k] || char.IsWhiteSpace((char)c) && cat is not (UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)) continue;
            table[k] = (char)c;
            found[k] = true;
        }
        // Surrogate never occurs as a decoded code point; Control has no supplementary members.
        for (int k = 0; k < count; k++) if (!found[k]) table[k] = '\uFFFD';
        return table;
    }
}
