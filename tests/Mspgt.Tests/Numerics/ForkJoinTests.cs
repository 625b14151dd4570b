using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The fork-join workers behind <see cref="Parallelism.For"/>: every item runs exactly once whatever the thread and
/// item counts, a failed item surfaces as Parallel.For's would, a loop inside a loop or on a second thread falls back
/// to the thread pool without waiting for the first, many short loops in a row never lose a wake-up (a hang fails by
/// timeout), and a forward pass is bit-identical with the workers and without them.
/// </summary>
[Collection(ParallelismCollection.Name)]
public class ForkJoinTests
{
    /// <summary>Runs <paramref name="body"/> on a thread of its own (the workers serve such threads, not the thread
    /// pool's) and fails, rather than hangs, if it has not finished within <paramref name="seconds"/>.</summary>
    static void OnOwnThread(Action body, int seconds = 120)
    {
        Exception? error = null;
        var t = new Thread(() => { try { body(); } catch (Exception e) { error = e; } }) { IsBackground = true };
        t.Start();
        Assert.True(t.Join(TimeSpan.FromSeconds(seconds)), $"not finished within {seconds} s (a lost wake-up?)");
        if (error != null) throw new Xunit.Sdk.XunitException($"failed on its own thread: {error}");
    }

    static void WithThreads(int threads, Action body)
    {
        int before = Parallelism.Threads;
        try { Parallelism.Set(threads); body(); }
        finally { Parallelism.Set(before); }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void EveryItemRunsOnceOnTheWorkers(int threads) => OnOwnThread(() => WithThreads(threads, () =>
    {
        foreach (int count in new[] { 2, 3, 7, 16, 100, 1000 })
        {
            var runs = new int[count];
            long loops = ForkJoin.Loops;
            Parallelism.For(count, i => Interlocked.Increment(ref runs[i]));
            Assert.All(runs, r => Assert.Equal(1, r));
            Assert.Equal(loops + 1, ForkJoin.Loops);
        }
    }));

    [Fact]
    public void AFailedItemSurfacesAsParallelForsWouldAndTheWorkersGoOn() => OnOwnThread(() => WithThreads(3, () =>
    {
        var e = Assert.Throws<AggregateException>(() => Parallelism.For(50, i => { if (i == 17) throw new InvalidOperationException("item 17"); }));
        Assert.Equal("item 17", Assert.IsType<InvalidOperationException>(Assert.Single(e.InnerExceptions)).Message);
        var runs = new int[50];
        Parallelism.For(50, i => Interlocked.Increment(ref runs[i]));
        Assert.All(runs, r => Assert.Equal(1, r));
    }));

    [Fact]
    public void LoopsInsideLoopsAndOnOtherThreadsFallBackToTheThreadPool() => OnOwnThread(() => WithThreads(4, () =>
    {
        var runs = new int[20, 30];
        Parallelism.For(20, i => Parallelism.For(30, j => Interlocked.Increment(ref runs[i, j])));
        Assert.All(runs.Cast<int>(), r => Assert.Equal(1, r));

        // Two threads of their own loop at once: whichever does not get the workers uses the thread pool.
        var counts = new long[2];
        var both = Enumerable.Range(0, 2).Select(k => new Thread(() =>
        {
            for (int r = 0; r < 2000; r++) Parallelism.For(8, _ => Interlocked.Increment(ref counts[k]));
        })).ToArray();
        foreach (var t in both) t.Start();
        foreach (var t in both) Assert.True(t.Join(TimeSpan.FromSeconds(60)));
        Assert.Equal([2000L * 8, 2000L * 8], counts);
    }));

    /// <summary>Workers asleep (after a pause longer than their spin) are woken for the next loop: its items, each
    /// long enough that the caller alone could not take them all first, run on more than one thread.</summary>
    [Fact]
    public void SleepingWorkersAreWokenForTheNextLoop() => OnOwnThread(() => WithThreads(3, () =>
    {
        for (int round = 0; round < 3; round++)
        {
            Thread.Sleep(20);
            var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
            Parallelism.For(12, _ => { threads[Environment.CurrentManagedThreadId] = true; Thread.Sleep(15); });
            // (The workers never outnumber the cores: on one core the caller runs every item.)
            Assert.True(threads.Count >= Math.Min(2, Environment.ProcessorCount), $"round {round}: every item ran on the calling thread");
        }
    }));

    [Fact]
    public void ManyShortLoopsInARowWithPausesLoseNoWakeUp() => OnOwnThread(() =>
    {
        long total = 0;
        var rng = new Random(3);
        foreach (int threads in new[] { 2, 5, 2 })
            WithThreads(threads, () =>
            {
                for (int r = 0; r < 3000; r++)
                {
                    Parallelism.For(1 + rng.Next(12), _ => Interlocked.Increment(ref total));
                    // Now and then a pause longer than the workers' spin, so that they fall asleep and must be woken.
                    if (r % 100 == 0) Thread.Sleep(1);
                }
            });
        Assert.True(total > 3 * 3000);
    });

    [Fact]
    public void AForwardPassIsBitIdenticalWithAndWithoutTheWorkers() => OnOwnThread(() =>
    {
        var c = new ModelConfig
        {
            Architecture = Architecture.Llama, Dim = 256, Layers = 2, Heads = 8, KvHeads = 4, HeadDim = 32,
            Ffn = 512, Vocab = 700, MaxSeq = 256, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
        };
        using var m = SyntheticModel.Build(c, seed: 5);
        var tf = new Transformer(m.Config, m.Weights);
        var rng = new Random(9);
        var ids = Enumerable.Range(0, 130).Select(_ => rng.Next(c.Vocab)).ToArray();
        var reference = WithWorkers(false, () => WithThreadsResult(1, () => tf.Forward(ids)));
        foreach (int threads in new[] { 2, 3 })
        {
            long loops = ForkJoin.Loops;
            var pooled = WithWorkers(true, () => WithThreadsResult(threads, () => tf.Forward(ids)));
            Assert.True(ForkJoin.Loops > loops, "the pass ran no loop on the workers");
            Assert.Equal(reference, pooled);
            Assert.Equal(reference, WithWorkers(false, () => WithThreadsResult(threads, () => tf.Forward(ids))));
        }
    });

    static T WithThreadsResult<T>(int threads, Func<T> body)
    {
        T result = default!;
        WithThreads(threads, () => result = body());
        return result;
    }

    static T WithWorkers<T>(bool on, Func<T> body)
    {
        bool before = Parallelism.UseWorkers;
        try { Parallelism.UseWorkers = on; return body(); }
        finally { Parallelism.UseWorkers = before; }
    }
}
