using System.Security.Cryptography;

namespace Mspgt.Files;

/// <summary>sha256 of files, for manifests and cache keys.</summary>
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
}
