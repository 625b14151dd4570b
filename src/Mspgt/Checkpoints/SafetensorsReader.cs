using Mspgt.Files;
using System.Buffers.Binary;
using System.Text.Json;

namespace Mspgt.Checkpoints;

/// <summary>One tensor in a safetensors file: dtype, shape (outermost first) and its byte range in the file.</summary>
public sealed record SafetensorsTensor(string Name, TensorType Type, long[] Shape, long Offset, long Length, MappedFile File);

/// <summary>
/// Reads the safetensors header (8-byte little-endian length + JSON) of one file or of a sharded checkpoint
/// (model.safetensors.index.json naming the shard of each tensor). Data stays memory-mapped.
/// </summary>
public sealed class SafetensorsReader : IDisposable
{
    private readonly List<MappedFile> _files = [];
    private readonly Dictionary<string, SafetensorsTensor> _tensors = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, SafetensorsTensor> Tensors => _tensors;
    public IReadOnlyList<string> FilePaths => _files.Select(f => f.Path).ToList();

    /// <summary>Opens model.safetensors, or every shard listed in model.safetensors.index.json, in a folder.</summary>
    public static SafetensorsReader OpenFolder(string folder)
    {
        var reader = new SafetensorsReader();
        try
        {
            string single = Path.Combine(folder, "model.safetensors");
            string index = Path.Combine(folder, "model.safetensors.index.json");
            if (File.Exists(index))
            {
                foreach (var shard in ReadIndex(index)) reader.AddFile(Path.Combine(folder, shard));
            }
            else if (File.Exists(single)) reader.AddFile(single);
            else
            {
                var any = Directory.GetFiles(folder, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).ToArray();
                if (any.Length == 0)
                    throw new MspgtException(folder, "no model.safetensors, model.safetensors.index.json or *.safetensors file in this folder");
                foreach (var f in any) reader.AddFile(f);
            }
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    public static SafetensorsReader OpenFile(string path)
    {
        var reader = new SafetensorsReader();
        try { reader.AddFile(path); return reader; }
        catch { reader.Dispose(); throw; }
    }

    private static IEnumerable<string> ReadIndex(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new MspgtException(indexPath, "no \"weight_map\" object");
            return map.EnumerateObject().Select(p => p.Value.GetString() ?? "").Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        }
        catch (JsonException e) { throw new MspgtException(indexPath, JsonOutput.Problem(e)); }
    }

    private void AddFile(string path)
    {
        var file = MappedFile.Open(path);
        _files.Add(file);
        if (file.Length < 8) throw new MspgtException(path, "truncated: shorter than the 8-byte safetensors header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, 8, "header length"));
        if (headerLen == 0 || headerLen > 100_000_000 || (long)headerLen > file.Length - 8)
            throw new MspgtException(path, $"not a safetensors file or truncated (header length {headerLen}, file {file.Length} bytes)");
        var headerBytes = file.Span(8, (int)headerLen, "JSON header");
        long dataStart = 8 + (long)headerLen;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes.ToArray()); }
        catch (JsonException e) { throw new MspgtException(path, $"invalid safetensors JSON header: {e.Message}"); }
        using (doc)
        {
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__") continue;
                var e = prop.Value;
                string dtype = e.GetProperty("dtype").GetString() ?? "";
                var type = dtype switch
                {
                    "F32" => TensorType.F32,
                    "F16" => TensorType.F16,
                    "BF16" => TensorType.BF16,
                    _ => throw new MspgtException(path, $"tensor {prop.Name} has dtype {dtype}; supported: F32, F16, BF16"),
                };
                long[] shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                var offs = e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                if (offs.Length != 2 || offs[1] < offs[0]) throw new MspgtException(path, $"tensor {prop.Name} has bad data_offsets");
                long count = shape.Aggregate(1L, (a, b) => a * b);
                long expect = count * (type == TensorType.F32 ? 4 : 2);
                if (offs[1] - offs[0] != expect)
                    throw new MspgtException(path, $"tensor {prop.Name}: {offs[1] - offs[0]} bytes for shape [{string.Join(", ", shape)}] {dtype} (expected {expect})");
                file.Require(dataStart + offs[0], expect, $"tensor {prop.Name}");
                if (_tensors.ContainsKey(prop.Name)) throw new MspgtException(path, $"tensor {prop.Name} appears in two shards");
                _tensors[prop.Name] = new SafetensorsTensor(prop.Name, type, shape, dataStart + offs[0], expect, file);
            }
        }
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
