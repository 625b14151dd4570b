using System.CommandLine;
using Mspgt;

namespace Mspgt.Cli;

/// <summary>Runs the parsed command and turns every failure into one `error: ...` line and exit code 2.</summary>
public static class CliRunner
{
    public const int UsageOrInputError = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
                Console.Error.WriteLine($"error: {string.Join(' ', args.Take(1))}: {e.Message}");
            return UsageOrInputError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine(ToErrorLine(ex));
            return UsageOrInputError;
        }
    }

    /// <summary>One line for any exception; MspgtException carries its own file name.</summary>
    public static string ToErrorLine(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        if (ex is System.Reflection.TargetInvocationException { InnerException: { } inner }) ex = inner;
        return ex switch
        {
            MspgtException m => m.ToErrorLine(),
            FileNotFoundException f => $"error: {f.FileName ?? "?"}: file not found",
            DirectoryNotFoundException d => $"error: {d.Message}",
            UnauthorizedAccessException u => $"error: {u.Message}",
            OutOfMemoryException => "error: out of memory",
            _ => $"error: internal: {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}",
        };
    }
}
