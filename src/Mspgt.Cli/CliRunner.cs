using System.CommandLine;
using Spectre.Console;
using System.Globalization;
using Mspgt;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Cli;

/// <summary>
/// Runs the parsed command and turns every failure into one line on stderr: a bad input (an
/// <see cref="MspgtException"/>, a missing or unreadable file) is <c>error: …</c> with exit code 2; anything else is a
/// bug, reported as <c>internal error: TYPE: MESSAGE (details: LOG)</c> with the stack trace in LOG and exit code 70.
/// </summary>
public static class CliRunner
{
    public const int UsageOrInputError = 2;
    /// <summary>EX_SOFTWARE of sysexits.h: an internal software error.</summary>
    public const int InternalError = 70;

    /// <summary><c>--quiet</c>/<c>-q</c>, on every command: no progress and no per-model lines on stderr (errors still print).</summary>
    public static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "No progress lines on stderr (errors still print)", Recursive = true };

    public static int Run(RootCommand root, string[] args)
    {
        if (!root.Options.Contains(Quiet)) root.Options.Add(Quiet);
        // Spectre's static console binds to whatever Console.Out was when it was first used; bind it to the current
        // one, so that tables and markup go where plain writes go (a redirected stdout, or a test's capture).
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        // Piped or redirected: no line is wrapped at a guessed 80 columns (a pipe has no width).
        if (!AnsiConsole.Profile.Out.IsTerminal) AnsiConsole.Profile.Width = 100_000;
        // Bare `mspgt`: the usage, commands in the order of the workflow (CommandRegistry), not an error about it.
        if (args.Length == 0) args = ["--help"];
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine(ParseErrors.FirstLine(parse));
            return UsageOrInputError;
        }
        Progress.Quiet = parse.GetValue(Quiet);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex)
        {
            ex = Unwrap(ex);
            if (ToErrorLine(ex, parse.CommandResult.Command) is { } line)
            {
                Console.Error.WriteLine(line);
                return UsageOrInputError;
            }
            Console.Error.WriteLine(ReportInternalError(ex, args));
            return InternalError;
        }
    }

    /// <summary>
    /// The one line for a bad input, or null when <paramref name="ex"/> is not one (a bug). A setting error names the
    /// flag of <paramref name="command"/> that sets it (<see cref="SettingFlags"/>), else the setting itself.
    /// </summary>
    public static string? ToErrorLine(Exception ex, Command? command = null)
    {
        ex = Unwrap(ex);
        string? line = ex switch
        {
            MspgtException { Setting: { } setting } m => $"error: {SettingFlags.FlagOf(setting, command) ?? setting}: {m.Message}",
            MspgtException m => m.ToErrorLine(),
            FileNotFoundException f => $"error: {f.FileName ?? "?"}: file not found",
            DirectoryNotFoundException d => $"error: {d.Message}",
            UnauthorizedAccessException u => $"error: {u.Message}",
            // The disk or the device failed us, not the program: no stack trace helps the user.
            IOException io => $"error: {io.Message.ReplaceLineEndings(" ")}",
            OutOfMemoryException => "error: out of memory",
            _ => null,
        };
        return line is null ? null : OneLine(line);
    }

    /// <summary>A message can quote bytes from the input (a key, a token, a path): control characters are written as
    /// \n, \xHH or \uHHHH, so that the report stays one line whatever the file held.</summary>
    public static string OneLine(string line)
    {
        if (!line.Any(char.IsControl)) return line;
        var sb = new System.Text.StringBuilder(line.Length + 16);
        foreach (char c in line)
        {
            if (!char.IsControl(c)) sb.Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < 0x100) sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Writes the exception with its stack trace to a log file and returns the one line to print.</summary>
    public static string ReportInternalError(Exception ex, IReadOnlyList<string> args)
    {
        string summary = $"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}";
        string log = Path.Combine(Path.GetTempPath(),
            $"mspgt-{DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}-{Environment.ProcessId}.log");
        try
        {
            AtomicFile.WriteAllText(log,
                $"mspgt {ProgramInfo.Version}: internal error\n" +
                $"time: {DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)}\n" +
                $"arguments: {string.Join(' ', args)}\n\n{ex}\n");
        }
        catch (Exception logError) when (logError is IOException or UnauthorizedAccessException)
        {
            return $"internal error: {summary} (no details: cannot write {log}: {logError.Message})";
        }
        return $"internal error: {summary} (details: {log})";
    }

    private static Exception Unwrap(Exception ex)
    {
        while (true)
        {
            // Every inner exception of a parallel loop a bad input: that input's line (MspgtException.Behind).
            if (ex is AggregateException && MspgtException.Behind(ex) is { } input) return input;
            if (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
            else if (ex is System.Reflection.TargetInvocationException { InnerException: { } inner }) ex = inner;
            else return ex;
        }
    }
}
