using Mspgt.Interventions.Outcomes;

namespace Mspgt.Tests.Interventions;

public class OutcomeMetricsTests
{
    [Fact]
    public void MetricNamesAndFamiliesAreExact()
    {
        var expected = new (string, MetricFamily)[]
        {
            ("brittleness_kl", MetricFamily.NextToken), ("delta_nll", MetricFamily.NextToken),
            ("top1_agreement", MetricFamily.NextToken), ("distinct_1", MetricFamily.Lexical),
            ("distinct_2", MetricFamily.Lexical), ("type_token_ratio", MetricFamily.Lexical),
            ("surprisal", MetricFamily.Lexical), ("sentence_length_mean", MetricFamily.Sentence),
            ("sentence_length_var", MetricFamily.Sentence), ("sentences", MetricFamily.Sentence),
            ("punctuation_rate", MetricFamily.Sentence), ("coherence", MetricFamily.Discourse),
            ("topic_similarity", MetricFamily.Discourse),
        };
        Assert.Equal(expected, OutcomeMetrics.All.Select(m => (m.Name, m.Family)));
        Assert.Equal(MetricFamily.Sentence, OutcomeMetrics.FamilyOf(OutcomeMetrics.PunctuationRate));
        Assert.Throws<MspgtException>(() => OutcomeMetrics.Get("distinct_3"));
    }

    [Fact]
    public void WordsJoinApostrophesHyphensAndNumbers()
    {
        const string text = "Don't stop—the well-known cat's $3.50 and 1,000 -- x!";
        Assert.Equal(["don't", "stop", "the", "well-known", "cat's", "3.50", "and", "1,000", "x"], TextWords.Split(text));
        // — (1), - (1), - (1), ! (1); joined ' - . , and the $ symbol are not counted.
        Assert.Equal(4, TextWords.CountPunctuation(text));
        Assert.Empty(TextWords.Split("  ... !? "));
    }

    [Fact]
    public void DistinctNPoolsTextsWithoutCrossingThem()
    {
        string[] texts = ["The cat sat on the mat.", "the cat sat"];
        // Unigrams: 9 in all; types the, cat, sat, on, mat = 5.
        Assert.Equal(5.0 / 9, LexicalMetrics.DistinctN(texts, 1)!.Value, 12);
        // Bigrams: 5 + 2 = 7 ("mat the" does not exist); "the cat" and "cat sat" repeat, 5 unique.
        Assert.Equal(5.0 / 7, LexicalMetrics.DistinctN(texts, 2)!.Value, 12);
        Assert.Null(LexicalMetrics.DistinctN(["one"], 2));
        Assert.Equal(1.0, LexicalMetrics.DistinctN("a b c", 3));
        Assert.Throws<MspgtException>(() => LexicalMetrics.DistinctN(texts, 0));
    }

    [Fact]
    public void DistinctNOverTokenIds()
    {
        // Bigrams (1,2) (2,1) (1,2) | (1,2): 4 in all, 2 unique.
        Assert.Equal(0.5, LexicalMetrics.DistinctN(new List<int[]> { new[] { 1, 2, 1, 2 }, new[] { 1, 2 } }, 2));
        Assert.Equal(2.0 / 6, LexicalMetrics.DistinctN(new List<int[]> { new[] { 1, 2, 1, 2 }, new[] { 1, 2 } }, 1)!.Value, 12);
    }

    [Fact]
    public void TypeTokenRatioIsCaseInsensitive()
    {
        Assert.Equal(0.8, LexicalMetrics.TypeTokenRatio("The cat and the hat")!.Value, 12);
        Assert.Null(LexicalMetrics.TypeTokenRatio("?!"));
    }

    [Fact]
    public void SurprisalIsMeanNegativeLogProb()
    {
        Assert.Equal(1.5 * Math.Log(2), LexicalMetrics.MeanSurprisal([Math.Log(0.5), Math.Log(0.25)])!.Value, 12);
        Assert.Equal(0.0, LexicalMetrics.MeanSurprisal([0.0]));
        Assert.Null(LexicalMetrics.MeanSurprisal(ReadOnlySpan<double>.Empty));
        Assert.Throws<MspgtException>(() => LexicalMetrics.MeanSurprisal([-1.0, 0.1]));
        Assert.Throws<MspgtException>(() => LexicalMetrics.MeanSurprisal([double.NegativeInfinity]));
    }

