using System.CommandLine;
using Mspgt.Cli.Commands;

namespace Mspgt.Cli;

/// <summary>The list of `mspgt` subcommands; each is built by a static Create() in Commands/.</summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All()
    {
        yield return AnalyzeCommand.Create();
        yield return RunCommand.Create();
        yield return GenerateCommand.Create();
        yield return InspectCommand.Create();
        yield return BenchCommand.Create();
        yield return TrainCommand.Create();
        yield return ZooCommand.Create();
        yield return VersionCommand.Create();
        yield return TokenizeCommand.Create();
        yield return BoundariesCommand.Create();
        yield return StudyCommand.Create();
        yield return InterventionCommand.Create();
    }
}
