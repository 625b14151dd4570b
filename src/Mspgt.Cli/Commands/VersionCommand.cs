using System.CommandLine;

namespace Mspgt.Cli.Commands;

public static class VersionCommand
{
    public static Command Create()
    {
        var cmd = new Command("version", "Print the program version");
        cmd.SetAction(_ => { Console.WriteLine(Mspgt.ProgramInfo.Version); return 0; });
        return cmd;
    }
}
