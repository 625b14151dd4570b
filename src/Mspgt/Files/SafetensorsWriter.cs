using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Mspgt.Files;

/// <summary>
/// Writes tensors as a safetensors file: 8-byte little-endian header length, a JSON header (padded with spaces to a
/// multiple of 8 bytes) mapping each name to its dtype, shape and data_offsets, then the raw little-endian data in
/// the header's order. Readable by the `safetensors` Python package and by mspgt's own reader.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>A float32 tensor.</summary>
    public sealed record Tensor(string Name, int[] Shape, ReadOnlyMemory<float> Data);

    /// <summary>A tensor of any dtype the format names ("F32", "I64", …) given as its bytes.</summary>
    public sealed record RawTensor(string Name, string DType, int ElementBytes, int[] Shape, ReadOnlyMemory<byte> Bytes);

    /// <summary>A 64-bit integer tensor (torch's dtype for token ids).</summary>
    public static RawTensor Int64(string name, IReadOnlyList<int> values) =>
        new(name, "I64", 8, [values.Count], MemoryMarshal.AsBytes(values.Select(v => (long)v).ToArray().AsSpan()).ToArray());

    public static void Write(Stream output, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(output, tensors.Select(t => new RawTensor(t.Name, "F32", 4, t.Shape, MemoryMarshal.AsBytes(t.Data.Span).ToArray())).ToList(), metadata);

    public static void Write(Stream output, IReadOnlyList<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var headerJson = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerJson))
        {
            w.WriteStartObject();
            if (metadata != null)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                long count = t.Shape.Aggregate(1L, (a, b) => a * b);
                if (count * t.ElementBytes != t.Bytes.Length) throw new ArgumentException($"tensor {t.Name}: shape does not match data length");
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + count * t.ElementBytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += count * t.ElementBytes;
            }
            w.WriteEndObject();
        }
        var header = headerJson.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
        output.Write(len);
        output.Write(header.ToArray());
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        foreach (var t in tensors) output.Write(t.Bytes.Span);
    }
}
