using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// -t/--threads changes only how many fixed chunks run at once: logits and every per-document signal value are
/// bit-identical with 1, 2 and 5 threads (5: more than this machine's cores and not a divisor of the chunk counts).
/// The shape is large enough that GEMM, attention and the lens take their parallel paths.
/// </summary>
[Collection(ParallelismCollection.Name)]
public class ThreadCountTests
{
    private static ModelConfig Config() => new()
    {
        Architecture = Architecture.Llama, Dim = 256, Layers = 3, Heads = 8, KvHeads = 4, HeadDim = 32,
        Ffn = 512, Vocab = 700, MaxSeq = 640, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    private static int[] Ids(int n, int vocab)
    {
        var rng = new Random(7);
        return Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
    }

    [Theory]
    [InlineData(150)]
    [InlineData(600)]   // MLP blocks (Transformer.MlpTokens) and two-block windows of the signals (DocumentSignals.WindowBlocks)
    public void LogitsAndSignalsAreBitIdenticalWhateverTheThreadCount(int tokens)
    {
        using var m = SyntheticModel.Build(Config(), seed: 11);
        var ids = Ids(tokens, m.Config.Vocab);
        var logits = new List<float[]>();
        var signals = new List<double[,]>();
        try
        {
            foreach (int threads in new[] { 1, 2, 5 })
            {
                Parallelism.Set(threads);
                Assert.Equal(threads, Parallelism.Threads);
                var tf = new Transformer(m.Config, m.Weights);
                logits.Add(tf.Forward(ids).ToArray());
                signals.Add(new DocumentSignals(tf, new SignalSettings { Seed = 3 }).Measure(ids).Values);
            }
        }
        finally { Parallelism.Set(null); }
        for (int k = 1; k < logits.Count; k++)
        {
            Assert.Equal(logits[0], logits[k]);
            Assert.Equal(signals[0].Length, signals[k].Length);
            foreach (var (a, b) in signals[0].Cast<double>().Zip(signals[k].Cast<double>()))
                Assert.Equal(BitConverter.DoubleToInt64Bits(a), BitConverter.DoubleToInt64Bits(b));
        }
        Assert.Contains(signals[0].Cast<double>(), v => !double.IsNaN(v) && v != 0);
    }

    /// <summary>
    /// The attention kernel cuts a call into heads × query blocks: with a KV cache (Start &gt; 0), a sliding window
    /// and grouped heads, the fused forward and the hooked scores → softmax → mix path give bit-identical outputs
    /// with 1, 3 and 7 threads, and the fused forward equals the hooked path's mix of its own probabilities.
    /// </summary>
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(40)]
    public void AttentionIsBitIdenticalWhateverTheThreadCount(int window)
    {
        var s = new AttentionShape(Tokens: 131, Start: 29, Heads: 6, KvHeads: 2, HeadDim: 40, Window: window);
        Assert.True(Attention.WorkItems(s, threads: 7) > s.Heads, "the shape must be cut into more items than heads");
        var rng = new Random(5);
        float[] R(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var (q, k, v) = (R(s.QueryLength), R(s.KeyLength), R(s.KeyLength));
        var fused = new List<float[]>();
        var mixed = new List<float[]>();
        var patterns = new List<float[]>();
        try
        {
            foreach (int threads in new[] { 1, 3, 7 })
            {
                Parallelism.Set(threads);
                var a = new Attention();
                var z = new float[s.QueryLength];
                a.Forward(q, k, v, s, z);
                fused.Add(z);
                var p = new float[s.PatternLength];
                a.Probabilities(q, k, s, p);
                patterns.Add(p.ToArray());
                var z2 = new float[s.QueryLength];
                a.Mix(p, v, s, z2);
                mixed.Add(z2);
            }
        }
        finally { Parallelism.Set(null); }
        for (int i = 1; i < fused.Count; i++)
        {
            Assert.Equal(fused[0], fused[i]);
            Assert.Equal(patterns[0], patterns[i]);
            Assert.Equal(mixed[0], mixed[i]);
        }
        Assert.Equal(fused[0], mixed[0]);
    }

    /// <summary>
    /// Issue 13's structural condition for 16 threads: a 256-token prefill of the 110M shape is cut into at least
    /// 2 × 16 independent work items at every stage (GEMMs, attention, norms, RoPE, SwiGLU, residual adds), so no
    /// stage runs on fewer cores than are there. Not a timing; what the loops would hand to 16 threads.
    /// </summary>
    [Fact]
    public void A256TokenPrefillOfThe110MShapeGivesEveryStageWorkFor16Threads()
    {
        var items = Transformer.WorkItems(SyntheticModel.Preset("110m"), 256, threads: 16);
        Assert.Contains(items, i => i.Stage == "attention.0");
        Assert.Contains(items, i => i.Stage == "swiglu");
        foreach (var (stage, n) in items) Assert.True(n >= 2 * 16, $"{stage}: {n} work items at 16 threads");
        // A few tokens' row-wise steps and attention stay on the calling thread.
        var small = Transformer.WorkItems(SyntheticModel.Preset("110m"), 4, threads: 16);
        Assert.Equal(1, small.Single(i => i.Stage == "rms_norm").Items);
        Assert.Equal(1, small.Single(i => i.Stage == "attention.0").Items);
    }

    /// <summary>
    /// A token block decodes and packs its tiles' weights again, so tokens are split only when needed: at 16 threads
    /// a 768-wide projection alone needs them split, but q, k and v in one call have tiles enough together, and
    /// each weight is packed once; a call whose tiles are too few even together splits every weight alike.
    /// </summary>
    [Fact]
    public void WeightsInOneCallSplitTokensOnlyWhenTheirTilesTogetherAreTooFew()
    {
        Assert.True(MatMul.GemmPartition(256, 768, threads: 16).TokenBlocks > 1);
        var qkv = MatMul.GemmPartitions(256, [768, 768, 768], threads: 16);
        Assert.All(qkv, p => Assert.Equal((256, 1), (p.TokenBlock, p.TokenBlocks)));
        Assert.True(qkv.Sum(p => p.ColumnTiles) >= 4 * 16);
        var few = MatMul.GemmPartitions(256, [64, 0, 96], threads: 16);
        Assert.True(few[0].TokenBlocks > 1);
        Assert.Equal((few[0].TokenBlock, few[0].TokenBlocks), (few[2].TokenBlock, few[2].TokenBlocks));
        Assert.Equal((0, 0, 0, 0), few[1]);
    }

    [Fact]
    public void ANegativeCountIsBadInput() =>
        Assert.Throws<MspgtException>(() => Parallelism.Set(-1));
}

/// <summary>Tests that change the process-wide thread count run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ParallelismCollection { public const string Name = "parallelism"; }
