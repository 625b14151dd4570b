using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mspgt.Checkpoints;
using Mspgt.Files;
using Mspgt.Loading;
using Mspgt.Models;
using Architecture = Mspgt.Models.Architecture;

namespace Mspgt.Training;

/// <summary>
/// Checkpoints as Hugging Face folders OUT/checkpoints/step-NNNNNN: config.json, model.safetensors (F32, HF names),
/// the tokenizer file, training.json (where training stood) and optimizer.bin (AdamW moments and step, for resume).
/// A folder is written under a temporary name and renamed into place, so a crash never leaves a partial checkpoint.
/// </summary>
public static class TrainingCheckpoint
{
    public const string FolderPrefix = "step-";

    public static string CheckpointsDir(string outDir) => Path.Combine(outDir, "checkpoints");

    public static string Write(string outDir, TrainingModel model, AdamW optimizer, TrainingRecord record, string tokenizerPath)
    {
        string root = CheckpointsDir(outDir);
        Directory.CreateDirectory(root);
        string name = $"{FolderPrefix}{record.Step:D6}";
        string final = Path.Combine(root, name);
        string tmp = Path.Combine(root, $".{name}.{Environment.ProcessId}.tmp");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        try
        {
            File.WriteAllText(Path.Combine(tmp, "config.json"), HuggingFaceConfigJson.Text(model.Config, "float32"));
            using (var fs = File.Create(Path.Combine(tmp, "model.safetensors")))
                SafetensorsWriter.Write(fs,
                    model.Parameters.Select(p => new SafetensorsWriter.Tensor(p.Name, p.Shape, model.Values.AsMemory(p.Offset, p.Length))).ToList(),
                    new Dictionary<string, string> { ["format"] = "pt" });
            File.Copy(tokenizerPath, Path.Combine(tmp, Path.GetFileName(tokenizerPath)));
            File.WriteAllText(Path.Combine(tmp, "training.json"), record.ToJson());
            using (var fs = File.Create(Path.Combine(tmp, "optimizer.bin"))) WriteOptimizer(fs, optimizer);
            if (Directory.Exists(final)) Directory.Delete(final, true);
            Directory.Move(tmp, final);
            return final;
        }
        catch
        {
            try { Directory.Delete(tmp, true); } catch { /* best effort */ }
            throw;
        }
    }

    /// <summary>The checkpoint folder with the highest step under OUT/checkpoints (complete folders only), or null.</summary>
    public static string? FindLatest(string outDir)
    {
        string root = CheckpointsDir(outDir);
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root, FolderPrefix + "*")
            .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d)[FolderPrefix.Length..], out long s), Step: s))
            .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, "training.json")) && File.Exists(Path.Combine(x.Dir, "optimizer.bin")))
            .OrderByDescending(x => x.Step).Select(x => x.Dir).FirstOrDefault();
    }

    /// <summary>Loads weights and optimizer state from a checkpoint into a model of the same shape.</summary>
    public static TrainingRecord Load(string folder, TrainingModel model, AdamW optimizer)
    {
        var record = TrainingRecord.Read(Path.Combine(folder, "training.json"));
        using (var st = SafetensorsReader.OpenFile(Path.Combine(folder, "model.safetensors")))
        {
            foreach (var p in model.Parameters)
            {
                if (!st.Tensors.TryGetValue(p.Name, out var t)) throw new MspgtException(folder, $"missing tensor {p.Name}");
                if (t.Type != TensorType.F32 || !t.Shape.Select(d => (int)d).SequenceEqual(p.Shape))
                    throw new MspgtException(folder, $"tensor {p.Name} is {t.Type} [{string.Join(", ", t.Shape)}]; expected F32 [{string.Join(", ", p.Shape)}]");
                StoredTensors.Vector(t.File, p.Name, t.Offset, t.Type, p.Length).CopyTo(model.Of(p));
            }
        }
        string opt = Path.Combine(folder, "optimizer.bin");
        RegularFile.Require(opt);
        using (var fs = File.OpenRead(opt)) ReadOptimizer(fs, optimizer, opt);
        if (optimizer.Step != record.Step)
            throw new MspgtException(opt, $"optimizer step {optimizer.Step} does not match training.json step {record.Step}");
        return record;
    }

    private const string OptimizerMagic = "MSPGTOPT";

    private static void WriteOptimizer(Stream s, AdamW o)
    {
        using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write(Encoding.ASCII.GetBytes(OptimizerMagic));
        w.Write(1); // version
        w.Write(o.Step);
        w.Write(o.M.Length);
        w.Write(MemoryMarshal.AsBytes(o.M.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(o.V.AsSpan()));
    }

    private static void ReadOptimizer(Stream s, AdamW o, string path)
    {
        using var r = new BinaryReader(s);
        if (Encoding.ASCII.GetString(r.ReadBytes(8)) != OptimizerMagic || r.ReadInt32() != 1)
            throw new MspgtException(path, "not an mspgt optimizer state (bad magic or version)");
        long step = r.ReadInt64();
        int n = r.ReadInt32();
        if (n != o.M.Length) throw new MspgtException(path, $"optimizer state has {n} values; the model has {o.M.Length} parameters");
        if (s.Length != 8 + 4 + 8 + 4 + 8L * n) throw new MspgtException(path, "truncated optimizer state");
        s.ReadExactly(MemoryMarshal.AsBytes(o.M.AsSpan()));
        s.ReadExactly(MemoryMarshal.AsBytes(o.V.AsSpan()));
        o.Step = step;
    }

}