    [Theory]
    [InlineData("\"Hi!\" she said. Then she left.", new[] { "\"Hi!\" she said.", "Then she left." })]
    [InlineData("He said \"Hi.\" Then he left.", new[] { "He said \"Hi.\"", "Then he left." })]
    [InlineData("\"Stop.\" \"Why?\"", new[] { "\"Stop.\"", "\"Why?\"" })]
    [InlineData("Mr. Smith paid $3.50 for it. Was it worth it? Yes!", new[] { "Mr. Smith paid $3.50 for it.", "Was it worth it?", "Yes!" })]
    [InlineData("Wait... what? No... Really!", new[] { "Wait... what?", "No...", "Really!" })]
    [InlineData("Introduction\n\nThe model works well", new[] { "Introduction", "The model works well" })]
    [InlineData("line one\nline two", new[] { "line one\nline two" })]
    [InlineData("Version 2.0 is out.", new[] { "Version 2.0 is out." })]
    [InlineData("It ended (finally.) Next one", new[] { "It ended (finally.)", "Next one" })]
    [InlineData("Dots: e.g. this, and ... ", new[] { "Dots: e.g. this, and ..." })]
    [InlineData("  ... ", new string[0])]
    [InlineData("", new string[0])]
    public void SentenceSplitting(string text, string[] expected) => Assert.Equal(expected, SentenceMetrics.Split(text));

    [Fact]
    public void SentenceStatisticsHandCounted()
    {
        // Lengths 6 (mr smith paid 3.50 for it), 4, 1: mean 11/3, population variance (49 + 1 + 64)/27.
        // Punctuation . . ? ! = 4 over 11 words (the $ is a symbol, the decimal point part of 3.50).
        var s = SentenceMetrics.Measure("Mr. Smith paid $3.50 for it. Was it worth it? Yes!");
        Assert.Equal(3, s.Sentences);
        Assert.Equal(11.0 / 3, s.LengthMean!.Value, 12);
        Assert.Equal(114.0 / 27, s.LengthVariance!.Value, 12);
        Assert.Equal(4.0 / 11, s.PunctuationRate!.Value, 12);

        var one = SentenceMetrics.Measure("Just one sentence here");
        Assert.Equal((1, 4.0, 0.0, 0.0), (one.Sentences, one.LengthMean!.Value, one.LengthVariance!.Value, one.PunctuationRate!.Value));

        var empty = SentenceMetrics.Measure("");
        Assert.Equal(new SentenceStatistics(0, null, null, null), empty);
    }

    [Fact]
    public void TopicSimilarityHandComputed()
    {
        // Content words {cat, sat, mat} vs {cat, dog}: 1 / (√3·√2).
        Assert.Equal(1 / Math.Sqrt(6), DiscourseMetrics.TopicSimilarity("The cat sat on the mat.", "A cat and a dog.")!.Value, 12);
        // Counts matter: (2, 1)·(1, 1) / (√5·√2).
        Assert.Equal(3 / Math.Sqrt(10), DiscourseMetrics.TopicSimilarity("cat cat dog", "The dog and the cat")!.Value, 12);
        Assert.Equal(1.0, DiscourseMetrics.TopicSimilarity("Cats!", "cats")!.Value, 12);
        Assert.Equal(0.0, DiscourseMetrics.TopicSimilarity("cats", "dogs"));
        Assert.Null(DiscourseMetrics.TopicSimilarity("the of and it", "cats"));
    }

    [Fact]
    public void CoherenceIsMeanConsecutiveCosine()
    {
        Assert.Equal(0.5, DiscourseMetrics.Coherence([[1f, 0f], [2f, 0f], [0f, 3f]])!.Value, 12);
        Assert.Equal(1 / Math.Sqrt(2), DiscourseMetrics.Coherence([[1f, 0f], [1f, 1f]])!.Value, 12);
        Assert.Equal(-1.0, DiscourseMetrics.Coherence([[1f, 2f], [-1f, -2f]])!.Value, 12);
        Assert.Null(DiscourseMetrics.Coherence([[1f, 0f]]));
        Assert.Throws<MspgtException>(() => DiscourseMetrics.Coherence([[1f, 0f], [0f, 0f]]));
        Assert.Throws<MspgtException>(() => DiscourseMetrics.Coherence([[1f, 0f], [1f]]));
        Assert.Throws<MspgtException>(() => DiscourseMetrics.Coherence([[1f, float.NaN], [1f, 0f]]));
    }
}
