using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Mspgt.Cli;

/// <summary>
/// System.CommandLine's parse errors in the user's words: one line per mistake, the first mistake only (a misspelt
/// option's value is not a second error), "did you mean" for a misspelt option or command, and what a value should
/// look like instead of a .NET type name.
/// </summary>
public static partial class ParseErrors
{
    /// <summary>The one line for the first mistake in <paramref name="parse"/>.</summary>
    public static string FirstLine(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string where = command is RootCommand ? "mspgt" : CommandPath(parse.CommandResult);
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            if (token.StartsWith('-'))
            {
                string name = token.Split('=', 2)[0];
                var known = AllOptions(parse.CommandResult).SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct();
                return $"error: {where}: unknown option {name}{Suggest(name, known)}";
            }
            if (command is RootCommand || command.Subcommands.Count > 0)
                return $"error: {where}: unknown command '{token}'{Suggest(token, command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
            return $"error: {where}: unexpected argument '{token}'";
        }
        var error = parse.Errors[0];
        var cannotParse = CannotParse().Match(error.Message);
        if (cannotParse.Success)
        {
            string value = cannotParse.Groups["value"].Value, option = cannotParse.Groups["option"].Value;
            return $"error: {option}: \"{value}\" is not {Expected(cannotParse.Groups["type"].Value)}";
        }
        return $"error: {where}: {error.Message.TrimEnd('.')}";
    }

    /// <summary>What a value of a .NET type looks like, in words.</summary>
    public static string Expected(string typeName) => typeName switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" => "an integer",
        "System.UInt32" or "System.UInt64" => "a non-negative integer",
        "System.Single" or "System.Double" or "System.Decimal" => "a number",
        "System.Boolean" => "true or false",
        "System.IO.FileInfo" or "System.String" => "a path",
        _ => "a valid value",
    };

    /// <summary>", did you mean X?" for the closest known name within a small edit distance, else "".</summary>
    public static string Suggest(string typed, IEnumerable<string> known)
    {
        string bare = typed.TrimStart('-');
        var best = known
            .Select(k => (Name: k, Distance: EditDistance(bare, k.TrimStart('-'))))
            .Where(x => x.Distance <= Math.Max(1, Math.Min(3, bare.Length / 3)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name.Length, Comparer<int>.Create((a, b) => b.CompareTo(a)))
            .FirstOrDefault();
        return best.Name is null ? "" : $" (did you mean {best.Name}?)";
    }

    /// <summary>Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private static IEnumerable<Option> AllOptions(CommandResult result)
    {
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c)
                foreach (var o in c.Command.Options)
                    if (!o.Hidden && (ReferenceEquals(c, result) || o.Recursive)) yield return o;
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c && c.Command is not RootCommand; r = r.Parent) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    [GeneratedRegex(@"Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();
}
