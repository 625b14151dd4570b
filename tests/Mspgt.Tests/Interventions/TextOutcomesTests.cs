using Mspgt.Interventions.Outcomes;

namespace Mspgt.Tests.Interventions;

public class TextOutcomesTests
{
    [Fact]
    public void OneSampleHandCounted()
    {
        // Sentences "The cat sat." (3 words) and "The cat ran away!" (4): mean 3.5, population variance 0.25.
        // Words the cat sat the cat ran away: 7 words, 5 types. Bigrams: the-cat, cat-sat, sat-the, the-cat,
        // cat-ran, ran-away: 6, 5 unique. Punctuation . ! = 2 per 7 words.
        // Topic: prompt {cat} vs continuation {cat:2, sat, ran, away}: 2 / √(4 + 1 + 1 + 1) = 2/√7.
        var embeddings = new Dictionary<string, float[]> { ["The cat sat."] = [1f, 0f], ["The cat ran away!"] = [1f, 1f] };
        var m = TextOutcomes.Measure("About the cat.",
            [new GeneratedSample("The cat sat. The cat ran away!", [Math.Log(0.5), Math.Log(0.5), Math.Log(0.25)])],
            sentences => sentences.Select(s => embeddings[s]).ToList());

        Assert.Equal(OutcomeMetrics.All.Count(x => x.Family != MetricFamily.NextToken), m.Count);
        Assert.Equal(5.0 / 7, m[OutcomeMetrics.Distinct1]!.Value, 12);
        Assert.Equal(5.0 / 6, m[OutcomeMetrics.Distinct2]!.Value, 12);
        Assert.Equal(5.0 / 7, m[OutcomeMetrics.TypeTokenRatio]!.Value, 12);
        Assert.Equal(4 * Math.Log(2) / 3, m[OutcomeMetrics.Surprisal]!.Value, 12);
        Assert.Equal(3.5, m[OutcomeMetrics.SentenceLengthMean]!.Value, 12);
        Assert.Equal(0.25, m[OutcomeMetrics.SentenceLengthVar]!.Value, 12);
        Assert.Equal(2.0, m[OutcomeMetrics.Sentences]);
        Assert.Equal(2.0 / 7, m[OutcomeMetrics.PunctuationRate]!.Value, 12);
        Assert.Equal(1 / Math.Sqrt(2), m[OutcomeMetrics.Coherence]!.Value, 12);
        Assert.Equal(2 / Math.Sqrt(7), m[OutcomeMetrics.TopicSimilarity]!.Value, 12);
    }

    [Fact]
    public void SeveralSamplesPoolDistinctAndAverageTheRest()
    {
        // "a b" and "a c": pooled unigrams 4, types 3; each sample's TTR is 1.
        var m = TextOutcomes.Measure("x", [new GeneratedSample("a b"), new GeneratedSample("a c.")]);
        Assert.Equal(0.75, m[OutcomeMetrics.Distinct1]);
        Assert.Equal(1.0, m[OutcomeMetrics.TypeTokenRatio]);
        Assert.Equal(0.25, m[OutcomeMetrics.PunctuationRate]!.Value, 12); // mean of 0 and ½
        Assert.Null(m[OutcomeMetrics.Surprisal]);  // no log-probabilities given
        Assert.Null(m[OutcomeMetrics.Coherence]);  // no embedder given
        Assert.Equal(0.0, m[OutcomeMetrics.TopicSimilarity]); // "x" is a content word with no overlap: 0, not null
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<MspgtException>(() => TextOutcomes.Measure("p", []));
        Assert.Throws<MspgtException>(() => TextOutcomes.Measure("p", [new GeneratedSample("One. Two.")], _ => [new float[] { 1f }]));
    }
}
