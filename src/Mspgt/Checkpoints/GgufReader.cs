using System.Buffers.Binary;
using System.Text;

namespace Mspgt.Checkpoints;

/// <summary>
/// One tensor as a GGUF file describes it. <see cref="Dims"/> is innermost first (ggml's ne[]), so an nn.Linear
/// matrix [out, in] has Dims [in, out]; <see cref="Shape"/> is the PyTorch order (outermost first).
/// </summary>
public sealed record GgufTensorInfo(
    string Name,
    long[] Dims,
    int GgmlType,
    string TypeName,
    long Offset,
    long FileOffset,
    long Bytes)
{
    /// <summary>The engine's type for this tensor, or null when mspgt cannot decode ggml type <see cref="GgmlType"/>.</summary>
    public TensorType? Type => TensorTypeInfo.IsKnown(GgmlType) ? (TensorType)GgmlType : null;

    /// <summary>Dimensions outermost first (reverse of <see cref="Dims"/>).</summary>
    public long[] Shape => Dims.Reverse().ToArray();

    public long Elements => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// An open GGUF file: header, metadata and tensor directory parsed and checked; tensor data stay in the mapped file
/// (<see cref="TensorData"/> gives a bounds-checked pointer, no copy). Dispose releases the mapping, so every
/// WeightMatrix built over it must be dropped first (LoadedModel.Owned takes care of that order).
/// </summary>
/// <remarks>
/// Metadata values: every integer type → long (a uint64 above long.MaxValue → ulong), float32/float64 → double,
/// bool → bool, string → string; arrays → string[] / long[] (ulong[] if an element is above long.MaxValue) /
/// double[] / bool[], and arrays of arrays → object[] holding those. <see cref="MetadataTypes"/> keeps the stored
/// type, and every key mspgt reads has been checked against the exact type llama.cpp requires (<see cref="GgufKeyTypes"/>).
/// </remarks>
public sealed unsafe class GgufFile : IDisposable
{
    private readonly MappedFile _file;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    public string Path => _file.Path;
    public long FileLength => _file.Length;
    /// <summary>GGUF format version (1, 2 or 3).</summary>
    public int Version { get; }
    /// <summary>`general.alignment`, or 32 when the file does not set it.</summary>
    public int Alignment { get; }
    /// <summary>Absolute file offset of the tensor data section (tensor offsets are relative to it).</summary>
    public long DataStart { get; }
    public IReadOnlyDictionary<string, object> Metadata { get; }
    /// <summary>The GGUF type each metadata value was stored as (the CLR values in <see cref="Metadata"/> are widened).</summary>
    public IReadOnlyDictionary<string, GgufValueType> MetadataTypes { get; }
    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    private readonly Dictionary<string, object> _metadata;
    private readonly Dictionary<string, GgufValueType> _types;

    internal GgufFile(MappedFile file, int version, int alignment, long dataStart,
        Dictionary<string, object> metadata, Dictionary<string, GgufValueType> types, List<GgufTensorInfo> tensors)
    {
        _file = file; Version = version; Alignment = alignment; DataStart = dataStart;
        Metadata = _metadata = metadata; MetadataTypes = _types = types; Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Removes metadata values that were read into something else and are not read again (a vocabulary's merge
    /// strings, token types and scores once its tokenizer is built: about 15 MB at a 150k vocabulary), so the file,
    /// which lives as long as its mapped tensors, does not keep them too.
    /// </summary>
    public void Forget(params string[] keys)
    {
        foreach (var key in keys) { _metadata.Remove(key); _types.Remove(key); }
    }

    /// <summary>Pointer to the tensor's bytes (range checked against the file; valid until Dispose).</summary>
    public byte* TensorData(GgufTensorInfo t) => _file.Pointer(t.FileOffset, t.Bytes, $"tensor {t.Name}");

    /// <summary>The tensor's bytes as a span (tensors under 2 GiB; use <see cref="TensorData"/> for larger ones).</summary>
    public ReadOnlySpan<byte> TensorSpan(GgufTensorInfo t)
    {
        if (t.Bytes > int.MaxValue)
            throw new MspgtException(Path, $"tensor {t.Name} has {t.Bytes} bytes, too many for one span");
        return new(TensorData(t), (int)t.Bytes);
    }

    // ---- typed metadata access (errors name the file and the key) ----

    public bool Has(string key) => Metadata.ContainsKey(key);

    public string? GetString(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v as string ?? throw TypeError(key, v, "a string");
    }

    public long? GetInteger(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v switch
        {
            long l => l,
            ulong u => throw new MspgtException(Path, $"metadata {key} = {u} is too large"),
            _ => throw TypeError(key, v, "an integer"),
        };
    }

    /// <summary>A float key; integers are accepted too (converted exactly where possible).</summary>
    public double? GetFloat(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v switch
        {
            double d => d,
            long l => l,
            _ => throw TypeError(key, v, "a number"),
        };
    }

    public bool? GetBool(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v as bool? ?? throw TypeError(key, v, "a bool");
    }

    private MspgtException TypeError(string key, object v, string want) =>
        new(Path, $"metadata {key} is {GgufReader.Describe(v)}, expected {want}");

    /// <summary><see cref="MappedFile.DropResidentPages"/> of the file.</summary>
    public void DropResidentPages() => _file.DropResidentPages();

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// Parses llama.cpp GGUF files (versions 1-3, little-endian). Every read is bounds-checked, and every count is checked
/// against the bytes that remain before anything is allocated for it. Keys and tensor names are non-empty, strict
/// UTF-8 and unique; tensor data ranges are aligned, inside the file and do not overlap.
/// </summary>
public static class GgufReader
{
    public const int DefaultAlignment = 32;
    private const int MaxDims = 4;        // GGML_MAX_DIMS
    private const int MaxArrayDepth = 8;  // nested arrays deeper than this are refused (no real file has them)


    /// <summary>ggml's type table (ggml.h / ggml-common.h): name, values per block, bytes per block.</summary>
    private static readonly Dictionary<int, (string Name, int BlockValues, int BlockBytes)> GgmlTypes = new()
    {
        [0] = ("F32", 1, 4), [1] = ("F16", 1, 2), [2] = ("Q4_0", 32, 18), [3] = ("Q4_1", 32, 20),
        [6] = ("Q5_0", 32, 22), [7] = ("Q5_1", 32, 24), [8] = ("Q8_0", 32, 34), [9] = ("Q8_1", 32, 36),
        [10] = ("Q2_K", 256, 84), [11] = ("Q3_K", 256, 110), [12] = ("Q4_K", 256, 144), [13] = ("Q5_K", 256, 176),
        [14] = ("Q6_K", 256, 210), [15] = ("Q8_K", 256, 292), [16] = ("IQ2_XXS", 256, 66), [17] = ("IQ2_XS", 256, 74),
        [18] = ("IQ3_XXS", 256, 98), [19] = ("IQ1_S", 256, 50), [20] = ("IQ4_NL", 32, 18), [21] = ("IQ3_S", 256, 110),
        [22] = ("IQ2_S", 256, 82), [23] = ("IQ4_XS", 256, 136), [24] = ("I8", 1, 1), [25] = ("I16", 1, 2),
        [26] = ("I32", 1, 4), [27] = ("I64", 1, 8), [28] = ("F64", 1, 8), [29] = ("IQ1_M", 256, 56),
        [30] = ("BF16", 1, 2), [34] = ("TQ1_0", 256, 54), [35] = ("TQ2_0", 256, 66), [39] = ("MXFP4", 32, 17),
    };

    public static GgufFile Open(string path)
    {
        var file = MappedFile.Open(path);
        try
        {
            return Parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static GgufFile Parse(MappedFile file)
    {
        var r = new Cursor(file);
        if (file.Length < 4) throw new MspgtException(file.Path, $"not a GGUF file: only {file.Length} bytes");
        var magic = file.Span(0, 4, "magic");
        if (!magic.SequenceEqual("GGUF"u8))
            throw new MspgtException(file.Path,
                $"not a GGUF file: magic is {Convert.ToHexString(magic)} (\"{Printable(magic)}\"), expected \"GGUF\"");
        r.Pos = 4;
        uint version = r.U32("version");
        if (version is >= 1 and <= 3) { }
        else if (BinaryPrimitives.ReverseEndianness(version) is >= 1 and <= 3)
            throw new MspgtException(file.Path, "big-endian GGUF files are not supported");
        else
            throw new MspgtException(file.Path, $"unsupported GGUF version {version} (mspgt reads versions 1 to 3)");
        r.V1 = version == 1;
        try
        {
            return ParseBody(file, r, version);
        }
        catch (MspgtException e) when (version == 1 && ReadsAsV2OrLater(file))
        {
            throw new MspgtException(file.Path, $"{e.Message} (the header says GGUF version 1, but the file reads as version 2 or 3: is its version field wrong?)");
        }
    }

    /// <summary>A v1 header on a v2/v3 file: the 64-bit counts fit the file and the first key is printable text.</summary>
    private static bool ReadsAsV2OrLater(MappedFile file)
    {
        if (file.Length < 32) return false;
        var head = file.Span(8, 24, "header");
        ulong tensors = BinaryPrimitives.ReadUInt64LittleEndian(head), kvs = BinaryPrimitives.ReadUInt64LittleEndian(head[8..]);
        ulong keyLength = BinaryPrimitives.ReadUInt64LittleEndian(head[16..]);
        if (tensors > (ulong)file.Length || kvs == 0 || kvs > (ulong)file.Length || keyLength is 0 or > 256 || 32 + (long)keyLength > file.Length)
            return false;
        foreach (byte c in file.Span(32, (int)keyLength, "first key")) if (c is < 32 or >= 127) return false;
        return true;
    }

    private static GgufFile ParseBody(MappedFile file, Cursor r, uint version)
    {

        long tensorCount = r.Count("tensor count");
        long kvCount = r.Count("metadata key/value count");
        // each key/value takes at least a key length, a type and a 1-byte value; each tensor info at least
        // a name length, n_dims, one dim, type and offset
        RequireCount(file, kvCount, r.LenBytes + 4 + 1, r.Pos, "metadata key/value count");
        RequireCount(file, tensorCount, r.LenBytes * 2 + 4 + 4 + 8, r.Pos, "tensor count");

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        var types = new Dictionary<string, GgufValueType>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            string key = r.Name($"metadata key {i}");
            if (metadata.ContainsKey(key)) throw new MspgtException(file.Path, $"duplicate metadata key {key}");
            uint type = r.U32($"type of metadata {key}");
            long elementTypeAt = r.Pos; // an array's element type is its value's first field
            object value = ReadValue(ref r, type, key, 0);
            metadata.Add(key, value);
            types.Add(key, new GgufValueType((GgufType)type,
                (GgufType)type == GgufType.Array ? (GgufType)BinaryPrimitives.ReadUInt32LittleEndian(file.Span(elementTypeAt, 4, key)) : null));
        }
        GgufKeyTypes.Check(file.Path, types, metadata);

        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var alignObj))
        {
            if (alignObj is not long a || a <= 0 || a > 1 << 30 || (a & (a - 1)) != 0)
                throw new MspgtException(file.Path, $"general.alignment {Describe(alignObj)} is not a positive power of two");
            alignment = (int)a;
        }

        var infos = new List<(string Name, long[] Dims, int Type, long Offset)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = r.Name($"name of tensor {i}");
            if (!names.Add(name)) throw new MspgtException(file.Path, $"duplicate tensor {name}");
            uint nDims = r.U32($"dimension count of tensor {name}");
            if (nDims is 0 or > MaxDims)
                throw new MspgtException(file.Path, $"tensor {name} has {nDims} dimensions (ggml allows 1 to {MaxDims})");
            var dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                dims[d] = r.Count($"dimension {d} of tensor {name}");
            }
            uint type = r.U32($"type of tensor {name}");
            ulong offset = r.U64($"offset of tensor {name}");
            if (offset > long.MaxValue)
                throw new MspgtException(file.Path, $"tensor {name} has an absurd data offset {offset}");
            infos.Add((name, dims, (int)Math.Min(type, int.MaxValue), (long)offset));
        }

        long dataStart = AlignUp(r.Pos, alignment);
        if (dataStart > file.Length)
            throw new MspgtException(file.Path,
                $"truncated or corrupt: the tensor data section starts at byte {dataStart} but the file has {file.Length}");

        var tensors = new List<GgufTensorInfo>(infos.Count);
        foreach (var (name, dims, type, offset) in infos)
        {
            if (!GgmlTypes.TryGetValue(type, out var tt))
                throw new MspgtException(file.Path, $"tensor {name} has unknown ggml type {type}");
            if (dims[0] % tt.BlockValues != 0)
                throw new MspgtException(file.Path,
                    $"tensor {name}: row length {dims[0]} is not a multiple of the {tt.Name} block size {tt.BlockValues}");
            long bytes;
            try
            {
                long rows = 1;
                for (int d = 1; d < dims.Length; d++) rows = checked(rows * dims[d]);
                bytes = checked(dims[0] / tt.BlockValues * tt.BlockBytes * rows);
            }
            catch (OverflowException)
            {
                throw new MspgtException(file.Path, $"tensor {name} has absurd dimensions [{string.Join(", ", dims)}]");
            }
            if (offset % alignment != 0)
                throw new MspgtException(file.Path, $"tensor {name} has offset {offset}, not a multiple of the alignment {alignment}");
            long fileOffset = dataStart + offset;
            if (offset > file.Length || bytes > file.Length - dataStart - offset)
                throw new MspgtException(file.Path,
                    $"truncated or corrupt: tensor {name} needs bytes {fileOffset}..{fileOffset + bytes} but the file has {file.Length}");
            tensors.Add(new GgufTensorInfo(name, dims, type, tt.Name, offset, fileOffset, bytes));
        }
        RefuseOverlaps(file.Path, tensors);

        return new GgufFile(file, (int)version, alignment, dataStart, metadata, types, tensors);
    }

    /// <summary>Two tensors whose data ranges share a byte would alias one another's weights: refused (sorted by offset,
    /// each must end before the next begins; empty tensors take no bytes).</summary>
    private static void RefuseOverlaps(string path, List<GgufTensorInfo> tensors)
    {
        var byOffset = tensors.Where(t => t.Bytes > 0).OrderBy(t => t.Offset).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var (a, b) = (byOffset[i - 1], byOffset[i]);
            if (a.Offset + a.Bytes > b.Offset)
                throw new MspgtException(path,
                    $"tensors {a.Name} (data bytes {a.Offset}..{a.Offset + a.Bytes}) and {b.Name} (from {b.Offset}) overlap");
        }
    }

    private static object ReadValue(ref Cursor r, uint type, string key, int depth)
    {
        switch ((GgufType)type)
        {
            case GgufType.UInt8: return (long)r.Bytes(1, key)[0];
            case GgufType.Int8: return (long)(sbyte)r.Bytes(1, key)[0];
            case GgufType.UInt16: return (long)BinaryPrimitives.ReadUInt16LittleEndian(r.Bytes(2, key));
            case GgufType.Int16: return (long)BinaryPrimitives.ReadInt16LittleEndian(r.Bytes(2, key));
            case GgufType.UInt32: return (long)r.U32(key);
            case GgufType.Int32: return (long)BinaryPrimitives.ReadInt32LittleEndian(r.Bytes(4, key));
            case GgufType.UInt64:
                {
                    ulong u = r.U64(key);
                    return u <= long.MaxValue ? (long)u : u;
                }
            case GgufType.Int64: return BinaryPrimitives.ReadInt64LittleEndian(r.Bytes(8, key));
            case GgufType.Float32: return (double)BinaryPrimitives.ReadSingleLittleEndian(r.Bytes(4, key));
            case GgufType.Float64: return BinaryPrimitives.ReadDoubleLittleEndian(r.Bytes(8, key));
            case GgufType.Bool: return r.Bytes(1, key)[0] != 0;
            case GgufType.String: return r.String($"value of {key}");
            case GgufType.Array: return ReadArray(ref r, key, depth + 1);
            default:
                throw new MspgtException(r.File.Path, $"metadata {key} has unknown value type {type}");
        }
    }

    private static object ReadArray(ref Cursor r, string key, int depth)
    {
        if (depth > MaxArrayDepth)
            throw new MspgtException(r.File.Path, $"metadata {key} nests arrays more than {MaxArrayDepth} deep");
        uint elemType = r.U32($"element type of {key}");
        long n = r.Count($"length of {key}");
        int minBytes = (GgufType)elemType switch
        {
            GgufType.UInt8 or GgufType.Int8 or GgufType.Bool => 1,
            GgufType.UInt16 or GgufType.Int16 => 2,
            GgufType.UInt32 or GgufType.Int32 or GgufType.Float32 => 4,
            GgufType.UInt64 or GgufType.Int64 or GgufType.Float64 => 8,
            GgufType.String => r.LenBytes,
            GgufType.Array => 4 + r.LenBytes,
            _ => throw new MspgtException(r.File.Path, $"metadata {key} is an array of unknown value type {elemType}"),
        };
        RequireCount(r.File, n, minBytes, r.Pos, $"length of {key}");
        int count = (int)n; // RequireCount bounded n by int.MaxValue and by the bytes left in the file
        switch ((GgufType)elemType)
        {
            case GgufType.String:
                {
                    var a = new string[count];
                    for (int i = 0; i < count; i++) a[i] = r.String($"element {i} of {key}");
                    return a;
                }
            case GgufType.Float32:
            case GgufType.Float64:
                {
                    var a = new double[count];
                    for (int i = 0; i < count; i++) a[i] = (double)ReadValue(ref r, elemType, key, depth);
                    return a;
                }
            case GgufType.Bool:
                {
                    var a = new bool[count];
                    for (int i = 0; i < count; i++) a[i] = (bool)ReadValue(ref r, elemType, key, depth);
                    return a;
                }
            case GgufType.Array:
                {
                    var a = new object[count];
                    for (int i = 0; i < count; i++) a[i] = ReadArray(ref r, key, depth + 1);
                    return a;
                }
            case GgufType.UInt64:
                {
                    var u = new ulong[count];
                    bool big = false;
                    for (int i = 0; i < count; i++) { u[i] = r.U64(key); big |= u[i] > long.MaxValue; }
                    if (big) return u;
                    var a = new long[count];
                    for (int i = 0; i < count; i++) a[i] = (long)u[i];
                    return a;
                }
            default:
                {
                    var a = new long[count];
                    for (int i = 0; i < count; i++) a[i] = (long)ReadValue(ref r, elemType, key, depth);
                    return a;
                }
        }
    }

    /// <summary>Refuses a count whose elements (at least minBytes each) could not fit in the rest of the file.</summary>
    private static void RequireCount(MappedFile file, long count, int minBytes, long pos, string what)
    {
        long remaining = file.Length - pos;
        if (count < 0 || count > int.MaxValue || count > remaining / minBytes)
            throw new MspgtException(file.Path,
                $"truncated or corrupt: {what} is {count}, but only {remaining} bytes follow");
    }

    private static long AlignUp(long x, int alignment) => (x + alignment - 1) / alignment * alignment;

    internal static string Describe(object v) => v switch
    {
        string s => $"the string \"{(s.Length > 40 ? s[..40] + "..." : s)}\"",
        long l => $"the integer {l}",
        ulong u => $"the integer {u}",
        double d => $"the number {d}",
        bool b => $"the bool {b}",
        Array a => $"an array of {a.Length} values",
        _ => v.GetType().Name,
    };

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    private static string Printable(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder();
        foreach (byte c in b) sb.Append(c is >= 32 and < 127 ? (char)c : '.');
        return sb.ToString();
    }

    /// <summary>Reads little-endian fields at a position; v1 files use uint32 where v2+ use uint64.</summary>
    private struct Cursor(MappedFile file)
    {
        public readonly MappedFile File = file;
        public long Pos;
        public bool V1;

        /// <summary>Bytes of a length/count field (4 in v1, 8 in v2+).</summary>
        public readonly int LenBytes => V1 ? 4 : 8;

        public ReadOnlySpan<byte> Bytes(int n, string what)
        {
            var s = File.Span(Pos, n, what);
            Pos += n;
            return s;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));

        public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what));

        /// <summary>A count or length: uint32 in v1, uint64 in v2+; refused above long.MaxValue.</summary>
        public long Count(string what)
        {
            ulong v = V1 ? U32(what) : U64(what);
            if (v > long.MaxValue) throw new MspgtException(File.Path, $"{what} is absurd ({v})");
            return (long)v;
        }

        public string String(string what) => Encoding.UTF8.GetString(StringBytes(what));

        /// <summary>A metadata key or a tensor name: non-empty, valid UTF-8 (decoded strictly) and free of control
        /// characters, so that every error naming it stays one readable line. (Values are decoded leniently, as
        /// llama.cpp reads them: an invalid sequence in a token becomes U+FFFD.)</summary>
        public string Name(string what)
        {
            var bytes = StringBytes(what);
            if (bytes.Length == 0) throw new MspgtException(File.Path, $"{what} is empty");
            string s;
            try { s = StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException)
            {
                throw new MspgtException(File.Path, $"{what} is not valid UTF-8 (bytes {Convert.ToHexString(bytes[..Math.Min(bytes.Length, 16)])})");
            }
            foreach (char c in s)
                if (char.IsControl(c))
                    throw new MspgtException(File.Path, $"{what} holds the control character U+{(int)c:X4} (\"{Printable(bytes[..Math.Min(bytes.Length, 40)])}\")");
            return s;
        }

        private ReadOnlySpan<byte> StringBytes(string what)
        {
            long len = Count($"length of {what}");
            if (len > int.MaxValue || len > File.Length - Pos)
                throw new MspgtException(File.Path,
                    $"truncated or corrupt: {what} claims {len} bytes but only {File.Length - Pos} follow");
            return Bytes((int)len, what);
        }
    }
}
