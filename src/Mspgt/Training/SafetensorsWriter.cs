using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Mspgt.Training;

/// <summary>
/// Writes float32 tensors as a safetensors file: 8-byte little-endian header length, a JSON header (padded with
/// spaces to a multiple of 8 bytes) mapping each name to dtype "F32", shape and data_offsets, then the raw data.
/// </summary>
public static class SafetensorsWriter
{
    public sealed record Tensor(string Name, int[] Shape, ReadOnlyMemory<float> Data);

    public static void Write(Stream output, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
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
                if (count != t.Data.Length) throw new ArgumentException($"tensor {t.Name}: shape does not match data length");
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + count * 4);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += count * 4;
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
        foreach (var t in tensors) output.Write(MemoryMarshal.AsBytes(t.Data.Span));
    }
}
