using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Mspgt.Tests.Cli;

/// <summary>
/// A GGUF file taken apart into its key/values (raw bytes), tensor directory and data section, so that a test can
/// change one field and write the file again with a correct layout (written from the GGUF spec, not from GgufReader).
/// </summary>
internal sealed class GgufImage
{
    public sealed class Kv(byte[] key, uint type, byte[] value)
    {
        public byte[] Key = key;
        public uint Type = type;
        public byte[] Value = value;
        public string Name => Encoding.UTF8.GetString(Key);
    }

    public sealed class TensorInfo(string name, ulong[] dims, uint type, ulong offset)
    {
        public string Name = name;
        public ulong[] Dims = dims;
        public uint Type = type;
        public ulong Offset = offset;
    }

    public uint Version;
    public List<Kv> Kvs = [];
    public List<TensorInfo> Tensors = [];
    public byte[] Data = [];
    /// <summary>Where the data section began in the parsed file.</summary>
    public int DataStart;
    /// <summary>Every count, length, dimension, type and offset field of the parsed file (offset, width in bytes).</summary>
    public List<(int Offset, int Width)> SizeFields = [];
    private const int Alignment = 32; // the fixtures do not set general.alignment

    private int LenBytes => Version == 1 ? 4 : 8;

    public Kv Key(string name) => Kvs.Single(k => k.Name == name);

    public static GgufImage Parse(byte[] b)
    {
        var g = new GgufImage { Version = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)) };
        int pos = 8;
        ulong Len()
        {
            g.SizeFields.Add((pos, g.LenBytes));
            ulong v = g.Version == 1 ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos)) : BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos));
            pos += g.LenBytes;
            return v;
        }
        uint U32() { g.SizeFields.Add((pos, 4)); uint v = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos)); pos += 4; return v; }
        byte[] Str() { int n = (int)Len(); var s = b.AsSpan(pos, n).ToArray(); pos += n; return s; }
        void Skip(uint type)
        {
            switch (type)
            {
                case 0 or 1 or 7: pos += 1; break;
                case 2 or 3: pos += 2; break;
                case 4 or 5 or 6: pos += 4; break;
                case 10 or 11 or 12: pos += 8; break;
                case 8: Str(); break;
                case 9:
                    uint et = U32();
                    ulong n = Len();
                    for (ulong i = 0; i < n; i++) Skip(et);
                    break;
                default: throw new InvalidDataException($"type {type}");
            }
        }
        ulong tensorCount = Len(), kvCount = Len();
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = Str();
            uint type = U32();
            int start = pos;
            Skip(type);
            g.Kvs.Add(new Kv(key, type, b.AsSpan(start, pos - start).ToArray()));
        }
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = Encoding.UTF8.GetString(Str());
            uint nd = U32();
            var dims = new ulong[nd];
            for (int d = 0; d < nd; d++) dims[d] = Len();
            uint type = U32();
            g.SizeFields.Add((pos, 8));
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos));
            pos += 8;
            g.Tensors.Add(new TensorInfo(name, dims, type, off));
        }
        int dataStart = (pos + Alignment - 1) / Alignment * Alignment;
        g.DataStart = dataStart;
        g.Data = b.AsSpan(dataStart).ToArray();
        return g;
    }

    /// <summary>The bytes of a value: a uint32 length/count in v1, uint64 later.</summary>
    public byte[] Count(long n) => Version == 1 ? BitConverter.GetBytes((uint)n) : BitConverter.GetBytes((ulong)n);

    /// <summary>An array value: element type, count, elements.</summary>
    public byte[] ArrayValue(uint elementType, long count, byte[] elements) =>
        [.. BitConverter.GetBytes(elementType), .. Count(count), .. elements];

    /// <summary>The elements of an int32/uint32/float32 array value as 4-byte words.</summary>
    public uint[] Words(Kv kv)
    {
        int at = 4 + LenBytes;
        int n = (kv.Value.Length - at) / 4;
        var w = new uint[n];
        for (int i = 0; i < n; i++) w[i] = BinaryPrimitives.ReadUInt32LittleEndian(kv.Value.AsSpan(at + 4 * i));
        return w;
    }

    public byte[] ToBytes()
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write(Count(Tensors.Count));
        w.Write(Count(Kvs.Count));
        foreach (var kv in Kvs) { w.Write(Count(kv.Key.Length)); w.Write(kv.Key); w.Write(kv.Type); w.Write(kv.Value); }
        foreach (var t in Tensors)
        {
            var name = Encoding.UTF8.GetBytes(t.Name);
            w.Write(Count(name.Length)); w.Write(name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims) w.Write(Count((long)d));
            w.Write(t.Type);
            w.Write(t.Offset);
        }
        w.Flush();
        while (ms.Length % Alignment != 0) ms.WriteByte(0);
        ms.Write(Data);
        return ms.ToArray();
    }
}

/// <summary>A safetensors file taken apart into its JSON header and data section.</summary>
internal sealed class SafetensorsImage
{
    public JsonObject Header = [];
    public byte[] Data = [];

    public static SafetensorsImage Parse(byte[] b)
    {
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(b);
        return new SafetensorsImage
        {
            Header = JsonNode.Parse(b.AsSpan(8, n))!.AsObject(),
            Data = b.AsSpan(8 + n).ToArray(),
        };
    }

    /// <summary>The tensors by data offset (name, begin, end).</summary>
    public List<(string Name, long Begin, long End)> Ranges() =>
        Header.Where(p => p.Key != "__metadata__")
            .Select(p => (p.Key, (long)p.Value!["data_offsets"]![0]!, (long)p.Value!["data_offsets"]![1]!))
            .OrderBy(r => r.Item2).ToList();

    public static byte[] Assemble(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. data];
    }

    public byte[] ToBytes() => Assemble(Header.ToJsonString(), Data);
}
