namespace Mspgt;

/// <summary>
/// A problem with the user's input (a file, a setting, a corpus) that the CLI reports as one line,
/// <c>error: &lt;source&gt;: &lt;what is wrong&gt;</c>, with exit code 2. Library code throws this for every
/// foreseeable bad input so that no stack trace ever reaches a user.
/// <para>Two kinds: about a file or other input (<see cref="Source"/> names it), or about a setting's value
/// (<see cref="ForSetting"/>; <see cref="Setting"/> holds its snake_case name as settings records and study files
/// spell it, e.g. <c>top_p</c>). The library never names a command-line flag: the CLI maps settings to its flags, and
/// a settings file reports the file and the key (<see cref="InFile"/>).</para>
/// </summary>
public sealed class MspgtException : Exception
{
    /// <summary>The file (or setting / source) the problem is about; printed first.</summary>
    /// <remarks>Hides Exception.Source (the throwing assembly), which nothing here uses.</remarks>
    public new string Source { get; }

    /// <summary>The snake_case name of the setting whose value is rejected (<c>top_p</c>); null when the problem is
    /// about a file or other input.</summary>
    public string? Setting { get; }

    public MspgtException(string source, string message) : base(message) => Source = source;

    public MspgtException(string source, string message, Exception inner) : base(message, inner) => Source = source;

    private MspgtException(string source, string? setting, string message, Exception? inner) : base(message, inner)
    {
        Source = source;
        Setting = setting;
    }

    /// <summary>A rejected setting value, named as settings records and study files name it (<c>top_p</c>).</summary>
    public static MspgtException ForSetting(string setting, string message) => new(setting, setting, message, null);

    /// <summary>
    /// This setting error as it reads in a settings file: source <paramref name="file"/>, message
    /// <c>section.setting: …</c> (e.g. <c>study.yaml: intervene.top_p: must be in (0, 1], got 2</c>).
    /// Any other error is returned unchanged.
    /// </summary>
    public MspgtException InFile(string file, string? section = null) => Setting is null ? this
        : new MspgtException(file, null, $"{(section is null ? "" : section + ".")}{Setting}: {Message}", this);

    /// <summary>
    /// The MspgtException behind <paramref name="e"/>: the exception itself, or, for an AggregateException from a
    /// parallel loop whose every inner exception (flattened) is one, the first by source and then message (ordinal, so
    /// the choice does not depend on thread timing). Null for anything else: a bug.
    /// </summary>
    public static MspgtException? Behind(Exception e)
    {
        if (e is MspgtException m) return m;
        if (e is not AggregateException a) return null;
        var inner = a.Flatten().InnerExceptions;
        if (inner.Count == 0 || !inner.All(i => i is MspgtException)) return null;
        return inner.Cast<MspgtException>().OrderBy(i => i.Source, StringComparer.Ordinal).ThenBy(i => i.Message, StringComparer.Ordinal).First();
    }

    /// <summary>The single line the CLI prints (a setting error shows the setting's name; the CLI shows its flag).</summary>
    public string ToErrorLine() => $"error: {Source}: {Message}";
}
