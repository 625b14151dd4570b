namespace Mspgt.Interventions.Outcomes;

/// <summary>Sentence-structure measurements of one text.</summary>
/// <param name="Sentences">Number of sentences (those with at least one word).</param>
/// <param name="LengthMean">Mean sentence length in words; null with no sentence.</param>
/// <param name="LengthVariance">Population variance (divide by the number of sentences) of sentence length in
/// words: a description of this text, not an estimate, so one sentence gives 0. Null with no sentence.</param>
/// <param name="PunctuationRate">Punctuation characters per word (<see cref="TextWords.CountPunctuation"/> /
/// <see cref="TextWords.Count"/>) over the whole text; null with no word.</param>
public sealed record SentenceStatistics(int Sentences, double? LengthMean, double? LengthVariance, double? PunctuationRate);

/// <summary>
/// Intermediate-scale (sentence) outcome metrics and the sentence splitter they use.
/// <para>Splitting rule. A sentence ends after a run of terminal marks (. ! ? …), extended over any closing quotes
/// or brackets (" ' ” ’ » ) ]) that follow it, when the next character is whitespace or the end of the text, and
/// the next non-space character is not a lower-case letter and not , ; or :. So <c>"Hi!" she said.</c> is one
/// sentence (the mark is followed by a lower-case continuation) while <c>He said "Hi." Then he left.</c> is two,
/// the first ending after the closing quote. A single period after a title abbreviation (Mr Mrs Ms Dr Prof St Jr Sr
/// vs) does not end a sentence. A paragraph break (a line break, optional spaces, another line break) always ends
/// one, so headings and list items without a final period still split. Decimal points and "a.b" (no whitespace
/// after the mark) never split. Leading and trailing whitespace is trimmed; trailing text without a terminal mark
/// is a sentence; pieces with no word (e.g. a lone "...") are dropped.</para>
/// </summary>
public static class SentenceMetrics
{
    private static readonly HashSet<string> TitleAbbreviations =
        new(["mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs"], StringComparer.Ordinal);

    /// <summary>The sentences of <paramref name="text"/> under the rule above, trimmed, in order.</summary>
    public static List<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sentences = new List<string>();
        int start = 0, i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '\n' || c == '\r')
            {
                int j = i;
                while (j < text.Length && char.IsWhiteSpace(text[j])) j++;
                if (LineBreaks(text, i, j) >= 2)
                {
                    Add(sentences, text, start, i);
                    start = j;
                }
                i = j;
                continue;
            }
            if (!IsTerminal(c)) { i++; continue; }

            int markStart = i;
            while (i < text.Length && IsTerminal(text[i])) i++;
            int markEnd = i;
            while (i < text.Length && IsClosing(text[i])) i++;
            int end = i; // exclusive end of the candidate sentence
            if (end < text.Length && !char.IsWhiteSpace(text[end])) continue; // "3.14", "a.b", "?!x"
            int next = end;
            while (next < text.Length && char.IsWhiteSpace(text[next])) next++;
            bool boundary = next >= text.Length
                || !(char.IsLower(text[next]) || text[next] is ',' or ';' or ':');
            if (boundary && markEnd - markStart == 1 && text[markStart] == '.' && FollowsTitle(text, markStart))
                boundary = false;
            if (boundary)
            {
                Add(sentences, text, start, end);
                start = end;
            }
        }
        Add(sentences, text, start, text.Length);
        return sentences;
    }

    /// <summary>Sentence count, mean and variance of sentence length and punctuation rate of one text.</summary>
    public static SentenceStatistics Measure(string text)
    {
        var sentences = Split(text);
        int words = TextWords.Count(text);
        double? punctuationRate = words == 0 ? null : (double)TextWords.CountPunctuation(text) / words;
        if (sentences.Count == 0) return new SentenceStatistics(0, null, null, punctuationRate);
        var lengths = sentences.Select(TextWords.Count).ToArray();
        double mean = lengths.Average();
        double ss = 0;
        foreach (int l in lengths) ss += (l - mean) * (l - mean);
        return new SentenceStatistics(sentences.Count, mean, ss / lengths.Length, punctuationRate);
    }

    /// <summary>Line breaks in text[from..to), counting \r\n, \n and a lone \r as one each.</summary>
    private static int LineBreaks(string text, int from, int to)
    {
        int count = 0;
        for (int k = from; k < to; k++)
            if (text[k] == '\n' || (text[k] == '\r' && (k + 1 >= to || text[k + 1] != '\n'))) count++;
        return count;
    }

    private static bool IsTerminal(char c) => c is '.' or '!' or '?' or '\u2026';

    private static bool IsClosing(char c) => c is '"' or '\'' or '\u201D' or '\u2019' or '\u00BB' or ')' or ']';

    private static bool FollowsTitle(string text, int period)
    {
        int j = period;
        while (j > 0 && char.IsLetter(text[j - 1])) j--;
        if (j == period) return false;
        if (j > 0 && char.IsLetterOrDigit(text[j - 1])) return false;
        return TitleAbbreviations.Contains(text[j..period].ToLowerInvariant());
    }

    private static void Add(List<string> sentences, string text, int start, int end)
    {
        var s = text[start..end].Trim();
        if (TextWords.Count(s) > 0) sentences.Add(s);
    }
}
