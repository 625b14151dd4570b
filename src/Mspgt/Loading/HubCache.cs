using Mspgt.Files;
using System.Text.RegularExpressions;

namespace Mspgt.Loading;

/// <summary>
/// The Hugging Face hub cache's layout, so that `--model` takes what users have on disk: a repository folder
/// <c>models--org--name</c> (its <c>refs/main</c> names the snapshot), or <c>org/name</c> looked up under
/// <c>$HF_HOME/hub</c> (default <c>~/.cache/huggingface/hub</c>) when no such local path exists. A snapshot folder
/// itself (a folder of links into <c>blobs/</c>) needs nothing: it loads like any folder.
/// </summary>
public static partial class HubCache
{
    /// <summary>The folder or file to load for <paramref name="path"/>: the path itself unless it is one of the hub forms.</summary>
    public static string Resolve(string path)
    {
        if (Directory.Exists(path))
            return IsRepository(path) ? Snapshot(path) : path;
        if (File.Exists(path) || !RepoId().IsMatch(path)) return path;
        string repository = Path.Combine(HubFolder(), "models--" + path.Replace("/", "--"));
        return Directory.Exists(repository) ? Snapshot(repository) : path;
    }

    /// <summary>$HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.</summary>
    public static string HubFolder() =>
        Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub ? hub
        : Path.Combine(Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface"), "hub");

    private static bool IsRepository(string folder) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)).StartsWith("models--", StringComparison.Ordinal)
        && Directory.Exists(Path.Combine(folder, "snapshots"));

    private static string Snapshot(string repository)
    {
        string refFile = Path.Combine(repository, "refs", "main");
        if (!File.Exists(refFile))
            throw new MspgtException(repository, "hub cache folder without refs/main: give the snapshot folder (snapshots/<commit>) instead");
        string commit = RegularFile.ReadAllText(refFile).Trim();
        string snapshot = Path.Combine(repository, "snapshots", commit);
        if (commit.Length == 0 || !Directory.Exists(snapshot))
            throw new MspgtException(refFile, $"names snapshot \"{commit}\", which is not in {Path.Combine(repository, "snapshots")}");
        return snapshot;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    private static partial Regex RepoId();
}
