using System.Text;
using Mspgt.Checkpoints;

namespace Mspgt.Loading;

/// <summary>
/// Writes a GGUF v3 file (little-endian): header, metadata key/values, tensor directory, then each tensor's data at
/// an offset aligned to 32 bytes (the default general.alignment), as <see cref="GgufReader"/> and llama.cpp read it.
/// Metadata is held in memory (a tokenizer is a few MB); tensor data are streamed by the callbacks, so a file of
/// any size is written with little memory.
/// </summary>
internal sealed class GgufWriter
{
    /// <summary>One tensor: its name, ggml dims (innermost first, as GGUF stores them), ggml type, byte size, and
    /// a callback that writes exactly <see cref="Bytes"/> bytes.</summary>
    public sealed record Tensor(string Name, long[] Dims, TensorType Type, long Bytes, Action<Stream> Write);

    private readonly List<(string Key, GgufType Type, GgufType Element, object Value)> _metadata = [];

    public void Add(string key, uint value) => _metadata.Add((key, GgufType.UInt32, default, value));
    public void Add(string key, float value) => _metadata.Add((key, GgufType.Float32, default, value));
    public void Add(string key, bool value) => _metadata.Add((key, GgufType.Bool, default, value));
    public void Add(string key, string value) => _metadata.Add((key, GgufType.String, default, value));
    public void Add(string key, IReadOnlyList<string> values) => _metadata.Add((key, GgufType.Array, GgufType.String, values));
    public void Add(string key, IReadOnlyList<int> values) => _metadata.Add((key, GgufType.Array, GgufType.Int32, values));

    public void Write(Stream output, IReadOnlyList<Tensor> tensors)
    {
        const int alignment = GgufReader.DefaultAlignment;
        using var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, type, element, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)type);
            switch (value)
            {
                case uint u: w.Write(u); break;
                case float f: w.Write(f); break;
                case bool b: w.Write(b ? (byte)1 : (byte)0); break;
                case string s: WriteString(w, s); break;
                case IReadOnlyList<string> list:
                    w.Write((uint)element);
                    w.Write((ulong)list.Count);
                    foreach (var s in list) WriteString(w, s);
                    break;
                case IReadOnlyList<int> list:
                    w.Write((uint)element);
                    w.Write((ulong)list.Count);
                    foreach (int i in list) w.Write(i);
                    break;
                default: throw new InvalidOperationException($"metadata {key}: no GGUF encoding for {value.GetType().Name}");
            }
        }
        long offset = 0;
        var offsets = new long[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (long d in t.Dims) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offsets[i] = offset;
            offset = Align(offset + t.Bytes, alignment);
        }
        w.Flush();
        long dataStart = Align(output.Position, alignment);
        Pad(output, dataStart - output.Position);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            Pad(output, dataStart + offsets[i] - output.Position);
            long before = output.Position;
            t.Write(output);
            if (output.Position - before != t.Bytes)
                throw new InvalidOperationException($"tensor {t.Name}: wrote {output.Position - before} bytes, its directory entry says {t.Bytes}");
        }
        Pad(output, Align(output.Position - dataStart, alignment) + dataStart - output.Position);
    }

    private static long Align(long x, int alignment) => (x + alignment - 1) / alignment * alignment;

    private static void Pad(Stream s, long n)
    {
        for (long i = 0; i < n; i++) s.WriteByte(0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
