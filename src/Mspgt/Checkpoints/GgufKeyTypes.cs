namespace Mspgt.Checkpoints;

/// <summary>GGUF's value types (gguf_type in ggml's gguf.h), numbered as the file stores them.</summary>
public enum GgufType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>How one metadata value is stored: its type and, for an array, its elements' type.</summary>
public readonly record struct GgufValueType(GgufType Type, GgufType? Element = null)
{
    public override string ToString() => Type == GgufType.Array ? $"an array of {Name(Element!.Value)}" : Name(Type);

    private static string Name(GgufType t) => t switch
    {
        GgufType.Bool => "bool",
        GgufType.String => "string",
        GgufType.Array => "array",
        _ => t.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// The exact types llama.cpp requires of the keys mspgt reads (llama.cpp's model loader refuses any other: a uint8
/// token_type array read as int32 would be read past, a uint16 id read as uint32 would be misread). Checked once, when
/// the file is opened, so every reader of <see cref="GgufFile.Metadata"/> sees values of the right width.
/// </summary>
public static class GgufKeyTypes
{
    private static readonly GgufValueType U32 = new(GgufType.UInt32), F32 = new(GgufType.Float32),
        Str = new(GgufType.String), Bool = new(GgufType.Bool);

    /// <summary>Keys named in full.</summary>
    private static readonly Dictionary<string, GgufValueType[]> Global = new(StringComparer.Ordinal)
    {
        ["general.architecture"] = [Str],
        ["general.name"] = [Str],
        ["general.alignment"] = [U32],
        ["general.file_type"] = [U32],
        ["general.quantization_version"] = [U32],
        ["tokenizer.ggml.model"] = [Str],
        ["tokenizer.ggml.pre"] = [Str],
        ["tokenizer.ggml.tokens"] = [new(GgufType.Array, GgufType.String)],
        ["tokenizer.ggml.token_type"] = [new(GgufType.Array, GgufType.Int32)],
        ["tokenizer.ggml.scores"] = [new(GgufType.Array, GgufType.Float32)],
        ["tokenizer.ggml.merges"] = [new(GgufType.Array, GgufType.String)],
        ["tokenizer.ggml.bos_token_id"] = [U32],
        ["tokenizer.ggml.eos_token_id"] = [U32],
        ["tokenizer.ggml.unknown_token_id"] = [U32],
        ["tokenizer.ggml.padding_token_id"] = [U32],
        ["tokenizer.ggml.seperator_token_id"] = [U32],
        ["tokenizer.ggml.add_bos_token"] = [Bool],
        ["tokenizer.ggml.add_eos_token"] = [Bool],
        ["tokenizer.ggml.add_space_prefix"] = [Bool],
    };

    /// <summary>Keys under the architecture's prefix (`llama.`, `qwen3.`, …); per-layer counts may be arrays of
    /// int32 or uint32, as llama.cpp's get_key_or_arr takes them.</summary>
    private static readonly Dictionary<string, GgufValueType[]> PerArchitecture = new(StringComparer.Ordinal)
    {
        ["context_length"] = [U32],
        ["embedding_length"] = [U32],
        ["block_count"] = [U32],
        ["vocab_size"] = [U32],
        ["expert_count"] = [U32],
        ["feed_forward_length"] = [U32, new(GgufType.Array, GgufType.UInt32), new(GgufType.Array, GgufType.Int32)],
        ["attention.head_count"] = [U32, new(GgufType.Array, GgufType.UInt32), new(GgufType.Array, GgufType.Int32)],
        ["attention.head_count_kv"] = [U32, new(GgufType.Array, GgufType.UInt32), new(GgufType.Array, GgufType.Int32)],
        ["attention.key_length"] = [U32],
        ["attention.value_length"] = [U32],
        ["attention.layer_norm_rms_epsilon"] = [F32],
        ["attention.sliding_window"] = [U32],
        ["rope.dimension_count"] = [U32],
        ["rope.freq_base"] = [F32],
        ["rope.scaling.type"] = [Str],
        ["rope.scaling.factor"] = [F32],
        ["rope.scale_linear"] = [F32],
        ["tensor_data_layout"] = [Str],
    };

    /// <summary>The types a key must have, or null when mspgt does not read it (any type is then accepted).</summary>
    public static IReadOnlyList<GgufValueType>? Required(string key, string? architecture)
    {
        if (Global.TryGetValue(key, out var t)) return t;
        if (architecture is { Length: > 0 } && key.Length > architecture.Length + 1
            && key.StartsWith(architecture, StringComparison.Ordinal) && key[architecture.Length] == '.'
            && PerArchitecture.TryGetValue(key[(architecture.Length + 1)..], out t)) return t;
        return null;
    }

    /// <summary>Refuses the first key whose stored type is not one llama.cpp requires of it.</summary>
    public static void Check(string path, IReadOnlyDictionary<string, GgufValueType> types, IReadOnlyDictionary<string, object> values)
    {
        // general.architecture names the prefix of the per-architecture keys, so its own type is checked first
        if (types.TryGetValue("general.architecture", out var archType)) Require(path, "general.architecture", archType, null);
        string? arch = values.GetValueOrDefault("general.architecture") as string;
        foreach (var (key, type) in types) Require(path, key, type, arch);
    }

    private static void Require(string path, string key, GgufValueType type, string? architecture)
    {
        var want = Required(key, architecture);
        if (want is null || want.Contains(type)) return;
        throw new MspgtException(path,
            $"metadata {key} is {Article(type)}, but llama.cpp requires {string.Join(" or ", want.Select(Article))}");
    }

    private static string Article(GgufValueType t)
    {
        string s = t.ToString();
        return s.StartsWith("an ", StringComparison.Ordinal) ? s : (s[0] is 'a' or 'e' or 'i' or 'o' ? "an " : "a ") + s;
    }
}
