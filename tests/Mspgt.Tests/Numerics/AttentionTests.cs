using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The tiled attention kernel against <see cref="AttentionReference"/> on random inputs: grouped-query heads,
/// sliding windows, KV-cache offsets (queries after cached positions), head sizes off the tile width, query counts
/// below one tile (the reference rows) and above one score block.
/// </summary>
public class AttentionTests
{
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        // tokens, start, heads, kv heads, head dim, window (0 = none)
        { 110, 0, 4, 2, 16, 0 },  // grouped-query, two score blocks
        { 23, 0, 4, 4, 12, 0 },   // head dim padded to a tile width
        { 37, 50, 6, 2, 20, 9 },  // after 50 cached positions, sliding window
        { 7, 13, 4, 1, 8, 5 },    // one KV head for all, window shorter than a tile
        { 100, 0, 2, 2, 64, 30 }, // window inside the first score block
        { 3, 40, 4, 2, 16, 0 },   // fewer queries than a tile: the reference rows
        { 1, 99, 2, 2, 64, 16 },  // decoding one token
    };

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    private static void Close(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            if (float.IsNegativeInfinity(want[i])) { Assert.True(float.IsNegativeInfinity(got[i]), $"{what}[{i}] = {got[i]}, want −∞"); continue; }
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"{what}[{i}]: {got[i]} vs {want[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FastKernelEqualsTheReference(int tokens, int start, int heads, int kvHeads, int hd, int window)
    {
        var s = new AttentionShape(tokens, start, heads, kvHeads, hd, window == 0 ? int.MaxValue : window);
        int capacity = s.Keys + 5; // a KV cache longer than the keys in use
        var q = Random(tokens * s.QDim, 1);
        var k = Random(capacity * s.KvDim, 2);
        var v = Random(capacity * s.KvDim, 3);
        var attention = new Attention();

        var want = new float[tokens * s.QDim];
        AttentionReference.Forward(q, k, v, s, want);
        var got = new float[want.Length];
        attention.Forward(q, k, v, s, got);
        Close(want, got, "z");

        var wantScores = new float[s.PatternLength];
        AttentionReference.Scores(q, k, s, wantScores);
        var scores = new float[s.PatternLength];
        attention.Scores(q, k, s, scores);
        Close(wantScores, scores, "scores");

        // Probabilities = softmax of the scores; mixing them = the fused forward.
        var wantPattern = (float[])wantScores.Clone();
        AttentionReference.Softmax(wantPattern, s);
        var pattern = new float[s.PatternLength];
        attention.Probabilities(q, k, s, pattern);
        Close(wantPattern, pattern, "pattern");
        Attention.Softmax(scores, s);
        Assert.Equal(pattern, scores);
        var mixed = new float[want.Length];
        attention.Mix(pattern, v, s, mixed);
        Close(want, mixed, "mixed z");
    }

    /// <summary>
    /// The fused forward's row statistics (taken from each block of probabilities in cache) are, bit for bit, those of
    /// the pattern <see cref="Attention.Probabilities"/> writes, and asking for them changes no output.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void FusedRowStatisticsEqualThoseOfThePattern(int tokens, int start, int heads, int kvHeads, int hd, int window)
    {
        var s = new AttentionShape(tokens, start, heads, kvHeads, hd, window == 0 ? int.MaxValue : window);
        var q = Random(tokens * s.QDim, 6);
        var k = Random(s.Keys * s.KvDim, 7);
        var v = Random(s.Keys * s.KvDim, 8);
        var attention = new Attention();
        var pattern = new float[s.PatternLength];
        attention.Probabilities(q, k, s, pattern);
        var (wantEntropy, wantDistance) = (new double[heads * tokens], new double[heads * tokens]);
        AttentionRows.Compute(pattern, heads, tokens, s.Keys, start, wantEntropy, wantDistance);
        var plain = new float[tokens * s.QDim];
        attention.Forward(q, k, v, s, plain);

        var (entropy, distance) = (new double[heads * tokens], new double[heads * tokens]);
        var z = new float[plain.Length];
        attention.Forward(q, k, v, s, z, (entropy, distance));
        Assert.Equal(plain, z);
        Assert.Equal(wantEntropy, entropy);
        Assert.Equal(wantDistance, distance);
        Assert.Contains(entropy, e => e > 0);   // not a zero-filled pair that would equal a zero-filled want
        Assert.Throws<ArgumentException>(() => attention.Forward(q, k, v, s, z, (new double[heads * tokens - 1], distance)));
    }

    /// <summary>An edited pattern: any weights, also before a window; those after a query's position never count.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void MixingAnyPatternEqualsTheReferenceAndIgnoresTheFuture(int tokens, int start, int heads, int kvHeads, int hd, int window)
    {
        var s = new AttentionShape(tokens, start, heads, kvHeads, hd, window == 0 ? int.MaxValue : window);
        var v = Random(s.Keys * s.KvDim, 4);
        var pattern = Random((int)s.PatternLength, 5);
        var want = new float[tokens * s.QDim];
        AttentionReference.Mix(pattern, v, s, want);
        var withFuture = (float[])pattern.Clone();
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < tokens; t++) AttentionReference.Row(withFuture, s, h, t)[(start + t + 1)..].Fill(7f);
        var got = new float[want.Length];
        new Attention().Mix(withFuture, v, s, got);
        Close(want, got, "z");
    }

    [Fact]
    public void TooShortBuffersAreRefused()
    {
        var s = new AttentionShape(8, 4, 2, 1, 4);
        Assert.Throws<ArgumentException>(() => new Attention().Forward(new float[64], new float[11 * 4], new float[12 * 4], s, new float[64]));
        Assert.Throws<ArgumentException>(() => new Attention().Probabilities(new float[64], new float[48], s, new float[s.PatternLength - 1]));
    }
}
