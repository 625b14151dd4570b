using System.CommandLine;
using Mspgt.Cli.Commands;

namespace Mspgt.Cli;

/// <summary>
/// The list of `mspgt` subcommands, in the order of the workflow (the order `mspgt` and `mspgt --help` list them):
/// the study first, then the single-model steps it is made of, then the engine, then tools. Each is built by a
/// static Create() in Commands/.
/// </summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All()
    {
        yield return StudyCommand.Create();
        yield return AnalyzeCommand.Create();
        yield return InterventionCommand.Create();
        yield return BoundariesCommand.Create();
        yield return RunCommand.Create();
        yield return GenerateCommand.Create();
        yield return PerplexityCommand.Create();
        yield return InspectCommand.Create();
        yield return TokenizeCommand.Create();
        yield return BenchCommand.Create();
        yield return SynthCommand.Create();
        yield return TrainCommand.Create();
        yield return ZooCommand.Create();
        yield return VersionCommand.Create();
    }
}
