using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The ideal-machine schedule behind bench's schedule-bound: list scheduling in index order has closed forms, and a
/// recorded forward pass holds one loop per parallel stage, each with the items <see cref="Transformer.WorkItems"/>
/// says, a loop inside an item folded into it, on the recording thread only.
/// </summary>
[Collection(ParallelismCollection.Name)]
public class LoopRecorderTests
{
    [Theory]
    [InlineData(72, 16, 5)]   // 4.5 items a thread: the tail is a fifth round
    [InlineData(96, 16, 6)]
    [InlineData(3, 16, 1)]
    [InlineData(7, 1, 7)]
    public void EqualItemsTakeWholeRounds(int items, int threads, int rounds) =>
        Assert.Equal(rounds * 0.25, LoopRecorder.Makespan(Enumerable.Repeat(0.25, items).ToArray(), threads));

    [Fact]
    public void ItemsGoInIndexOrderToTheFirstFreeThread()
    {
        // A long item first is hidden behind the short ones; last, it is a tail.
        Assert.Equal(3, LoopRecorder.Makespan([3, 1, 1, 1], 2));
        Assert.Equal(4, LoopRecorder.Makespan([1, 1, 1, 3], 2));
        Assert.Equal(0, LoopRecorder.Makespan([], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => LoopRecorder.Makespan([1], 0));
    }

    [Fact]
    public void AForwardPassIsRecordedStageByStage()
    {
        var c = new ModelConfig
        {
            Architecture = Architecture.Llama, Dim = 256, Layers = 2, Heads = 8, KvHeads = 4, HeadDim = 32,
            Ffn = 512, Vocab = 700, MaxSeq = 256, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
        };
        using var m = SyntheticModel.Build(c, seed: 3);
        var tf = new Transformer(c, m.Weights);
        var ids = Enumerable.Range(0, 200).Select(i => i * 7 % c.Vocab).ToArray();
        try
        {
            Parallelism.Set(16);
            var want = tf.Forward(ids);
            float[]? got = null;
            var (seconds, recorder) = LoopRecorder.Record(() => got = tf.Forward(ids));
            Assert.Null(Parallelism.Recorder);
            Assert.Equal(want, got);   // recorded serially, the same pass
            var sizes = recorder.Loops.Select(l => l.Length).ToList();
            foreach (var (stage, items) in Transformer.WorkItems(c, ids.Length, 16))
                if (items > 1) Assert.True(sizes.Contains(items), $"{stage}: no recorded loop of {items} items ({string.Join(",", sizes)})");
            Assert.All(recorder.Loops, l => Assert.All(l, s => Assert.True(s >= 0)));
            Assert.True(recorder.LoopSeconds <= seconds);
            var (serial, loops, speedUp) = recorder.Bound(seconds, 1);
            // Serial part + items, on one ideal thread, is the recorded pass less the timing between items.
            Assert.InRange(serial + loops, 0, seconds + 1e-9);
            Assert.Equal(recorder.Loops.Sum(l => l.Sum()), loops, 9);
            Assert.True(recorder.Bound(seconds, 16).Loops <= loops);
            Assert.True(speedUp > 0);
        }
        finally { Parallelism.Set(null); }
    }

    [Fact]
    public void ALoopInsideAnItemIsPartOfItAndOtherThreadsAreNotRecorded()
    {
        int inner = 0, elsewhere = 0;
        var (_, recorder) = LoopRecorder.Record(() =>
        {
            Parallelism.For(3, _ => Parallelism.For(4, _ => Interlocked.Increment(ref inner)));
            // Another thread's loop runs as usual, unrecorded.
            var other = new Thread(() => Parallelism.For(5, _ => Interlocked.Increment(ref elsewhere)));
            other.Start();
            other.Join();
        });
        Assert.Equal(12, inner);
        Assert.Equal(5, elsewhere);
        Assert.Single(recorder.Loops);
        Assert.Equal(3, recorder.Loops[0].Length);
    }
}
