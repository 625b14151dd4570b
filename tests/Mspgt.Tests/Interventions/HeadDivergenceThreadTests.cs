using Mspgt.Interventions.Outcomes;
using Mspgt.Numerics;
using Mspgt.Tests.Numerics;

namespace Mspgt.Tests.Interventions;

/// <summary>
/// The head comparison folds a slice's rows in parallel: its values must not depend on the thread count, and a
/// non-finite logit must be reported at the first row that has one, in row order, as a row-by-row loop reports it,
/// whichever thread reaches which row first.
/// </summary>
[Collection(ParallelismCollection.Name)]
public sealed class HeadDivergenceThreadTests : IDisposable
{
    // 79 compared rows of a 1,000-entry vocabulary: enough work for the fold to run in parallel chunks of 16 rows.
    private const int T = 80, Dim = 32, Vocab = 1000, Rows = T - 1;

    public void Dispose() => Parallelism.Set(null);

    private static float[] Random(int n, int seed, double scale) => HeadDivergenceTests.Random(n, seed, scale);

    private static int[] Targets => Enumerable.Range(0, Rows).Select(i => (i * 37 + 11) % Vocab).ToArray();

    [Fact]
    public void ValuesDoNotDependOnTheThreadCount()
    {
        var head = WeightMatrix.FromFloats("output", Vocab, Dim, Random(Vocab * Dim, 1, 0.5));
        var cleanNormed = Random(T * Dim, 2, 2);
        var intervenedNormed = cleanNormed.Select((v, i) => v + 0.4f * (float)Math.Sin(i)).ToArray();
        var full = new float[T * Vocab];
        MatMul.Multiply(cleanNormed, T, head, full);
        var clean = full.AsMemory(0, Rows * Vocab);
        IReadOnlyDictionary<string, double?>[] Measure(int threads)
        {
            Parallelism.Set(threads);
            var summary = HeadDivergence.SummariseClean(cleanNormed, T, head, Rows, Targets);
            return
            [
                HeadDivergence.MeasureRows(cleanNormed, summary, intervenedNormed, T, head, Rows, Targets),
                HeadDivergence.MeasureRows(clean, intervenedNormed, T, head, Rows, Targets),
                new Dictionary<string, double?> { ["log_z_sum"] = summary.LogZ.Sum(), ["nll"] = summary.MeanNll() },
            ];
        }
        var one = Measure(1);
        var three = Measure(3);
        Assert.True(one[0][OutcomeMetrics.BrittlenessKl] > 1e-3, "the intervention should move the distribution");
        for (int k = 0; k < one.Length; k++)
            foreach (var (metric, value) in one[k]) Assert.Equal(value, three[k][metric]);   // bit for bit
        // and the whole-array reference agrees
        var intervened = new float[T * Vocab];
        MatMul.Multiply(intervenedNormed, T, head, intervened);
        var want = NextTokenDivergence.MeasureRows(clean.Span, intervened.AsSpan(0, Rows * Vocab), Vocab, Targets);
        foreach (var (metric, value) in want) Assert.Equal(value!.Value, one[0][metric]!.Value, 1e-12);
    }

    /// <summary>
    /// A float32 head whose columns 0 and 1 are zero but for token 7 (column 0) and token 2 (column 1): a row with
    /// 3e38 in dimension 0 overflows at token 7 only, one with it in dimension 1 at token 2 only.
    /// </summary>
    private static (WeightMatrix Head, float[] Normed) Overflowing(int rowAtToken7, int rowAtToken2)
    {
        var w = Random(Vocab * Dim, 3, 0.5);
        for (int v = 0; v < Vocab; v++) w[v * Dim] = w[v * Dim + 1] = 0;
        w[7 * Dim] = 2;
        w[2 * Dim + 1] = 2;
        var normed = Random(T * Dim, 4, 1);
        normed[rowAtToken7 * Dim] = 3e38f;
        normed[rowAtToken2 * Dim + 1] = 3e38f;
        return (WeightMatrix.FromFloats("output", Vocab, Dim, w), normed);
    }

    [Theory]
    [InlineData(5, 60, 1, "at token 7")]
    [InlineData(5, 60, 3, "at token 7")]
    [InlineData(60, 5, 1, "at token 2")]
    [InlineData(60, 5, 3, "at token 2")]
    public void ANonFiniteLogitIsReportedAtTheFirstRow(int rowAtToken7, int rowAtToken2, int threads, string where)
    {
        var (head, bad) = Overflowing(rowAtToken7, rowAtToken2);
        var good = Random(T * Dim, 5, 1);
        Parallelism.Set(threads);
        var clean = Assert.Throws<MspgtException>(() => HeadDivergence.SummariseClean(bad, T, head, Rows, Targets));
        Assert.Contains("clean logit row", clean.Message);
        Assert.Contains(where, clean.Message);
        var summary = HeadDivergence.SummariseClean(good, T, head, Rows, Targets);
        var intervened = Assert.Throws<MspgtException>(() => HeadDivergence.MeasureRows(good, summary, bad, T, head, Rows, Targets));
        Assert.Contains("intervened logit row", intervened.Message);
        Assert.Contains(where, intervened.Message);
    }
}
