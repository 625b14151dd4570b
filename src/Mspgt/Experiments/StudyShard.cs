namespace Mspgt.Experiments;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (0-based, as Slurm's array task ids and Kubernetes' completion
/// indexes are), written "I/N" on the command line.
/// </summary>
public readonly record struct StudyShard(int Index, int Count)
{
    public override string ToString() => $"{Index}/{Count}";

    public static StudyShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n))
            throw MspgtException.ForSetting("shard", $"\"{text}\" is not I/N (e.g. 0/3)");
        if (n < 1) throw MspgtException.ForSetting("shard", $"the number of shards must be ≥ 1, got {n}");
        if (i < 0 || i >= n) throw MspgtException.ForSetting("shard", $"the shard index must be in 0..{n - 1}, got {i}");
        return new StudyShard(i, n);
    }

    /// <summary>
    /// Which shard computes each model (its analysis and its intervention step together, since the interventions
    /// run on the analysis' segments): the longest-processing-time rule on the models' sizes — largest first, each
    /// to the shard with the least work so far, ties to the lower shard — so shards finish at about the same time.
    /// Deterministic: it depends only on the study file and the sizes of the model files.
    /// </summary>
    public static int[] Assign(StudyDefinition def, int shards)
    {
        if (shards < 1) throw MspgtException.ForSetting("shards", $"must be ≥ 1, got {shards}");
        var size = def.Models.Select(m => SizeOf(m.Path)).ToArray();
        var order = Enumerable.Range(0, def.Models.Count).OrderByDescending(i => size[i]).ThenBy(i => i).ToArray();
        var load = new long[shards];
        var owner = new int[def.Models.Count];
        foreach (int i in order)
        {
            int best = 0;
            for (int k = 1; k < shards; k++) if (load[k] < load[best]) best = k;
            owner[i] = best;
            load[best] += Math.Max(1, size[i]);
        }
        return owner;
    }

    /// <summary>Bytes of a model's weight files: the file itself, or a folder's .safetensors / .gguf / .bin files.</summary>
    internal static long SizeOf(string path)
    {
        if (File.Exists(path)) return new FileInfo(path).Length;
        if (!Directory.Exists(path)) return 0;
        return Directory.EnumerateFiles(path)
            .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".gguf", StringComparison.Ordinal) || f.EndsWith(".bin", StringComparison.Ordinal))
            .Sum(f => new FileInfo(f).Length);
    }
}

/// <summary>
/// An exclusive claim on one model's unit of work in a study's cache, shared by every process writing that cache
/// (shards on other nodes included, over a shared file system): an open lock file under OUT/.locks held
/// with an advisory lock (.NET's FileShare.None is flock on Linux). The kernel drops the lock when the process dies,
/// even by SIGKILL, so a killed shard never leaves a claim behind; re-running it simply takes the lock again.
/// </summary>
public sealed class StudyLock : IDisposable
{
    private readonly FileStream _stream;

    private StudyLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock of <paramref name="unit"/>, waiting while another process holds it.</summary>
    public static StudyLock Acquire(string output, string unit, StudyOptions o, string label)
    {
        string dir = Path.Combine(output, ".locks");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, unit + ".lock");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        bool said = false;
        while (true)
        {
            o.Cancellation.ThrowIfCancellationRequested();
            try
            {
                var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return new StudyLock(fs);
            }
            catch (IOException) when (waited.Elapsed < o.LockWait)
            {
                if (!said) { o.Log?.Invoke($"{label}: another process is computing it; waiting"); said = true; }
                Thread.Sleep(1000);
            }
            catch (IOException e)
            {
                throw new MspgtException(path, $"still locked by another process after {o.LockWait.TotalMinutes:0} minutes ({e.Message})");
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
