using Mspgt.Interventions;
using static Mspgt.Interventions.Outcomes.OutcomeMetrics;

namespace Mspgt.Tests.Interventions;

public class DissociationMatrixTests
{
    private static List<SegmentMetricEffect> Effects() =>
    [
        new(SegmentScale.Local, Distinct1, 2), new(SegmentScale.Local, Distinct2, -1),
        new(SegmentScale.Local, TypeTokenRatio, null), new(SegmentScale.Local, Surprisal, 3),
        new(SegmentScale.Local, Sentences, 0.5), new(SegmentScale.Local, Coherence, -0.5),
        new(SegmentScale.Local, BrittlenessKl, 10), // next-token metrics stay out of the matrix
        new(SegmentScale.Intermediate, Distinct1, 0.2), new(SegmentScale.Intermediate, SentenceLengthMean, 1.0),
        new(SegmentScale.Intermediate, SentenceLengthVar, -2.0), new(SegmentScale.Intermediate, TopicSimilarity, 0.4),
        new(SegmentScale.Global, Distinct1, 1.0), new(SegmentScale.Global, Sentences, 1.0),
        new(SegmentScale.Global, Coherence, 1.0),
    ];

    [Fact]
    public void CellsAndDominanceHandComputed()
    {
        var m = DissociationMatrix.Build(Effects());
        // Local row: lexical mean(|2|, |−1|, |3|) = 2 (null d left out), sentence 0.5, discourse 0.5.
        Assert.Equal([2.0, 0.5, 0.5], m.Cells[0].Select(v => v!.Value));
        Assert.Equal([3, 1, 1], m.Counts[0]);
        Assert.Equal([0.2, 1.5, 0.4], m.Cells[1].Select(v => Math.Round(v!.Value, 12)));
        Assert.Equal([1.0, 1.0, 1.0], m.Cells[2].Select(v => v!.Value));
        // Margins: 2 − 0.5 = 1.5; 1.5 − (0.2 + 0.4)/2 = 1.2; 1 − 1 = 0.
        Assert.Equal(1.5, m.RowMargins[0]!.Value, 12);
        Assert.Equal(1.2, m.RowMargins[1]!.Value, 12);
        Assert.Equal(0.0, m.RowMargins[2]!.Value, 12);
        Assert.Equal(0.9, m.DiagonalDominance!.Value, 12);
        Assert.Equal(2.0 / 3, m.RowMaxFraction!.Value, 12); // the Global row is a tie, which does not count
        Assert.Equal(1.0, m.ColumnMaxFraction!.Value, 12);
    }

    [Fact]
    public void IncompleteRowsAndColumnsAreLeftOut()
    {
        var effects = Effects().Where(e => !(e.Segment == SegmentScale.Global && e.Metric == Coherence)).ToList();
        var m = DissociationMatrix.Build(effects);
        Assert.Null(m.Cells[2][2]);
        Assert.Null(m.RowMargins[2]);
        Assert.Equal(1.35, m.DiagonalDominance!.Value, 12);
        Assert.Equal(1.0, m.RowMaxFraction);
        Assert.Equal(1.0, m.ColumnMaxFraction); // the discourse column is incomplete; the other two have diagonal maxima

        var empty = DissociationMatrix.Build([]);
        Assert.Null(empty.DiagonalDominance);
        Assert.Null(empty.RowMaxFraction);
        Assert.Null(empty.ColumnMaxFraction);
    }

    [Fact]
    public void BadEffectsThrow()
    {
        Assert.Throws<MspgtException>(() => DissociationMatrix.Build(
            [new(SegmentScale.Local, Distinct1, 1), new(SegmentScale.Local, Distinct1, 2)]));
        Assert.Throws<MspgtException>(() => DissociationMatrix.Build([new(SegmentScale.Local, "distinct_3", 1)]));
        Assert.Throws<MspgtException>(() => DissociationMatrix.Build([new(SegmentScale.Local, Distinct1, double.NaN)]));
    }
}
