namespace Mspgt.Interventions.Outcomes;

/// <summary>Global-scale (discourse) outcome metrics. Undefined cases return null, never NaN.</summary>
public static class DiscourseMetrics
{
    /// <summary>
    /// A small English stop-word list (articles, pronouns, auxiliaries, prepositions, conjunctions and common
    /// function adverbs, lower case; contractions in their "don't" form as <see cref="TextWords"/> produces them).
    /// Content words left after removing these carry the topic.
    /// </summary>
    public static IReadOnlySet<string> StopWords { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "a", "an", "the", "and", "or", "but", "nor", "so", "yet", "if", "then", "else", "than", "because", "as",
        "while", "when", "where", "which", "who", "whom", "whose", "what", "that", "this", "these", "those",
        "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your", "yours",
        "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its",
        "itself", "they", "them", "their", "theirs", "themselves",
        "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did",
        "doing", "will", "would", "shall", "should", "can", "could", "may", "might", "must",
        "of", "in", "on", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during",
        "before", "after", "above", "below", "to", "from", "up", "down", "out", "off", "over", "under", "again",
        "further", "once", "here", "there", "why", "how", "all", "any", "both", "each", "few", "more", "most",
        "other", "some", "such", "no", "not", "only", "own", "same", "too", "very", "just", "also", "s", "t",
        "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "won't", "it's", "i'm",
        "i've", "i'll", "i'd", "you're", "he's", "she's", "we're", "they're", "that's", "there's",
    };

    /// <summary>
    /// Coherence: the mean cosine similarity of consecutive sentence embeddings, (1/(S−1)) Σ_s cos(e_s, e_{s+1}).
    /// The caller embeds the sentences (one vector each, all the same length). Null with fewer than two
    /// sentences; a zero or non-finite vector, or a length mismatch, is an error.
    /// </summary>
    public static double? Coherence(IReadOnlyList<float[]> sentenceEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(sentenceEmbeddings);
        const string source = "coherence";
        if (sentenceEmbeddings.Count < 2) return null;
        int dim = sentenceEmbeddings[0].Length;
        if (dim == 0) throw new MspgtException(source, "sentence embeddings are empty");
        for (int s = 0; s < sentenceEmbeddings.Count; s++)
        {
            var e = sentenceEmbeddings[s];
            if (e.Length != dim)
                throw new MspgtException(source, $"sentence embedding {s} has {e.Length} values, expected {dim}");
            foreach (float v in e)
                if (!float.IsFinite(v)) throw new MspgtException(source, $"sentence embedding {s} contains {v}");
        }
        double sum = 0;
        for (int s = 0; s + 1 < sentenceEmbeddings.Count; s++)
            sum += Cosine(sentenceEmbeddings[s], sentenceEmbeddings[s + 1])
                   ?? throw new MspgtException(source, $"sentence embedding {(Norm(sentenceEmbeddings[s]) == 0 ? s : s + 1)} is the zero vector");
        return sum / (sentenceEmbeddings.Count - 1);
    }

    /// <summary>
    /// Prompt–continuation topical similarity: the cosine of the two bag-of-words count vectors, over lower-cased
    /// words (<see cref="TextWords"/>) with <see cref="StopWords"/> removed. In [0, 1]; null when either text has
    /// no content word.
    /// </summary>
    public static double? TopicSimilarity(string prompt, string continuation)
    {
        var a = ContentWordCounts(prompt);
        var b = ContentWordCounts(continuation);
        if (a.Count == 0 || b.Count == 0) return null;
        double dot = 0, na = 0, nb = 0;
        // Sum in sorted key order so the result does not depend on hash-table order.
        foreach (var key in a.Keys.Order(StringComparer.Ordinal))
        {
            double x = a[key];
            na += x * x;
            if (b.TryGetValue(key, out int y)) dot += x * y;
        }
        foreach (var key in b.Keys.Order(StringComparer.Ordinal)) nb += (double)b[key] * b[key];
        return dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }

    /// <summary>Counts of the words of <paramref name="text"/> that are not stop words.</summary>
    public static Dictionary<string, int> ContentWordCounts(string text)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var w in TextWords.Split(text))
            if (!StopWords.Contains(w))
                counts[w] = counts.GetValueOrDefault(w) + 1;
        return counts;
    }

    /// <summary>Cosine similarity in double precision; null when either vector is zero.</summary>
    internal static double? Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        if (na == 0 || nb == 0) return null;
        return Math.Clamp(dot / (Math.Sqrt(na) * Math.Sqrt(nb)), -1.0, 1.0);
    }

    private static double Norm(ReadOnlySpan<float> a)
    {
        double s = 0;
        foreach (float v in a) s += (double)v * v;
        return Math.Sqrt(s);
    }
}
