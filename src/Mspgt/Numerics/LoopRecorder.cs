using System.Diagnostics;

namespace Mspgt.Numerics;

/// <summary>
/// What a piece of work would take on an ideal machine of N cores, measured on any machine: while this recorder is
/// <see cref="Parallelism.Recorder"/>, every loop the thread starts runs its items one after another on that thread,
/// each timed, and the time outside loops is the serial part. <see cref="Bound"/> then hands each loop's items, in
/// index order, to whichever of N threads is free first (as <see cref="ForkJoin"/>'s shared counter does) and adds the
/// serial part: total ÷ that is the speed-up N cores could give the work as it is cut, with no cost of their own
/// (no memory contention, no wake-ups, no frequency change). A real machine gives less; a cut whose bound is low
/// cannot do better anywhere. Only for a machine with fewer cores than the count it is asked about.
/// </summary>
internal sealed class LoopRecorder
{
    private readonly List<double[]> _loops = [];
    private long _inLoops;
    private int _depth;

    /// <summary>Item seconds of every loop recorded so far, in the order they ran.</summary>
    public IReadOnlyList<double[]> Loops => _loops;

    /// <summary>Seconds spent inside recorded loops.</summary>
    public double LoopSeconds => Stopwatch.GetElapsedTime(0, _inLoops).TotalSeconds;

    internal void Run(int count, Action<int> body)
    {
        // A loop inside an item is part of that item, as it would be on any machine.
        if (_depth > 0) { for (int i = 0; i < count; i++) body(i); return; }
        _depth++;
        try
        {
            var seconds = new double[count];
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                long t = Stopwatch.GetTimestamp();
                body(i);
                seconds[i] = Stopwatch.GetElapsedTime(t).TotalSeconds;
            }
            _inLoops += Stopwatch.GetTimestamp() - start;
            _loops.Add(seconds);
        }
        finally { _depth--; }
    }

    /// <summary>Runs <paramref name="work"/> with this thread's loops recorded; returns its wall seconds.</summary>
    public static (double Seconds, LoopRecorder Recorder) Record(Action work)
    {
        var recorder = new LoopRecorder();
        var before = Parallelism.Recorder;
        Parallelism.Recorder = recorder;
        long t0 = Stopwatch.GetTimestamp();
        try { work(); }
        finally { Parallelism.Recorder = before; }
        return (Stopwatch.GetElapsedTime(t0).TotalSeconds, recorder);
    }

    /// <summary>
    /// The recorded work on <paramref name="threads"/> ideal threads: (serial seconds, the loops' makespans summed,
    /// the speed-up over the recorded run, whose total was <paramref name="totalSeconds"/>).
    /// </summary>
    public (double Serial, double Loops, double SpeedUp) Bound(double totalSeconds, int threads)
    {
        double serial = Math.Max(0, totalSeconds - LoopSeconds), loops = 0;
        foreach (var items in _loops) loops += Makespan(items, threads);
        return (serial, loops, totalSeconds / (serial + loops));
    }

    /// <summary>
    /// Seconds until the last of <paramref name="threads"/> threads finishes when each item, in index order, goes to
    /// the thread that is free first (ties: the lowest thread): list scheduling, what a shared counter does.
    /// </summary>
    public static double Makespan(ReadOnlySpan<double> items, int threads)
    {
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), "at least one thread");
        Span<double> free = threads <= 256 ? stackalloc double[threads] : new double[threads];
        free.Clear();
        foreach (double d in items)
        {
            int first = 0;
            for (int k = 1; k < threads; k++) if (free[k] < free[first]) first = k;
            free[first] += d;
        }
        double end = 0;
        foreach (double f in free) end = Math.Max(end, f);
        return end;
    }
}
