using System.Diagnostics;
using System.Globalization;

namespace Mspgt.Cli;

/// <summary>
/// Progress on stderr, so stdout stays clean for --json and tables. One stage at a time ("analyzing documents",
/// "stories-llama-12L: interventions"), each with its count, elapsed time and an ETA from the rate so far. On a
/// terminal the stage's line is redrawn in place; in a log (stderr redirected) a stage prints when it starts, at most
/// every <see cref="LogInterval"/> after that, and when it ends. <c>--quiet</c> turns it all off.
/// </summary>
public sealed class Progress
{
    /// <summary>Set from <c>--quiet</c> for the whole process.</summary>
    public static bool Quiet { get; set; }

    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// For tests that stop a run at a chosen point: with <c>MSPGT_HOLD_AFTER</c> set, the first progress or log line
    /// that starts with its text makes the process wait right after printing it (until <see cref="HoldCancellation"/>
    /// fires, e.g. on Ctrl-C, or 60 s pass), so a signal sent on reading that line lands there and not after
    /// whatever follows (on a loaded machine a small study could otherwise finish before the signal arrives).
    /// </summary>
    private static string? _holdAfter = Environment.GetEnvironmentVariable("MSPGT_HOLD_AFTER");

    /// <summary>Ends a hold (see <see cref="HoldAfter"/>); commands that handle Ctrl-C set it to their token.</summary>
    public static CancellationToken HoldCancellation { get; set; }

    /// <summary>Called after a line is printed: holds once if it is the line <c>MSPGT_HOLD_AFTER</c> names.</summary>
    public static void HoldAfter(string line)
    {
        if (_holdAfter is not { } prefix || !line.StartsWith(prefix, StringComparison.Ordinal)) return;
        _holdAfter = null;
        HoldCancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(60));
    }

    private readonly TextWriter _out;
    private readonly bool _terminal;
    private readonly Func<TimeSpan> _clock;
    private string? _stage;
    private TimeSpan _stageStart, _lastPrint, _mark;
    private int _lastWidth;

    public Progress(TextWriter output, bool terminal, Func<TimeSpan> clock)
    {
        (_out, _terminal, _clock) = (output, terminal, clock);
        _mark = clock();
    }

    /// <summary>Progress on this process's stderr with the wall clock.</summary>
    public static Progress ForStderr()
    {
        var watch = Stopwatch.StartNew();
        return new Progress(Console.Error, !Console.IsErrorRedirected, () => watch.Elapsed);
    }

    /// <summary>Runs <paramref name="work"/> as one stage, handing it the reporter it calls with (done, total).</summary>
    public static T Run<T>(string label, Func<Action<int, int>, T> work)
    {
        var progress = ForStderr();
        var result = work((done, total) => progress.Report(label, done, total));
        progress.End();
        return result;
    }

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> for <paramref name="stage"/>; a new stage name starts a new line.</summary>
    public void Report(string stage, int done, int total)
    {
        if (Quiet) return;
        var now = _clock();
        if (stage != _stage)
        {
            // The stage began when the last one ended (or when work began): its first unit took time already.
            var start = _mark;
            End();
            (_stage, _stageStart, _lastPrint) = (stage, start, TimeSpan.MinValue);
        }
        _mark = now;
        bool finished = total > 0 && done >= total;
        if (!_terminal && !finished && _lastPrint != TimeSpan.MinValue && now - _lastPrint < LogInterval) return;
        _lastPrint = now;
        string line = Line(stage, done, total, now - _stageStart);
        if (_terminal)
        {
            _out.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
            if (finished) { _out.WriteLine(); (_stage, _lastWidth) = (null, 0); }
        }
        else
        {
            _out.WriteLine(line);
            if (finished) _stage = null;
        }
        _out.Flush();
        if (!_terminal) HoldAfter(line);
    }

    /// <summary>Ends the current stage's line on a terminal (a stage that never reached its total).</summary>
    public void End()
    {
        if (_terminal && _stage != null && _lastWidth > 0) _out.WriteLine();
        (_stage, _lastWidth, _mark) = (null, 0, _clock());
    }

    /// <summary>"stage: 7/62, 0:12 elapsed, ETA 1:35" (no ETA before the first unit is done, "done" at the end).</summary>
    public static string Line(string stage, int done, int total, TimeSpan elapsed)
    {
        string count = total > 0 ? $"{done}/{total}" : $"{done}";
        string eta = total <= 0 || done <= 0 ? ""
            : done >= total ? ", done"
            : $", ETA {Clock(TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(total - done) / done)))}";
        return $"{stage}: {count}, {Clock(elapsed)} elapsed{eta}";
    }

    /// <summary>m:ss, or h:mm:ss from an hour on.</summary>
    public static string Clock(TimeSpan t) => Rounded(t).TotalHours >= 1
        ? Rounded(t).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : $"{(int)Rounded(t).TotalMinutes}:{Rounded(t).Seconds:00}";

    private static TimeSpan Rounded(TimeSpan t) => TimeSpan.FromSeconds(Math.Round(t.TotalSeconds));
}
