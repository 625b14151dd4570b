namespace Mspgt;

/// <summary>
/// A problem with the user's input (a file, an option, a corpus) that the CLI reports as one line,
/// <c>error: &lt;file&gt;: &lt;what is wrong&gt;</c>, with exit code 2. Library code throws this for every
/// foreseeable bad input so that no stack trace ever reaches a user.
/// </summary>
public sealed class MspgtException : Exception
{
    /// <summary>The file (or option / source) the problem is about; printed first.</summary>
    /// <remarks>Hides Exception.Source (the throwing assembly), which nothing here uses.</remarks>
    public new string Source { get; }

    public MspgtException(string source, string message) : base(message) => Source = source;

    public MspgtException(string source, string message, Exception inner) : base(message, inner) => Source = source;

    /// <summary>The single line the CLI prints.</summary>
    public string ToErrorLine() => $"error: {Source}: {Message}";
}
