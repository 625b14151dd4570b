using System.Text;

namespace Mspgt.Tests.Checkpoints;

/// <summary>
/// Writes small GGUF files byte by byte for tests (written from the GGUF spec, independent of GgufReader):
/// magic, version, counts, key/values, tensor infos, padding to the alignment, tensor data.
/// </summary>
internal sealed class GgufTestWriter(uint version = 3, int alignment = 32)
{
    private readonly List<Action<BinaryWriter>> _kvs = [];
    private readonly List<(string Name, long[] Dims, uint Type, byte[] Data)> _tensors = [];

    public uint Version { get; } = version;
    public int Alignment { get; } = alignment;

    private void Len(BinaryWriter w, long n)
    {
        if (Version == 1) w.Write((uint)n); else w.Write((ulong)n);
    }

    private void Str(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Len(w, b.Length);
        w.Write(b);
    }

    /// <summary>A key with a raw type id and a value writer (for odd cases such as unknown types).</summary>
    public GgufTestWriter Raw(string key, uint type, Action<BinaryWriter> value)
    {
        _kvs.Add(w => { Str(w, key); w.Write(type); value(w); });
        return this;
    }

    public GgufTestWriter String(string key, string v) => Raw(key, 8, w => Str(w, v));
    public GgufTestWriter U32(string key, uint v) => Raw(key, 4, w => w.Write(v));
    public GgufTestWriter F32(string key, float v) => Raw(key, 6, w => w.Write(v));
    public GgufTestWriter Bool(string key, bool v) => Raw(key, 7, w => w.Write((byte)(v ? 1 : 0)));

    public GgufTestWriter Array(string key, uint elemType, int count, Action<BinaryWriter, int> elem) =>
        Raw(key, 9, w => { w.Write(elemType); Len(w, count); for (int i = 0; i < count; i++) elem(w, i); });

    public GgufTestWriter StringArray(string key, string[] v) => Array(key, 8, v.Length, (w, i) => Str(w, v[i]));

    /// <summary>Writes an array header in the file's version (for nested arrays).</summary>
    public void ArrayHeader(BinaryWriter w, uint elemType, long count) { w.Write(elemType); Len(w, count); }
    public void StringValue(BinaryWriter w, string s) => Str(w, s);

    public GgufTestWriter Tensor(string name, long[] dims, uint type, byte[] data)
    {
        _tensors.Add((name, dims, type, data));
        return this;
    }

    public GgufTestWriter F32Tensor(string name, long[] dims, float[] values)
    {
        var b = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, b, 0, b.Length);
        return Tensor(name, dims, 0, b);
    }

    public byte[] ToBytes()
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("GGUF"u8.ToArray());
        w.Write(Version);
        Len(w, _tensors.Count);
        Len(w, _kvs.Count);
        foreach (var kv in _kvs) kv(w);
        long offset = 0;
        var offsets = new List<long>();
        foreach (var (name, dims, type, data) in _tensors)
        {
            Str(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims) Len(w, d);
            w.Write(type);
            w.Write((ulong)offset);
            offsets.Add(offset);
            offset = (offset + data.Length + Alignment - 1) / Alignment * Alignment;
        }
        w.Flush();
        while (ms.Length % Alignment != 0) ms.WriteByte(0);
        long start = ms.Length;
        for (int i = 0; i < _tensors.Count; i++)
        {
            while (ms.Length < start + offsets[i]) ms.WriteByte(0);
            ms.Write(_tensors[i].Data);
        }
        return ms.ToArray();
    }

    public string WriteTo(string dir, string fileName)
    {
        string path = Path.Combine(dir, fileName);
        File.WriteAllBytes(path, ToBytes());
        return path;
    }
}

/// <summary>A temporary folder removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mspgt-gguf-test-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
