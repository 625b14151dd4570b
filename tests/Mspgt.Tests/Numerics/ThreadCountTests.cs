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
        Ffn = 512, Vocab = 700, MaxSeq = 256, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    private static int[] Ids(int n, int vocab)
    {
        var rng = new Random(7);
        return Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
    }

    [Fact]
    public void LogitsAndSignalsAreBitIdenticalWhateverTheThreadCount()
    {
        using var m = SyntheticModel.Build(Config(), seed: 11);
        var ids = Ids(150, m.Config.Vocab);
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

    [Fact]
    public void ANegativeCountIsBadInput() =>
        Assert.Throws<MspgtException>(() => Parallelism.Set(-1));
}

/// <summary>Tests that change the process-wide thread count run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ParallelismCollection { public const string Name = "parallelism"; }
