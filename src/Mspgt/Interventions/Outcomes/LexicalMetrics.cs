namespace Mspgt.Interventions.Outcomes;

/// <summary>
/// Local-scale (word choice) outcome metrics. Metrics that are undefined for a degenerate text (no words, no
/// tokens) return null rather than NaN so that reports stay valid JSON.
/// </summary>
public static class LexicalMetrics
{
    /// <summary>
    /// distinct-n (Li et al. 2016) over words: the number of unique word n-grams divided by the total number of word
    /// n-grams, pooled over all <paramref name="texts"/> (n-grams never span two texts). Pooling is what separates
    /// distinct-1 from the per-text <see cref="TypeTokenRatio"/>: for a single text the two are equal. Null when the
    /// texts hold no n-gram at all.
    /// </summary>
    public static double? DistinctN(IReadOnlyList<string> texts, int n)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var sequences = new List<int[]>(texts.Count);
        foreach (var text in texts)
        {
            var words = TextWords.Split(text);
            var seq = new int[words.Count];
            for (int i = 0; i < seq.Length; i++)
            {
                if (!ids.TryGetValue(words[i], out int id)) ids[words[i]] = id = ids.Count;
                seq[i] = id;
            }
            sequences.Add(seq);
        }
        return DistinctN(sequences, n);
    }

    /// <summary>distinct-n of one text (see <see cref="DistinctN(IReadOnlyList{string}, int)"/>).</summary>
    public static double? DistinctN(string text, int n) => DistinctN([text], n);

    /// <summary>distinct-n over token-id sequences (model tokens instead of words), pooled the same way.</summary>
    public static double? DistinctN(IReadOnlyList<int[]> tokenSequences, int n)
    {
        ArgumentNullException.ThrowIfNull(tokenSequences);
        if (n < 1) throw new MspgtException("distinct-n", $"n must be at least 1, got {n}");
        var seen = new HashSet<NGram>();
        long total = 0;
        foreach (var seq in tokenSequences)
            for (int start = 0; start + n <= seq.Length; start++)
            {
                seen.Add(new NGram(seq, start, n));
                total++;
            }
        return total == 0 ? null : (double)seen.Count / total;
    }

    /// <summary>Type-token ratio of one text: unique words / words. Null when the text has no word.</summary>
    public static double? TypeTokenRatio(string text)
    {
        var words = TextWords.Split(text);
        if (words.Count == 0) return null;
        return (double)new HashSet<string>(words, StringComparer.Ordinal).Count / words.Count;
    }

    /// <summary>
    /// Mean token surprisal in nats, −(1/T) Σ_t log p(x_t | x_&lt;t), from the per-token natural-log probabilities of
    /// the generated tokens. Null for no tokens; a log-probability that is NaN, infinite or above 0 (beyond a 1e-6
    /// rounding allowance) is rejected.
    /// </summary>
    public static double? MeanSurprisal(ReadOnlySpan<double> tokenLogProbs)
    {
        if (tokenLogProbs.IsEmpty) return null;
        double sum = 0;
        for (int i = 0; i < tokenLogProbs.Length; i++)
        {
            double lp = tokenLogProbs[i];
            if (!double.IsFinite(lp) || lp > 1e-6)
                throw new MspgtException("surprisal", $"token {i} has log-probability {lp}; expected a finite value ≤ 0");
            sum -= Math.Min(lp, 0);
        }
        return sum / tokenLogProbs.Length;
    }

    /// <summary>As <see cref="MeanSurprisal(ReadOnlySpan{double})"/>, from single-precision log-probabilities.</summary>
    public static double? MeanSurprisal(ReadOnlySpan<float> tokenLogProbs)
    {
        var d = new double[tokenLogProbs.Length];
        for (int i = 0; i < d.Length; i++) d[i] = tokenLogProbs[i];
        return MeanSurprisal(d);
    }

    /// <summary>An n-gram as a window into a token sequence; equality compares the tokens.</summary>
    private readonly struct NGram(int[] tokens, int start, int length) : IEquatable<NGram>
    {
        private ReadOnlySpan<int> Span => tokens.AsSpan(start, length);

        public bool Equals(NGram other) => Span.SequenceEqual(other.Span);

        public override bool Equals(object? obj) => obj is NGram g && Equals(g);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (int t in Span) h.Add(t);
            return h.ToHashCode();
        }
    }
}
