using Spectre.Console;

namespace Mspgt.Cli;

/// <summary>
/// Progress on stderr (stdout stays clean for --json): a Spectre progress bar on a terminal, otherwise a plain
/// line every 10% so logs stay readable.
/// </summary>
public static class Progress
{
    public static T Run<T>(string label, Func<Action<int, int>, T> work)
    {
        if (Console.IsErrorRedirected)
        {
            int lastDecile = -1;
            return work((done, total) =>
            {
                int decile = total == 0 ? 10 : done * 10 / total;
                if (decile != lastDecile) { lastDecile = decile; Console.Error.WriteLine($"{label}: {done}/{total}"); }
            });
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: 1);
                result = work((done, total) => { task.MaxValue = Math.Max(1, total); task.Value = done; });
            });
        return result;
    }
}
