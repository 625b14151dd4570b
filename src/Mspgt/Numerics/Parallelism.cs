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
        int n = threads is null or 0 ? Environment.ProcessorCount : threads.Value;
        _threads = n;
        _options = new ParallelOptions { MaxDegreeOfParallelism = n };
    }

    /// <summary>Options capped at <paramref name="threads"/> if given (&gt; 0), else the process-wide ones.</summary>
    public static ParallelOptions OptionsFor(int threads) =>
        threads > 0 ? new ParallelOptions { MaxDegreeOfParallelism = threads } : _options;
}
