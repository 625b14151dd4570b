namespace Mspgt.Interventions.Outcomes;

/// <summary>One generated continuation, with the natural-log probabilities the generating model gave its tokens
/// (null when not recorded; surprisal is then null).</summary>
public sealed record GeneratedSample(string Text, double[]? TokenLogProbs = null);

/// <summary>
/// All text outcome metrics (lexical, sentence, discourse families) of the continuations generated for one prompt
/// under one condition (clean, or one intervention). These per-prompt values are what the paired statistics pair
/// across prompts.
/// <para>With several samples per prompt, distinct-1 and distinct-2 pool the n-grams of all samples (so they
/// measure diversity across samples as well as within), while every other metric is computed per sample and
/// averaged over the samples where it is defined (null if none). With a single sample, distinct-1 equals the
/// type-token ratio by definition.</para>
/// </summary>
public static class TextOutcomes
{
    /// <summary>
    /// Measures <paramref name="samples"/> (at least one) generated for <paramref name="prompt"/>. Coherence needs
    /// sentence embeddings: <paramref name="embedSentences"/> receives the sentences of one sample (as
    /// <see cref="SentenceMetrics.Split"/> gives them) and must return one vector per sentence; when it is null,
    /// coherence is null. Keys are the metric names of <see cref="OutcomeMetrics"/>; every text metric is present.
    /// </summary>
    public static IReadOnlyDictionary<string, double?> Measure(string prompt, IReadOnlyList<GeneratedSample> samples,
        Func<IReadOnlyList<string>, IReadOnlyList<float[]>>? embedSentences = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new MspgtException("text outcomes", "no generated samples to measure");

        var texts = samples.Select(s => s.Text ?? throw new MspgtException("text outcomes", "a generated sample has no text")).ToList();
        var perSample = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        void Add(string metric, double? value)
        {
            if (value is double v) (perSample.TryGetValue(metric, out var l) ? l : perSample[metric] = []).Add(v);
        }

        foreach (var sample in samples)
        {
            Add(OutcomeMetrics.TypeTokenRatio, LexicalMetrics.TypeTokenRatio(sample.Text));
            if (sample.TokenLogProbs is { } lp) Add(OutcomeMetrics.Surprisal, LexicalMetrics.MeanSurprisal(lp));
            var st = SentenceMetrics.Measure(sample.Text);
            Add(OutcomeMetrics.SentenceLengthMean, st.LengthMean);
            Add(OutcomeMetrics.SentenceLengthVar, st.LengthVariance);
            Add(OutcomeMetrics.Sentences, st.Sentences);
            Add(OutcomeMetrics.PunctuationRate, st.PunctuationRate);
            if (embedSentences is not null)
            {
                var sentences = SentenceMetrics.Split(sample.Text);
                var embeddings = embedSentences(sentences);
                if (embeddings is null || embeddings.Count != sentences.Count)
                    throw new MspgtException("coherence",
                        $"the sentence embedder returned {embeddings?.Count ?? 0} vectors for {sentences.Count} sentences");
                Add(OutcomeMetrics.Coherence, DiscourseMetrics.Coherence(embeddings));
            }
            Add(OutcomeMetrics.TopicSimilarity, DiscourseMetrics.TopicSimilarity(prompt, sample.Text));
        }

        var result = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var metric in OutcomeMetrics.All)
        {
            if (metric.Family == MetricFamily.NextToken) continue;
            result[metric.Name] = metric.Name switch
            {
                OutcomeMetrics.Distinct1 => LexicalMetrics.DistinctN(texts, 1),
                OutcomeMetrics.Distinct2 => LexicalMetrics.DistinctN(texts, 2),
                _ => perSample.TryGetValue(metric.Name, out var values) ? values.Average() : null,
            };
        }
        return result;
    }
}
