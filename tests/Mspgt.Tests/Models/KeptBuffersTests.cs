using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Tests.Models;

/// <summary>
/// What the CPU forward pass keeps from call to call (its activations, the KV cache of a call given none, each
/// layer's attention row statistics, the RoPE tables) and the logits array a caller hands back: a pass after other
/// passes, of other documents and lengths, gives exactly what the same pass gives on a fresh model.
/// </summary>
public class KeptBuffersTests
{
    internal static ModelConfig Config() => new()
    {
        Architecture = Architecture.Llama, Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16,
        Ffn = 128, Vocab = 300, MaxSeq = 128, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    private static int[] Ids(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(300)).ToArray();
    }

    /// <summary>Logits and every layer's attention entropy and distance of one pass, with the analysis' observers.</summary>
    private static (float[] Logits, double[] Statistics) Pass(Transformer tf, int[] ids, float[]? logitsBuffer = null)
    {
        var hooks = new Hooks();
        var stats = AttentionStatistics.Observe(hooks, tf.Config.Layers);
        var logits = tf.Forward(ids, null, hooks, LogitRows.All, logitsBuffer);
        return (logits, stats.Entropy.SelectMany(e => new[] { e.Mean, e.MeanNormalised }).Concat(stats.Distance.Select(d => d.Mean)).ToArray());
    }

    [Fact]
    public void APassAfterOthersIsThePassOnAFreshModel()
    {
        using var m = SyntheticModel.Build(Config(), seed: 5);
        var (a, b, shortDoc) = (Ids(60, 1), Ids(60, 2), Ids(9, 3));
        var fresh = Pass(new Transformer(m.Config, m.Weights), b);
        var tf = new Transformer(m.Config, m.Weights);
        Pass(tf, a);
        Pass(tf, shortDoc);
        // A cache of its own in between: the pass without one must not see its positions.
        var cache = tf.NewCache(100);
        tf.Forward(a, cache);
        tf.Forward(shortDoc, cache);
        Pass(tf, a);
        var again = Pass(tf, b);
        Assert.Equal(fresh.Logits, again.Logits);
        Assert.Equal(fresh.Statistics, again.Statistics);
        Assert.All(fresh.Statistics, v => Assert.True(double.IsFinite(v) && v > 0));
    }

    [Fact]
    public void AHandedBackLogitsArrayIsWrittenOverWhenItFits()
    {
        using var m = SyntheticModel.Build(Config(), seed: 5);
        var tf = new Transformer(m.Config, m.Weights);
        var (a, b) = (Ids(40, 1), Ids(40, 2));
        var want = tf.Forward(b);
        var buffer = tf.Forward(a);
        var got = tf.Forward(b, null, null, LogitRows.All, buffer);
        Assert.Same(buffer, got);
        Assert.Equal(want, got);
        // Not the logits' length (the last row only): a new array, the handed-back one untouched.
        var before = (float[])buffer.Clone();
        var last = tf.Forward(b, null, null, LogitRows.Last, buffer);
        Assert.NotSame(buffer, last);
        Assert.Equal(tf.Forward(b, null, null, LogitRows.Last), last);
        Assert.Equal(before, buffer);
    }
}
