using Mspgt.Checkpoints;
using Mspgt.Interventions.Outcomes;
using Mspgt.Numerics;

namespace Mspgt.Tests.Interventions;

public class HeadDivergenceTests
{
    private const int T = 9, Dim = 32, Vocab = 1000;

    private static float[] Random(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    private static float[] Logits(float[] normed, WeightMatrix head)
    {
        var y = new float[T * head.Rows];
        MatMul.Multiply(normed, T, head, y);
        return y;
    }

    [Theory]
    [InlineData(0)]     // the chosen slice: the whole vocabulary at once here
    [InlineData(128)]   // 8 slices, the last partial
    [InlineData(333)]
    public void SlicedHeadGivesTheWholeArraysMetrics(int slice)
    {
        var head = WeightMatrix.FromFloats("output", Vocab, Dim, Random(Vocab * Dim, 1, 0.5));
        var cleanNormed = Random(T * Dim, 2, 2);
        var intervenedNormed = cleanNormed.Select((v, i) => v + (i % 3 == 0 ? 0.8f : -0.1f) * (float)Math.Sin(i)).ToArray();
        int rows = T - 1;
        var clean = Logits(cleanNormed, head).AsSpan(0, rows * Vocab).ToArray();
        var intervened = Logits(intervenedNormed, head).AsSpan(0, rows * Vocab).ToArray();
        var targets = Random(rows, 3).Select((v, i) => (int)(Math.Abs(v) * (Vocab - 1))).ToArray();
        var want = NextTokenDivergence.MeasureRows(clean, intervened, Vocab, targets);
        var got = HeadDivergence.MeasureRows(clean, intervenedNormed, T, head, rows, targets, slice);
        Assert.True(want[OutcomeMetrics.BrittlenessKl] > 1e-3, "the intervention should move the distribution");
        foreach (var (metric, value) in want)
            Assert.Equal(value!.Value, got[metric]!.Value, 1e-12);
        Assert.Null(HeadDivergence.MeasureRows(clean, intervenedNormed, T, head, rows, [], slice)[OutcomeMetrics.DeltaNll]);
    }

    [Fact]
    public void UnchangedRowsGiveExactlyZeroWithAQuantizedHead()
    {
        var q = new byte[Vocab * Dim / 32 * QuantBlocks.Q8_0BlockBytes];
        BlockQuantizer.QuantizeQ8_0(Random(Vocab * Dim, 4, 0.5), q);
        var head = WeightMatrix.FromBytes("output", Vocab, Dim, TensorType.Q8_0, q);
        var normed = Random(T * Dim, 5, 2);
        int rows = T - 1;
        var clean = Logits(normed, head).AsSpan(0, rows * Vocab).ToArray();
        var got = HeadDivergence.MeasureRows(clean, normed, T, head, rows, Enumerable.Range(1, rows).ToArray(), 100);
        Assert.Equal(0.0, got[OutcomeMetrics.BrittlenessKl]);
        Assert.Equal(0.0, got[OutcomeMetrics.DeltaNll]);
        Assert.Equal(1.0, got[OutcomeMetrics.Top1Agreement]);
    }
}
