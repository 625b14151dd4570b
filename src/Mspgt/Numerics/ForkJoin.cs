using System.Diagnostics;

namespace Mspgt.Numerics;

/// <summary>
/// Fork-join for the forward pass's many short parallel loops (a 256-token prefill of the 110M shape runs about 180:
/// its GEMMs' tiles, attention blocks, row-wise steps), with workers that stay awake for a moment between loops.
/// The thread pool's Parallel.For wakes sleeping workers for each loop and hands out ranges through its
/// partitioner: at 2 threads here an empty loop costs 3.7 µs against 0.6 µs on these workers, and a loop of 20 µs of
/// work 24.6 against 19.8 µs (LoopOverheadBenchmarks), while a loop at 16 threads may last well under a millisecond.
/// Here the calling thread publishes the loop, workers that are polling take it at once (those asleep are woken one by
/// one, only as many as the loop uses), and every thread takes items one at a time from a shared counter until none
/// is left; the caller returns when every item has run. Items are the callers'
/// fixed chunks, so which thread runs one never changes a result.
/// One loop at a time: a loop started while another runs (from a worker's item, or from another thread) is not run
/// here, and the caller uses the thread pool instead (<see cref="Parallelism.For"/>). Workers spin for
/// <see cref="SpinMicroseconds"/> after their last item, then sleep until woken; they are background threads.
/// </summary>
internal static class ForkJoin
{
    /// <summary>How long an idle worker keeps polling for the next loop before it sleeps: longer than the serial
    /// steps between a pass's loops, short enough that a finished pass leaves no thread busy for long.</summary>
    public const int SpinMicroseconds = 200;

    sealed class Job(Action<int> body, int count, int workers)
    {
        public readonly Action<int> Body = body;
        public readonly int Count = count, Workers = workers;
        public int Next = -1, Done;
        public Exception? Error;
    }

    sealed class Worker
    {
        public readonly SemaphoreSlim Wake = new(0);
        public int Sleeping;
    }

    static readonly object Growing = new();
    static Worker[] _workers = [];
    static Job? _job;
    static long _generation;
    static int _busy;
    [ThreadStatic] static bool _isWorker;

    /// <summary>Loops run here so far (tests check that the pool, not the thread pool, ran them).</summary>
    internal static long Loops;

    /// <summary>
    /// Runs body(0 .. count-1) on the calling thread and up to threads − 1 workers (no more threads than cores) and
    /// returns true; or returns false at once,
    /// having run nothing, when another loop holds the workers or the caller is one of them. An item that throws stops
    /// the items not yet started; the first exception is rethrown in an AggregateException, as Parallel.For does.
    /// </summary>
    public static bool TryRun(int count, int threads, Action<int> body)
    {
        if (_isWorker || threads < 2 || count < 2) return false;
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        Job job;
        try
        {
            // No more threads than cores, whatever -t asks: polling workers on a core another thread needs slow it
            // (16 threads on this 2-core machine: a prefill 28% slower than the thread pool's); results never depend
            // on how many threads run, only on the fixed items.
            int helpers = Math.Min(Math.Min(threads, count), Environment.ProcessorCount) - 1;
            var workers = Workers(helpers);
            job = new Job(body, count, helpers);
            Volatile.Write(ref _job, job);
            Interlocked.Increment(ref _generation);
            for (int k = 0; k < helpers; k++)
                if (Interlocked.Exchange(ref workers[k].Sleeping, 0) == 1) workers[k].Wake.Release();
            Work(job);
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Done) < count) spin.SpinOnce(sleep1Threshold: -1);
            Interlocked.Increment(ref Loops);
        }
        finally
        {
            Volatile.Write(ref _job, null);   // the body's captures are not kept alive until the next loop
            Volatile.Write(ref _busy, 0);
        }
        if (job.Error != null) throw new AggregateException(job.Error);
        return true;
    }

    /// <summary>Takes items until none is left; each one run (or skipped after a failure) counts as done.</summary>
    static void Work(Job job)
    {
        int i;
        while ((i = Interlocked.Increment(ref job.Next)) < job.Count)
        {
            if (Volatile.Read(ref job.Error) == null)
                try { job.Body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
            Interlocked.Increment(ref job.Done);
        }
    }

    /// <summary>The first <paramref name="n"/> workers, started on first need.</summary>
    static Worker[] Workers(int n)
    {
        var workers = _workers;
        if (workers.Length >= n) return workers;
        lock (Growing)
        {
            workers = _workers;
            if (workers.Length >= n) return workers;
            var grown = new Worker[n];
            workers.CopyTo(grown, 0);
            // The loop about to be published is the first a new worker looks for, however late its thread starts.
            long before = Volatile.Read(ref _generation);
            for (int k = workers.Length; k < n; k++)
            {
                var w = grown[k] = new Worker();
                int id = k;
                new Thread(() => Loop(id, w, before)) { IsBackground = true, Name = $"mspgt worker {id + 1}" }.Start();
            }
            return _workers = grown;
        }
    }

    static void Loop(int id, Worker w, long seen)
    {
        _isWorker = true;
        long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        bool needed = true;
        while (true)
        {
            long g;
            // Poll for the next loop for a while after taking part in one; a worker the last loop did not need sleeps at once.
            long deadline = needed ? Stopwatch.GetTimestamp() + spinTicks : 0;
            while ((g = Volatile.Read(ref _generation)) == seen && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(16);
            if (g == seen)
            {
                // Asleep only after saying so: a loop published after the flag is set wakes this worker, and one published
                // before it is seen by the check that follows.
                Interlocked.Exchange(ref w.Sleeping, 1);
                g = Volatile.Read(ref _generation);
                if (g == seen)
                {
                    w.Wake.Wait();
                    g = Volatile.Read(ref _generation);
                }
                else if (Interlocked.Exchange(ref w.Sleeping, 0) == 0)
                    w.Wake.Wait();   // the caller cleared the flag and released the semaphore: take that release
            }
            seen = g;
            var job = Volatile.Read(ref _job);
            needed = job != null && id < job.Workers;
            if (needed) Work(job!);
        }
    }
}
