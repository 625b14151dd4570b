using System.Diagnostics;

namespace Mspgt.Numerics;

/// <summary>
/// Worker threads for the forward pass's parallel regions (GEMM tiles, attention heads, row-wise steps), in the
/// manner of an OpenMP team: the caller runs items with the workers, and a worker that finds no region keeps polling
/// for the next one for <see cref="SpinTime"/> before it blocks. A prefill is about 180 regions of 20 µs to a few ms,
/// separated by a caller's last item or a hook; thread-pool workers block within microseconds of running out of work
/// and, on the 2-core VM, took 60-80 µs to join a region after ≥ 0.5 ms idle (4 µs when still spinning). Items are
/// claimed one at a time from a shared counter; each item is the same computation whoever runs it, so results do not
/// depend on the team.
/// </summary>
internal sealed class WorkerTeam
{
    /// <summary>How long an idle worker polls for the next region before it blocks.</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMilliseconds(1);

    /// <summary>One parallel region: items [0, count), each claimed by the thread whose increment reaches it.</summary>
    private sealed class Region(int count, Action<int> body)
    {
        private int _next = -1;
        /// <summary>Threads that joined and may still run an item; a thread joins before it claims.</summary>
        public int Running;
        public Exception? Error;

        public void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < count)
            {
                try { body(i); }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                    Interlocked.Exchange(ref _next, count); // no new items once one failed
                }
            }
        }
    }

    private readonly long _spinTicks;
    private readonly object _gate = new();
    private Region? _region;
    private int _generation, _sleeping, _busy;
    private volatile bool _stopped;

    /// <summary>Starts <paramref name="workers"/> background threads; they poll for <see cref="SpinTime"/> after each
    /// region only when <paramref name="spin"/> (not with more threads than cores, where a polling worker would take
    /// the core of a thread with work).</summary>
    public WorkerTeam(int workers, bool spin)
    {
        Workers = workers;
        _spinTicks = spin ? (long)(SpinTime.TotalSeconds * Stopwatch.Frequency) : 0;
        for (int w = 0; w < workers; w++)
            new Thread(Loop) { IsBackground = true, Name = $"mspgt-worker-{w + 1}" }.Start();
    }

    public int Workers { get; }

    /// <summary>
    /// Runs body(i) for every i in [0, count) on the calling thread and the workers and returns when all have run
    /// (the first exception rethrown in an AggregateException, as Parallel.For does). False, with nothing run, when
    /// the team is already running another caller's region (a nested or concurrent call).
    /// </summary>
    public bool TryRun(int count, Action<int> body)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            var region = new Region(count, body);
            Volatile.Write(ref _region, region);
            Interlocked.Increment(ref _generation);
            // A worker counts itself as sleeping before its last look at the generation; both writes are full
            // fences, so either it sees the new generation or this sees it sleeping, and no wake-up is lost.
            if (Volatile.Read(ref _sleeping) > 0) lock (_gate) Monitor.PulseAll(_gate);
            Interlocked.Increment(ref region.Running);
            try { region.Work(); }
            finally { Interlocked.Decrement(ref region.Running); }
            // Every item is claimed; wait for those still running. A worker that joins from now on claims nothing.
            var wait = new SpinWait();
            while (Volatile.Read(ref region.Running) > 0) wait.SpinOnce(sleep1Threshold: -1);
            if (region.Error != null) throw new AggregateException(region.Error);
            return true;
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    /// <summary>Lets the workers end once idle (a team of another size replaces this one).</summary>
    public void Stop()
    {
        _stopped = true;
        lock (_gate) Monitor.PulseAll(_gate);
    }

    private void Loop()
    {
        int seen = Volatile.Read(ref _generation);
        while (!_stopped)
        {
            long deadline = Stopwatch.GetTimestamp() + _spinTicks;
            int now;
            while ((now = Volatile.Read(ref _generation)) == seen && !_stopped)
            {
                if (Stopwatch.GetTimestamp() < deadline) { Thread.SpinWait(8); continue; }
                lock (_gate)
                {
                    Interlocked.Increment(ref _sleeping);
                    while ((now = Volatile.Read(ref _generation)) == seen && !_stopped) Monitor.Wait(_gate);
                    Interlocked.Decrement(ref _sleeping);
                }
            }
            if (_stopped) return;
            seen = now;
            // The newest region; if this worker was slow, a later one than `now`, which it joins (its next look at
            // the generation may send it through that region again, to claim nothing).
            var region = Volatile.Read(ref _region)!;
            Interlocked.Increment(ref region.Running);
            try { region.Work(); }
            finally { Interlocked.Decrement(ref region.Running); }
        }
    }
}
