namespace Mspgt.Numerics;

/// <summary>
/// The one process-wide thread count every parallel loop reads (set by the CLI's -t/--threads; default all cores).
/// Loops partition work into fixed chunks whose boundaries do not depend on the count, so results are bit-identical
/// whatever it is; only how many chunks run at once changes.
/// </summary>
public static class Parallelism
{
    private static int _threads = Environment.ProcessorCount;
    private static ParallelOptions _options = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>Worker threads in use (at least 1).</summary>
    public static int Threads => _threads;

    /// <summary>Options for Parallel.For that cap it at <see cref="Threads"/>.</summary>
    public static ParallelOptions Options => _options;

    /// <summary>Sets the thread count; 0 or null means all cores.</summary>
    public static void Set(int? threads)
    {
        if (threads is < 0) throw MspgtException.ForSetting("threads", $"{threads} is negative; give a positive count or 0 for all cores");
        _ = UseWorkers;   // a bad MSPGT_CPU_WORKERS fails here, before any work
        int n = threads is null or 0 ? Environment.ProcessorCount : threads.Value;
        _threads = n;
        _options = new ParallelOptions { MaxDegreeOfParallelism = n };
    }

    /// <summary>Options capped at <paramref name="threads"/> if given (&gt; 0), else the process-wide ones.</summary>
    public static ParallelOptions OptionsFor(int threads) =>
        threads > 0 ? new ParallelOptions { MaxDegreeOfParallelism = threads } : _options;

    /// <summary>
    /// Runs body(start, end) over [0, count) in fixed chunks of <paramref name="chunk"/> (the last may be shorter),
    /// in parallel when <paramref name="work"/> (the loop's total cost, in whatever unit the caller's threshold of
    /// 65,536 suits: elements touched) makes it worth it. The chunks never depend on the thread count.
    /// </summary>
    public static void ForChunks(int count, int chunk, long work, Action<int, int> body)
    {
        int chunks = Chunks(count, chunk, work);
        if (chunks <= 1) { if (count > 0) body(0, count); return; }
        For(chunks, i => body(i * chunk, Math.Min(count, (i + 1) * chunk)));
    }

    /// <summary>
    /// body(0 .. count-1) in parallel on <see cref="Threads"/> threads: on <see cref="ForkJoin"/>'s workers when the
    /// caller is a thread of its own (the CLI's, a test's) and no other loop holds them, else through Parallel.For
    /// (a loop inside a thread-pool task, as the signals' per-block windows run theirs, stays there and does not add
    /// threads to the pool's). Either way a failed item surfaces as an AggregateException.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (_recorder is { } recorder) { recorder.Run(count, body); return; }
        if (UseWorkers && !Thread.CurrentThread.IsThreadPoolThread && ForkJoin.TryRun(count, _threads, body)) return;
        Parallel.For(0, count, _options, body);
    }

    /// <summary>While set, the loops this thread starts run serially on it, each item timed (<see cref="LoopRecorder"/>).
    /// Per thread, so that nothing else running in the process is affected.</summary>
    internal static LoopRecorder? Recorder { get => _recorder; set => _recorder = value; }
    [ThreadStatic] private static LoopRecorder? _recorder;

    /// <summary>Environment variable that turns the fork-join workers off ("0": every loop through Parallel.For), to
    /// compare both on one machine.</summary>
    public const string WorkersVariable = "MSPGT_CPU_WORKERS";

    /// <summary>Whether loops may run on <see cref="ForkJoin"/>'s workers (tests switch it to compare). Read from
    /// <see cref="WorkersVariable"/> on first use, not in a static initializer, so that a bad value is bad input (one
    /// line, exit 2) rather than a type that failed to initialise; <see cref="Set"/> reads it before any work.</summary>
    internal static bool UseWorkers
    {
        get => _useWorkers ??= EnvironmentSwitch.IsOn(WorkersVariable);
        set => _useWorkers = value;
    }
    private static bool? _useWorkers;

    /// <summary>Independent work items <see cref="ForChunks"/> makes of the loop (1 when it runs it serially).</summary>
    public static int Chunks(int count, int chunk, long work) =>
        count <= 0 ? 0 : work < MinParallelWork ? 1 : (count + chunk - 1) / chunk;

    /// <summary>Below this much work (elements touched) a loop runs on the calling thread.</summary>
    public const long MinParallelWork = 65_536;
}
