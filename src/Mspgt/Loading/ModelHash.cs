using Mspgt.Files;

namespace Mspgt.Loading;

/// <summary>The identity of a loaded model for manifests and cache keys: a hash of the files that define it.</summary>
public static class ModelHash
{
    /// <summary>sha256 of a loaded model's defining files: the weight files plus config.json for a folder; "in-memory"
    /// for a model built without files.</summary>
    public static string Of(LoadedModel m)
    {
        var files = new List<string>();
        if (Directory.Exists(m.Path) && File.Exists(Path.Combine(m.Path, "config.json"))) files.Add(Path.Combine(m.Path, "config.json"));
        files.AddRange(m.WeightFiles);
        return files.Count == 0 ? "in-memory" : files.Count == 1 ? FileHashes.Sha256(files[0]) : FileHashes.Sha256(files);
    }
}
