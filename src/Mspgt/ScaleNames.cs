namespace Mspgt;

/// <summary>
/// The names of the three scales, shallow to deep, as every output spells them (summary.json "segments", the
/// intervene segments, study tables, plot legends). Kept at the root so every layer can use them.
/// </summary>
public static class ScaleNames
{
    public const string Local = "local";
    public const string Intermediate = "intermediate";
    public const string Global = "global";

    /// <summary>Local, intermediate, global: the order of depth.</summary>
    public static IReadOnlyList<string> All { get; } = [Local, Intermediate, Global];
}
