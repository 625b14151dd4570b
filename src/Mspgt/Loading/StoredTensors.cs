using Mspgt.Checkpoints;
using Mspgt.Numerics;

namespace Mspgt.Loading;

/// <summary>Builds engine weights over bytes in a mapped file (bounds-checked once, then zero-copy).</summary>
internal static unsafe class StoredTensors
{
    public static WeightMatrix Matrix(MappedFile file, string name, long offset, TensorType type, int rows, int cols)
    {
        long bytes = TensorTypeInfo.RowBytes(type, cols) * rows;
        byte* p = file.Pointer(offset, bytes, $"tensor {name}");
        return new WeightMatrix(name, rows, cols, type, p, file);
    }

    /// <summary>Small vectors (norm weights, biases) are widened to float32 copies.</summary>
    public static float[] Vector(MappedFile file, string name, long offset, TensorType type, int count)
    {
        if (type is not (TensorType.F32 or TensorType.F16 or TensorType.BF16))
            throw new MspgtException(file.Path, $"tensor {name} is a vector stored as {type}; expected F32, F16 or BF16");
        long bytes = TensorTypeInfo.RowBytes(type, count);
        var src = file.Span(offset, checked((int)bytes), $"tensor {name}");
        var v = new float[count];
        RowDecoder.Decode(type, src, v);
        return v;
    }
}
