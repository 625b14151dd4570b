using Mspgt.Checkpoints;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Models;

/// <summary>
/// The attention GEMM paths (scores and mixing on micro-tiles, a pattern buffer or per-block score rows) against
/// the double-precision reference and against the dot-product path used for decoding, on sequences longer than
/// one query block (96) and head sizes that are not a multiple of the tile width.
/// </summary>
public class AttentionKernelTests
{
    private static ModelConfig Config(int dim, int heads, int kvHeads, int? window = null) => new()
    {
        Architecture = Architecture.Llama, Dim = dim, Layers = 2, Heads = heads, KvHeads = kvHeads, HeadDim = dim / heads,
        Ffn = 40, Vocab = 48, MaxSeq = 128, NormEps = 1e-5f, RopeTheta = 10000f, SlidingWindow = window,
        SlidingWindowFromLayer = window == null ? 0 : 1,
    };

    private static int[] Ids(int n, int vocab)
    {
        var rng = new Random(n);
        return Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
    }

    private static void Close(IReadOnlyList<float> want, IReadOnlyList<float> got, string what, double tol) =>
        Golden.Close(want.Select(v => (double)v).ToArray(), got.Select(v => (double)v).ToArray(), what, tol, tol);

    [Theory]
    [InlineData(64, 4, 2, 110)] // head_dim 16, grouped-query, two query blocks
    [InlineData(48, 4, 4, 23)]  // head_dim 12: padded to a tile width
    public void PrefillMatchesDoublePrecisionReference(int dim, int heads, int kvHeads, int tokens)
    {
        var c = Config(dim, heads, kvHeads);
        using var m = SyntheticModel.Build(c, seed: 3, weightType: TensorType.BF16);
        var ids = Ids(tokens, c.Vocab);
        var got = new Transformer(m.Config, m.Weights).Forward(ids);
        var reference = new ReferenceForward(m.Config, m.Weights);
        var want = reference.RunFrom(0, reference.Embed(ids));
        for (int t = 0; t < tokens; t++)
            Golden.Close(want[t], got.Skip(t * c.Vocab).Take(c.Vocab).Select(v => (double)v).ToArray(), $"logits row {t}", 1e-4, 1e-4);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(9)]
    public void PatternPathBlockPathAndDecodePathAgree(int? window)
    {
        var c = Config(64, 4, 2, window);
        using var m = SyntheticModel.Build(c, seed: 4);
        var tf = new Transformer(m.Config, m.Weights);
        var ids = Ids(100, c.Vocab);
        var plain = tf.Forward(ids);

        float[]? pattern = null;
        var withPattern = tf.Forward(ids, null, new Hooks().Observe(HookPoint.AttnPattern(1), t => pattern = t.Data.ToArray()));
        Close(plain, withPattern, "with a pattern hook", 1e-5);

        // The pattern rows are distributions over the visible keys only.
        int keys = ids.Length;
        for (int h = 0; h < c.Heads; h++)
            for (int t = 0; t < keys; t++)
            {
                var row = pattern!.AsSpan((h * keys + t) * keys, keys);
                int lo = window is int w ? Math.Max(0, t - w + 1) : 0;
                for (int j = 0; j < keys; j++)
                    if (j < lo || j > t) Assert.Equal(0f, row[j]);
                Assert.Equal(1.0, row[lo..(t + 1)].ToArray().Sum(v => (double)v), 1e-5);
            }

        // Decoding token by token takes the dot-product path.
        var cache = tf.NewCache(ids.Length);
        tf.Forward(ids.AsSpan(0, 1), cache);
        for (int t = 1; t < ids.Length; t++)
        {
            var step = tf.Forward(ids.AsSpan(t, 1), cache, null, LogitRows.Last);
            Close(plain.AsSpan(t * c.Vocab, c.Vocab).ToArray(), step, $"decode position {t}", 1e-5);
        }
    }

    [Fact]
    public void EditedPatternEntriesAfterTheQueryAreMasked()
    {
        var c = Config(64, 4, 2);
        using var m = SyntheticModel.Build(c, seed: 5);
        var tf = new Transformer(m.Config, m.Weights);
        var ids = Ids(20, c.Vocab);
        var plain = tf.Forward(ids);
        // Writing into the masked (future) part of the pattern must not change anything.
        var edited = tf.Forward(ids, null, new Hooks().Edit(HookPoint.AttnPattern(0), t =>
        {
            int keys = t.Shape[2];
            for (int h = 0; h < t.Shape[0]; h++)
                for (int q = 0; q < t.Shape[1]; q++)
                    for (int j = q + 1; j < keys; j++) t.Data[(h * t.Shape[1] + q) * keys + j] = 7f;
        }));
        Assert.Equal(plain, edited);
    }
}
