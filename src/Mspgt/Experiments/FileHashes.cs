using System.Security.Cryptography;

namespace Mspgt.Experiments;

/// <summary>sha256 of the files that define a model (weights and config), for manifests and caches.</summary>
public static class FileHashes
{
    public static string Sha256(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>One hash over several files (name and content of each, in the given order).</summary>
    public static string Sha256(IEnumerable<string> paths)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buf = new byte[1 << 20];
        foreach (var p in paths)
        {
            h.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(p) + "\n"));
            using var s = File.OpenRead(p);
            int n;
            while ((n = s.Read(buf)) > 0) h.AppendData(buf, 0, n);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>Hash of a loaded model's defining files: the weight files plus config.json for a folder.</summary>
    public static string OfModel(Loading.LoadedModel m)
    {
        var files = new List<string>();
        if (Directory.Exists(m.Path) && File.Exists(Path.Combine(m.Path, "config.json"))) files.Add(Path.Combine(m.Path, "config.json"));
        files.AddRange(m.WeightFiles);
        return files.Count == 0 ? "in-memory" : files.Count == 1 ? Sha256(files[0]) : Sha256(files);
    }
}
