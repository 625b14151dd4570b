using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using Mspgt.Checkpoints;

namespace Mspgt.Numerics;

/// <summary>
/// Widens / dequantizes one stored row to float32, block by block, exactly as ggml's dequantize_row_* does.
/// Used inside the matmul on small row panels, so a quantized model is never expanded up front.
/// </summary>
public static class RowDecoder
{
    public static void Decode(TensorType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case TensorType.F32:
                MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);
                break;
            case TensorType.F16:
                DecodeF16(src, dst);
                break;
            case TensorType.BF16:
                DecodeBf16(src, dst);
                break;
            case TensorType.Q8_0:
                QuantBlocks.DequantizeQ8_0(src, dst);
                break;
            case TensorType.Q4_0:
                QuantBlocks.DequantizeQ4_0(src, dst);
                break;
            case TensorType.Q4_K:
                QuantBlocks.DequantizeQ4_K(src, dst);
                break;
            case TensorType.Q6_K:
                QuantBlocks.DequantizeQ6_K(src, dst);
                break;
            default:
                throw new NotSupportedException($"tensor type {type} cannot be decoded");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var halves = MemoryMarshal.Cast<byte, Half>(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)halves[i];
    }

    /// <summary>BF16 → F32 is exact: the 16 bits become the high half of the float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeBf16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var u16 = MemoryMarshal.Cast<byte, ushort>(src)[..dst.Length];
        var u32 = MemoryMarshal.Cast<float, uint>(dst);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort s0 = ref MemoryMarshal.GetReference(u16);
            ref uint d0 = ref MemoryMarshal.GetReference(u32);
            for (; i + 16 <= u32.Length; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s0, (nuint)i));
                Vector256.ShiftLeft(lo, 16).StoreUnsafe(ref d0, (nuint)i);
                Vector256.ShiftLeft(hi, 16).StoreUnsafe(ref d0, (nuint)(i + 8));
            }
        }
        for (; i < u32.Length; i++) u32[i] = (uint)u16[i] << 16;
    }
}
