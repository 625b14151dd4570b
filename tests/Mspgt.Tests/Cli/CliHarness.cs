using System.CommandLine;
using Mspgt.Cli;

namespace Mspgt.Tests.Cli;

/// <summary>Tests that redirect Console run one at a time, never beside each other.</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public class ConsoleCollection;

/// <summary>Runs `mspgt ARGS` in-process with every registered command, capturing stdout and stderr.</summary>
public static class CliHarness
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand("mspgt (test)");
        foreach (var c in CommandRegistry.All()) root.Subcommands.Add(c);
        return Run(root, args);
    }

    /// <summary>Runs ARGS against <paramref name="root"/> (e.g. with a test command added).</summary>
    public static (int Code, string Out, string Err) Run(RootCommand root, params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (CliRunner.Run(root, args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    /// <summary>Asserts the bad-input contract: exit code 2, nothing on stdout, exactly one `error: ` line on stderr.</summary>
    public static string AssertOneLineError(params string[] args)
    {
        var (code, output, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{err}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", err);
        return lines[0];
    }
}
