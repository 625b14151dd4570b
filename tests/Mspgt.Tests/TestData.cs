namespace Mspgt.Tests;

/// <summary>Locates the read-only `shared/` data folder that lies beside the repository root.</summary>
public static class TestData
{
    private static readonly Lazy<string> Dir = new(Find);

    /// <summary>Absolute path of shared/ (env MSPGT_SHARED wins; else the nearest ancestor's sibling `shared`).</summary>
    public static string SharedDir => Dir.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([SharedDir, .. parts]);

    private static string Find()
    {
        string? env = Environment.GetEnvironmentVariable("MSPGT_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return System.IO.Path.GetFullPath(env);
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string candidate = System.IO.Path.Combine(d.FullName, "shared");
            if (Directory.Exists(System.IO.Path.Combine(candidate, "models"))) return candidate;
        }
        throw new DirectoryNotFoundException("shared/ data folder not found beside the repository (set MSPGT_SHARED)");
    }
}
