using Spectre.Console;

namespace Mspgt.Cli;

/// <summary>
/// Tables on stdout: boxed on a terminal; when stdout is a file or a pipe, plain columns aligned with spaces, no
/// borders and no wrapping, so that every cell stays whole on its line for grep, awk and diff.
/// </summary>
public static class CliTable
{
    public static Table Create(params string[] headers) => new Table().AddColumns(headers);

    public static void Write(Table table)
    {
        if (AnsiConsole.Profile.Out.IsTerminal) { AnsiConsole.Write(table); return; }
        table.Border(TableBorder.None).Collapse();
        foreach (var column in table.Columns) column.NoWrap();
        // A width no row reaches: Spectre then lays the table out at its natural width instead of wrapping cells.
        var text = new StringWriter();
        var wide = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        wide.Profile.Width = 100_000;
        wide.Write(table);
        foreach (var line in text.ToString().Split('\n'))
            if (line.TrimEnd() is { Length: > 0 } row) Console.Out.WriteLine(row);
    }
}
