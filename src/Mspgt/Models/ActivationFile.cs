using System.Globalization;
using Mspgt.Files;

namespace Mspgt.Models;

/// <summary>
/// Cached activations written as one safetensors file (what TransformerLens users do with <c>run_with_cache</c> and
/// <c>torch.save</c>): one F32 tensor per hook point, named by its TransformerLens name
/// (<c>blocks.3.hook_resid_post</c>), shaped as mspgt's hook reports it (no batch axis: [pos, d_model],
/// [head, query, key] for patterns), plus <c>input_ids</c> (I64) and metadata saying what each tensor is.
/// </summary>
public static class ActivationFile
{
    public const string IdsTensor = "input_ids";

    public static void Write(string path, ActivationCache cache, IReadOnlyList<int> ids, IReadOnlyDictionary<string, string> metadata)
    {
        var tensors = new List<SafetensorsWriter.RawTensor> { SafetensorsWriter.Int64(IdsTensor, ids) };
        var meta = new Dictionary<string, string>(metadata)
        {
            ["format"] = "mspgt activations",
            ["tokens"] = ids.Count.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var point in cache.Points.OrderBy(p => p.Layer).ThenBy(p => p.Kind))
        {
            var a = cache[point];
            tensors.Add(new SafetensorsWriter.RawTensor(point.LensName, "F32", 4, [.. a.Shape],
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.Data.AsSpan()).ToArray()));
            meta[point.LensName + ".start_position"] = a.StartPosition.ToString(CultureInfo.InvariantCulture);
        }
        AtomicFile.Write(path, s => SafetensorsWriter.Write(s, tensors, meta));
    }
}
