using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// <see cref="Parallelism.For"/> on its <see cref="WorkerTeam"/>: every item runs exactly once at any thread count
/// (more threads than items or cores included), regions follow one another without a lost wake-up (after the
/// workers have gone to sleep too), a failing item surfaces as Parallel.For's AggregateException around it, and a
/// nested or concurrent call (which finds the team busy and takes the thread pool) completes with every item run.
/// </summary>
[Collection(ParallelismCollection.Name)]
public class WorkerTeamTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void EveryItemRunsExactlyOnceRegionAfterRegion(int threads)
    {
        try
        {
            Parallelism.Set(threads);
            foreach (int count in new[] { 0, 1, 2, 5, 100, 1000 })
                for (int region = 0; region < 50; region++)
                {
                    var runs = new int[count];
                    Parallelism.For(count, i => Interlocked.Increment(ref runs[i]));
                    Assert.All(runs, r => Assert.Equal(1, r));
                }
            // Past the workers' polling time, so they block and must be woken.
            for (int region = 0; region < 3; region++)
            {
                Thread.Sleep(WorkerTeam.SpinTime * 5);
                var runs = new int[64];
                Parallelism.For(64, i => Interlocked.Increment(ref runs[i]));
                Assert.All(runs, r => Assert.Equal(1, r));
            }
        }
        finally { Parallelism.Set(null); }
    }

    [Fact]
    public void AFailingItemIsRethrownInsideAnAggregateException()
    {
        try
        {
            Parallelism.Set(2);
            var boom = new InvalidOperationException("item 17");
            var e = Assert.Throws<AggregateException>(() => Parallelism.For(100, i => { if (i == 17) throw boom; }));
            Assert.Same(boom, Assert.Single(e.InnerExceptions));
            // The team is usable afterwards.
            var runs = new int[40];
            Parallelism.For(40, i => Interlocked.Increment(ref runs[i]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
        finally { Parallelism.Set(null); }
    }

    [Fact]
    public void NestedAndConcurrentCallsComplete()
    {
        try
        {
            Parallelism.Set(3);
            var inner = new int[8, 16];
            Parallelism.For(8, i => Parallelism.For(16, j => Interlocked.Increment(ref inner[i, j])));
            Assert.All(inner.Cast<int>(), r => Assert.Equal(1, r));
            var runs = new int[4, 200];
            var callers = Enumerable.Range(0, 4).Select(c => new Thread(() =>
            {
                for (int region = 0; region < 20; region++) Parallelism.For(10, i => Interlocked.Increment(ref runs[c, region * 10 + i]));
            })).ToList();
            callers.ForEach(t => t.Start());
            callers.ForEach(t => t.Join());
            Assert.All(runs.Cast<int>(), r => Assert.Equal(1, r));
        }
        finally { Parallelism.Set(null); }
    }
}
