namespace Mspgt.Interventions.Outcomes;

/// <summary>What an outcome metric measures; the three text families line up with the three segments.</summary>
public enum MetricFamily
{
    /// <summary>Response of the next-token distribution itself (not a text property).</summary>
    NextToken,
    /// <summary>Word choice: the Local segment's scale.</summary>
    Lexical,
    /// <summary>Sentence structure and length: the Intermediate segment's scale.</summary>
    Sentence,
    /// <summary>Coherence and topic across sentences: the Global segment's scale.</summary>
    Discourse,
}

/// <summary>One outcome metric: its report name, family and a one-line definition.</summary>
public sealed record OutcomeMetric(string Name, MetricFamily Family, string Definition);

/// <summary>The names (exactly as they appear in reports) and families of the intervention outcome metrics.</summary>
public static class OutcomeMetrics
{
    public const string BrittlenessKl = "brittleness_kl";
    public const string DeltaNll = "delta_nll";
    public const string Top1Agreement = "top1_agreement";
    public const string Distinct1 = "distinct_1";
    public const string Distinct2 = "distinct_2";
    public const string TypeTokenRatio = "type_token_ratio";
    public const string Surprisal = "surprisal";
    public const string SentenceLengthMean = "sentence_length_mean";
    public const string SentenceLengthVar = "sentence_length_var";
    public const string Sentences = "sentences";
    public const string PunctuationRate = "punctuation_rate";
    public const string Coherence = "coherence";
    public const string TopicSimilarity = "topic_similarity";

    /// <summary>All metrics in report order.</summary>
    public static IReadOnlyList<OutcomeMetric> All { get; } =
    [
        new(BrittlenessKl, MetricFamily.NextToken, "KL(clean ‖ intervened) of the next-token distributions, nats"),
        new(DeltaNll, MetricFamily.NextToken, "NLL of the target token under the intervened model minus under the clean model, nats"),
        new(Top1Agreement, MetricFamily.NextToken, "1 when the clean and intervened argmax tokens agree, else 0"),
        new(Distinct1, MetricFamily.Lexical, "unique word unigrams / total word unigrams, pooled over the generations"),
        new(Distinct2, MetricFamily.Lexical, "unique word bigrams / total word bigrams, pooled over the generations"),
        new(TypeTokenRatio, MetricFamily.Lexical, "unique words / words of one text"),
        new(Surprisal, MetricFamily.Lexical, "mean −log p of the generated tokens, nats"),
        new(SentenceLengthMean, MetricFamily.Sentence, "mean sentence length, words"),
        new(SentenceLengthVar, MetricFamily.Sentence, "population variance of sentence length, words²"),
        new(Sentences, MetricFamily.Sentence, "number of sentences"),
        new(PunctuationRate, MetricFamily.Sentence, "punctuation characters per word"),
        new(Coherence, MetricFamily.Discourse, "mean cosine similarity of consecutive sentence embeddings"),
        new(TopicSimilarity, MetricFamily.Discourse, "cosine of prompt and continuation content-word count vectors"),
    ];

    /// <summary>The metric named <paramref name="name"/>; throws for an unknown name.</summary>
    public static OutcomeMetric Get(string name)
    {
        foreach (var m in All)
            if (m.Name == name) return m;
        throw new MspgtException("metric", $"unknown outcome metric '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");
    }

    public static MetricFamily FamilyOf(string name) => Get(name).Family;
}
