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

    /// <summary>Float32 tensors, written straight from their memory (no copy: training checkpoints use this).</summary>
    public static void Write(Stream output, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        WriteHeader(output, tensors.Select(t => (t.Name, "F32", 4, t.Shape, (long)t.Data.Length * 4)), metadata);
        foreach (var t in tensors) output.Write(MemoryMarshal.AsBytes(t.Data.Span));
    }

    public static void Write(Stream output, IReadOnlyList<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        WriteHeader(output, tensors.Select(t => (t.Name, t.DType, t.ElementBytes, t.Shape, (long)t.Bytes.Length)), metadata);
        foreach (var t in tensors) output.Write(t.Bytes.Span);
    }

    /// <summary>
    /// A tensor whose bytes are produced while the file is written (a model far larger than memory): WriteData
    /// must write exactly the shape's bytes to the stream it is given.
    /// </summary>
    public sealed record StreamedTensor(string Name, string DType, int ElementBytes, int[] Shape, Action<Stream> WriteData)
    {
        public long ByteLength => Shape.Aggregate((long)ElementBytes, (a, b) => a * b);
    }

    /// <summary>Tensors written one after another as their writers produce them; checks each wrote its length.</summary>
    public static void Write(Stream output, IReadOnlyList<StreamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        WriteHeader(output, tensors.Select(t => (t.Name, t.DType, t.ElementBytes, t.Shape, t.ByteLength)), metadata);
        foreach (var t in tensors)
        {
            long start = output.Position;
            t.WriteData(output);
            if (output.Position - start != t.ByteLength)
                throw new InvalidOperationException($"tensor {t.Name}: wrote {output.Position - start} bytes, its shape needs {t.ByteLength}");
        }
    }

    /// <summary>The length prefix and the JSON header for tensors laid out back to back in the given order.</summary>
    private static void WriteHeader(Stream output, IEnumerable<(string Name, string DType, int ElementBytes, int[] Shape, long Bytes)> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
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
                if (count * t.ElementBytes != t.Bytes) throw new ArgumentException($"tensor {t.Name}: shape does not match data length");
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Bytes;
            }
            w.WriteEndObject();
        }
        var header = headerJson.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
        output.Write(len);
        output.Write(header.ToArray());
    }
}
