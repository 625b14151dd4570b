namespace Mspgt.Checkpoints;

/// <summary>Element / block types of stored weights. Values are ggml's type ids, so GGUF files map directly.</summary>
public enum TensorType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q4_K = 12,
    Q6_K = 14,
    BF16 = 30,
}

public static class TensorTypeInfo
{
    /// <summary>Values per block (1 for plain float types).</summary>
    public static int BlockSize(TensorType t) => t switch
    {
        TensorType.F32 or TensorType.F16 or TensorType.BF16 => 1,
        TensorType.Q4_0 or TensorType.Q8_0 => 32,
        TensorType.Q4_K or TensorType.Q6_K => 256,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown tensor type"),
    };

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(TensorType t) => t switch
    {
        TensorType.F32 => 4,
        TensorType.F16 or TensorType.BF16 => 2,
        TensorType.Q4_0 => 18,
        TensorType.Q8_0 => 34,
        TensorType.Q4_K => 144,
        TensorType.Q6_K => 210,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown tensor type"),
    };

    public static bool IsKnown(int ggmlType) => Enum.IsDefined(typeof(TensorType), ggmlType);

    /// <summary>Bytes taken by one row of <paramref name="cols"/> values; cols must be a multiple of the block size.</summary>
    public static long RowBytes(TensorType t, long cols)
    {
        int bs = BlockSize(t);
        if (cols % bs != 0)
            throw new ArgumentException($"row length {cols} is not a multiple of the {t} block size {bs}");
        return cols / bs * BlockBytes(t);
    }
}
