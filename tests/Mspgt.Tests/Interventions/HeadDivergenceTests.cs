using Mspgt.Checkpoints;
using Mspgt.Interventions.Outcomes;
using Mspgt.Numerics;

namespace Mspgt.Tests.Interventions;

public class HeadDivergenceTests
{
    private const int T = 9, Dim = 32, Vocab = 1000;

    internal static float[] Random(int n, int seed, double scale = 1)
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

    [Theory]
    [InlineData(9, 0)]
    [InlineData(9, 128)]
    [InlineData(9, 333)]
    [InlineData(3, 128)]   // fewer rows than a GEMM takes: each set alone on the matrix-vector path, as the forward pass
    public void CleanLogitsRemadeFromTheNormGiveTheKeptLogitsResultsBitForBit(int tokens, int slice)
    {
        var q = new byte[Vocab * Dim / 32 * QuantBlocks.Q8_0BlockBytes];
        BlockQuantizer.QuantizeQ8_0(Random(Vocab * Dim, 6, 0.5), q);
        var head = WeightMatrix.FromBytes("output", Vocab, Dim, TensorType.Q8_0, q);
        var cleanNormed = Random(tokens * Dim, 7, 2);
        var intervenedNormed = cleanNormed.Select((v, i) => i < Dim ? v : v + 0.3f * (float)Math.Cos(i)).ToArray();  // row 0 unchanged
        int rows = tokens - 1;
        var full = new float[tokens * Vocab];
        MatMul.Multiply(cleanNormed, tokens, head, full);
        var clean = full.AsSpan(0, rows * Vocab).ToArray();
        var targets = Enumerable.Range(0, rows).Select(i => (i * 37 + 11) % Vocab).ToArray();
        foreach (var t in new[] { targets, Array.Empty<int>() })
        {
            var want = HeadDivergence.MeasureRows(clean, intervenedNormed, tokens, head, rows, t, slice);
            int s = slice > 0 ? slice : HeadSlices.SliceFor(tokens);
            var summary = HeadDivergence.SummariseClean(clean, tokens, Vocab, rows, t, s);
            var fromNorm = HeadDivergence.SummariseClean(cleanNormed, tokens, head, rows, t, s);   // the clean pass without logits
            Assert.Equal(summary.LogZ, fromNorm.LogZ);
            Assert.Equal(summary.Top, fromNorm.Top);
            Assert.Equal(summary.TargetLogit, fromNorm.TargetLogit);
            var got = HeadDivergence.MeasureRows(cleanNormed, summary, intervenedNormed, tokens, head, rows, t, slice);
            Assert.True(want[OutcomeMetrics.BrittlenessKl] > 1e-3);
            foreach (var (metric, value) in want) Assert.Equal(value, got[metric]);   // exact, nulls included
            // The two sets in products of their own (as long documents take them) give the same, bit for bit.
            var apart = HeadDivergence.MeasureRows(cleanNormed, summary, intervenedNormed, tokens, head, rows, t, slice, stackedRowsBytes: 0);
            foreach (var (metric, value) in want) Assert.Equal(value, apart[metric]);
        }
        // and a no-op compared from the norm is exactly nothing
        var noop = HeadDivergence.MeasureRows(cleanNormed, HeadDivergence.SummariseClean(clean, tokens, Vocab, rows, targets, slice > 0 ? slice : HeadSlices.SliceFor(tokens)),
            cleanNormed, tokens, head, rows, targets, slice);
        Assert.Equal(0.0, noop[OutcomeMetrics.BrittlenessKl]);
        Assert.Equal(0.0, noop[OutcomeMetrics.DeltaNll]);
        Assert.Equal(1.0, noop[OutcomeMetrics.Top1Agreement]);
    }
}
