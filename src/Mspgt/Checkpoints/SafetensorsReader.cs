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
        RegularFile.Require(indexPath);
        try
        {
            using var doc = JsonDocument.Parse(RegularFile.ReadAllText(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new MspgtException(indexPath, "no \"weight_map\" object");
            var shards = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                // a shard is a file beside the index: a path elsewhere (../x, /x, a/b) is refused
                if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not { Length: > 0 } shard
                    || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new MspgtException(indexPath, $"weight_map entry {p.Name} does not name a file in this folder");
                shards.Add(shard);
            }
            return shards;
        }
        catch (JsonException e) { throw new MspgtException(indexPath, JsonOutput.Problem(e)); }
    }

    private void AddFile(string path)
    {
        var file = MappedFile.Open(path);
        _files.Add(file);
        if (file.Length < 8) throw new MspgtException(path, "truncated: shorter than the 8-byte safetensors header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, 8, "header length"));
        if (headerLen < 2 || headerLen > MaxHeaderBytes || (long)headerLen > file.Length - 8)
            throw new MspgtException(path, $"not a safetensors file or truncated (header length {headerLen}, file {file.Length} bytes)");
        var headerBytes = file.Span(8, (int)headerLen, "JSON header");
        long dataStart = 8 + (long)headerLen;
        long dataLength = file.Length - dataStart;
        // System.Text.Json checks UTF-8 only when a string is read: a bad name would surface later as a bug
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw new MspgtException(path, "the safetensors JSON header is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes.ToArray()); }
        catch (JsonException e) { throw new MspgtException(path, $"invalid safetensors JSON header: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new MspgtException(path, "the safetensors header is not a JSON object");
            var ranges = new List<(long Begin, long End, string Name)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(prop.Name)) throw new MspgtException(path, $"tensor {prop.Name} is listed twice in the header");
                if (prop.Name == "__metadata__") continue;
                if (_tensors.ContainsKey(prop.Name)) throw new MspgtException(path, $"tensor {prop.Name} appears in two shards");
                var t = ReadEntry(path, prop.Name, prop.Value, dataLength);
                ranges.Add((t.Begin, t.End, prop.Name));
                _tensors[prop.Name] = new SafetensorsTensor(prop.Name, t.Type, t.Shape, dataStart + t.Begin, t.End - t.Begin, file);
            }
            // two tensors sharing bytes would alias each other's weights; empty tensors take none
            ranges.RemoveAll(r => r.End == r.Begin);
            ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < ranges.Count; i++)
                if (ranges[i - 1].End > ranges[i].Begin)
                    throw new MspgtException(path,
                        $"tensors {ranges[i - 1].Name} (data_offsets [{ranges[i - 1].Begin}, {ranges[i - 1].End}]) and {ranges[i].Name} (from {ranges[i].Begin}) overlap");
        }
    }

    private const long MaxHeaderBytes = 100_000_000; // the safetensors library's own limit

    /// <summary>One header entry, every field checked: dtype known, shape of non-negative ints whose byte size does not
    /// overflow, data_offsets [begin, end] inside the data section with end - begin equal to that size.</summary>
    private static (TensorType Type, long[] Shape, long Begin, long End) ReadEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new MspgtException(path, $"tensor {name}: the header entry is not an object");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new MspgtException(path, $"tensor {name} has no dtype string");
        string dtype = dt.GetString()!;
        var type = dtype switch
        {
            "F32" => TensorType.F32,
            "F16" => TensorType.F16,
            "BF16" => TensorType.BF16,
            _ => throw new MspgtException(path, $"tensor {name} has dtype {dtype}; supported: F32, F16, BF16"),
        };
        long[] shape = Int64Array(path, name, e, "shape");
        long[] offs = Int64Array(path, name, e, "data_offsets");
        if (shape.Length > 8) throw new MspgtException(path, $"tensor {name} has {shape.Length} dimensions");
        if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0])
            throw new MspgtException(path, $"tensor {name} has bad data_offsets [{string.Join(", ", offs)}]");
        long expect;
        try
        {
            long count = 1;
            foreach (long d in shape)
            {
                if (d < 0) throw new MspgtException(path, $"tensor {name} has a negative dimension in shape [{string.Join(", ", shape)}]");
                count = checked(count * d);
            }
            expect = checked(count * (type == TensorType.F32 ? 4 : 2));
        }
        catch (OverflowException)
        {
            throw new MspgtException(path, $"tensor {name} has absurd shape [{string.Join(", ", shape)}]");
        }
        if (offs[1] - offs[0] != expect)
            throw new MspgtException(path, $"tensor {name}: {offs[1] - offs[0]} bytes for shape [{string.Join(", ", shape)}] {dtype} (expected {expect})");
        if (offs[1] > dataLength)
            throw new MspgtException(path,
                $"truncated or corrupt: tensor {name} has data_offsets [{offs[0]}, {offs[1]}] but the data section holds {dataLength} bytes");
        return (type, shape, offs[0], offs[1]);
    }

    private static string Short(string s) => s.Length > 40 ? s[..40] + "..." : s;

    private static long[] Int64Array(string path, string name, JsonElement e, string field)
    {
        if (!e.TryGetProperty(field, out var a) || a.ValueKind != JsonValueKind.Array || a.GetArrayLength() > 8)
            throw new MspgtException(path, $"tensor {name} has no {field} array (of at most 8 integers)");
        var v = new long[a.GetArrayLength()];
        int i = 0;
        foreach (var x in a.EnumerateArray())
            v[i++] = x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long l) ? l
                : throw new MspgtException(path, $"tensor {name}: {field} holds {Short(x.GetRawText())}, not an integer");
        return v;
    }

    /// <summary><see cref="MappedFile.DropResidentPages"/> of every shard.</summary>
    public void DropResidentPages()
    {
        foreach (var f in _files) f.DropResidentPages();
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
