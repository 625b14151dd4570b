using System.Globalization;
using System.Text;

namespace Mspgt.Interventions.Outcomes;

/// <summary>
/// The word rule shared by every text metric. A word is a maximal run of letters, digits and combining marks;
/// an apostrophe (' or ’) or hyphen (- or ‐) with a letter or digit on both sides joins the run ("don't",
/// "well-known" are one word each), and a period or comma with a digit on both sides joins a number ("3.50",
/// "1,000" are one word each). Words are lower-cased (invariant culture) so that "The" and "the" count as one
/// type. Everything else (spaces, punctuation, symbols such as $ or +) separates words.
/// </summary>
public static class TextWords
{
    /// <summary>The words of <paramref name="text"/>, lower-cased, in order.</summary>
    public static List<string> Split(string text)
    {
        var words = new List<string>();
        Scan(text, words, out _);
        return words;
    }

    /// <summary>Number of words (as <see cref="Split"/>).</summary>
    public static int Count(string text) => Split(text).Count;

    /// <summary>
    /// Punctuation characters: code points in a Unicode punctuation category (Pc, Pd, Ps, Pe, Pi, Pf, Po), except
    /// apostrophes, hyphens, periods and commas that join a word or number (they are part of it). Symbols ($, +, ©) are not punctuation.
    /// </summary>
    public static int CountPunctuation(string text)
    {
        Scan(text, null, out int punctuation);
        return punctuation;
    }

    internal static bool IsWordRune(Rune r)
    {
        if (Rune.IsLetterOrDigit(r)) return true;
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
    }

    private static bool IsJoiner(Rune r) => r.Value is '\'' or '\u2019' or '-' or '\u2010';

    private static void Scan(string text, List<string>? words, out int punctuation)
    {
        ArgumentNullException.ThrowIfNull(text);
        var runes = new List<Rune>(text.Length);
        foreach (var r in text.EnumerateRunes()) runes.Add(r);

        punctuation = 0;
        var current = new StringBuilder();
        for (int i = 0; i < runes.Count; i++)
        {
            var r = runes[i];
            if (IsWordRune(r))
            {
                current.Append(r.ToString());
                continue;
            }
            bool joins = current.Length > 0 && i + 1 < runes.Count
                && ((IsJoiner(r) && IsWordRune(runes[i + 1]))
                    || (r.Value is '.' or ',' && Rune.IsDigit(runes[i - 1]) && Rune.IsDigit(runes[i + 1])));
            if (joins)
            {
                current.Append(r.ToString());
                continue;
            }
            Flush(current, words);
            if (Rune.IsPunctuation(r)) punctuation++;
        }
        Flush(current, words);
    }

    private static void Flush(StringBuilder current, List<string>? words)
    {
        if (current.Length == 0) return;
        words?.Add(current.ToString().ToLowerInvariant());
        current.Clear();
    }
}
