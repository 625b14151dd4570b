using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mspgt.Numerics;

/// <summary>
/// ggml block quantization formats (Q8_0, Q4_0, Q4_K, Q6_K): dequantization of whole rows, giving bit for bit the
/// float32 values of ggml's <c>dequantize_row_*</c> (same operations in the same order; see the block layouts in
/// shared/fixtures/README.md). <c>dst.Length</c> values are written; it must be a multiple of the block size and
/// <c>src</c> must hold at least that many blocks.
/// </summary>
/// <remarks>
/// These run inside the matmul on row panels, so the block loops use raw pointers (lengths are checked once per
/// row) and Vector256 where the hardware has it. Every product below is either exact in float32 or computed in the
/// same order as ggml, so the vector and scalar paths agree bit for bit (tests check both).
/// </remarks>
public static unsafe class QuantBlocks
{
    public const int Q8_0BlockBytes = 34;
    public const int Q4_0BlockBytes = 18;
    public const int Q4_KBlockBytes = 144;
    public const int Q6_KBlockBytes = 210;

    /// <summary>Q8_0: fp16 d, 32 × int8 q; value = q * d (exact: 11-bit × 8-bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeQ8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 32, Q8_0BlockBytes, "Q8_0");
        if (!Vector256.IsHardwareAccelerated) { DequantizeQ8_0Scalar(src, dst); return; }
        fixed (byte* s0 = src)
        fixed (float* d0 = dst)
        {
            byte* s = s0;
            float* y = d0;
            for (int b = 0; b < nb; b++, s += Q8_0BlockBytes, y += 32)
            {
                var d = Vector256.Create(HalfAt(s));
                var q = Vector256.Load((sbyte*)(s + 2));
                Store32(q, d, y);
            }
        }
    }

    /// <summary>Q4_0: fp16 d, 16 bytes (value j low nibble, value j+16 high nibble); value = (nibble - 8) * d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeQ4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 32, Q4_0BlockBytes, "Q4_0");
        if (!Vector256.IsHardwareAccelerated) { DequantizeQ4_0Scalar(src, dst); return; }
        var low4 = Vector128.Create((byte)0x0F);
        var eight = Vector256.Create((sbyte)8);
        fixed (byte* s0 = src)
        fixed (float* d0 = dst)
        {
            byte* s = s0;
            float* y = d0;
            for (int b = 0; b < nb; b++, s += Q4_0BlockBytes, y += 32)
            {
                var d = Vector256.Create(HalfAt(s));
                var packed = Vector128.Load(s + 2);
                // lanes 0..15 = low nibbles (values 0..15), lanes 16..31 = high nibbles (values 16..31)
                var nibbles = Vector256.Create(packed & low4, Vector128.ShiftRightLogical(packed, 4));
                Store32(nibbles.AsSByte() - eight, d, y);
            }
        }
    }

    /// <summary>
    /// Q4_K: fp16 d, fp16 dmin, 12 bytes of packed 6-bit scales/mins, 128 bytes of nibbles (8 sub-blocks of 32).
    /// value = (d * sc) * q - (dmin * m); both products are exact in float32, so only the subtraction rounds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeQ4_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 256, Q4_KBlockBytes, "Q4_K");
        if (!Vector256.IsHardwareAccelerated) { DequantizeQ4_KScalar(src, dst); return; }
        var low4 = Vector256.Create((byte)0x0F);
        fixed (byte* s0 = src)
        fixed (float* d0 = dst)
        {
            byte* s = s0;
            float* y = d0;
            for (int b = 0; b < nb; b++, s += Q4_KBlockBytes, y += 256)
            {
                float d = HalfAt(s), dmin = HalfAt(s + 2);
                byte* scales = s + 4;
                byte* qs = s + 16;
                for (int c = 0; c < 4; c++, qs += 32, y += 64)
                {
                    ScaleMinK4(2 * c, scales, out int sc1, out int m1);
                    ScaleMinK4(2 * c + 1, scales, out int sc2, out int m2);
                    var packed = Vector256.Load(qs);
                    StoreAffine32(packed & low4, d * sc1, dmin * m1, y);
                    StoreAffine32(Vector256.ShiftRightLogical(packed, 4), d * sc2, dmin * m2, y + 32);
                }
                y -= 256;
            }
        }
    }

    /// <summary>
    /// Q6_K: ql[128], qh[64], int8 scales[16], fp16 d (16 sub-blocks of 16). value = (d * scale) * (q - 32), in
    /// that order (ggml's <c>d * sc[is] * q</c>); d * scale is exact, the second product rounds once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeQ6_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 256, Q6_KBlockBytes, "Q6_K");
        if (!Vector256.IsHardwareAccelerated) { DequantizeQ6_KScalar(src, dst); return; }
        var low4 = Vector256.Create((byte)0x0F);
        var three = Vector256.Create((byte)3);
        var bias = Vector256.Create((sbyte)32);
        fixed (byte* s0 = src)
        fixed (float* d0 = dst)
        {
            byte* s = s0;
            float* y = d0;
            for (int b = 0; b < nb; b++, s += Q6_KBlockBytes, y += 256)
            {
                float d = HalfAt(s + 208);
                sbyte* sc = (sbyte*)(s + 192);
                for (int h = 0; h < 2; h++)
                {
                    byte* ql = s + 64 * h;
                    byte* qh = s + 128 + 32 * h;
                    sbyte* hsc = sc + 8 * h;
                    float* yh = y + 128 * h;
                    var l0 = Vector256.Load(ql);
                    var l1 = Vector256.Load(ql + 32);
                    var hb = Vector256.Load(qh);
                    var q0 = (l0 & low4) | Vector256.ShiftLeft(hb & three, 4);
                    var q1 = (l1 & low4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 2) & three, 4);
                    var q2 = Vector256.ShiftRightLogical(l0, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 4) & three, 4);
                    var q3 = Vector256.ShiftRightLogical(l1, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 6), 4);
                    // values l + 32k (l = 0..31): lanes 0..15 use scale 2k, lanes 16..31 scale 2k + 1
                    StoreScaled32(q0.AsSByte() - bias, d * hsc[0], d * hsc[1], yh);
                    StoreScaled32(q1.AsSByte() - bias, d * hsc[2], d * hsc[3], yh + 32);
                    StoreScaled32(q2.AsSByte() - bias, d * hsc[4], d * hsc[5], yh + 64);
                    StoreScaled32(q3.AsSByte() - bias, d * hsc[6], d * hsc[7], yh + 96);
                }
            }
        }
    }

    // ---- scalar reference paths (used when Vector256 is not accelerated; tests check them too) ----

    internal static void DequantizeQ8_0Scalar(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 32, Q8_0BlockBytes, "Q8_0");
        fixed (byte* s0 = src)
        fixed (float* y = dst)
        {
            for (int b = 0; b < nb; b++)
            {
                byte* s = s0 + b * Q8_0BlockBytes;
                float d = HalfAt(s);
                sbyte* q = (sbyte*)(s + 2);
                for (int j = 0; j < 32; j++) y[b * 32 + j] = q[j] * d;
            }
        }
    }

    internal static void DequantizeQ4_0Scalar(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 32, Q4_0BlockBytes, "Q4_0");
        fixed (byte* s0 = src)
        fixed (float* y = dst)
        {
            for (int b = 0; b < nb; b++)
            {
                byte* s = s0 + b * Q4_0BlockBytes;
                float d = HalfAt(s);
                for (int j = 0; j < 16; j++)
                {
                    y[b * 32 + j] = ((s[2 + j] & 0x0F) - 8) * d;
                    y[b * 32 + j + 16] = ((s[2 + j] >> 4) - 8) * d;
                }
            }
        }
    }

    internal static void DequantizeQ4_KScalar(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 256, Q4_KBlockBytes, "Q4_K");
        fixed (byte* s0 = src)
        fixed (float* y0 = dst)
        {
            for (int b = 0; b < nb; b++)
            {
                byte* s = s0 + b * Q4_KBlockBytes;
                float* y = y0 + b * 256;
                float d = HalfAt(s), dmin = HalfAt(s + 2);
                byte* q = s + 16;
                for (int c = 0; c < 4; c++, q += 32, y += 64)
                {
                    ScaleMinK4(2 * c, s + 4, out int sc1, out int m1);
                    ScaleMinK4(2 * c + 1, s + 4, out int sc2, out int m2);
                    float d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2;
                    for (int l = 0; l < 32; l++) y[l] = d1 * (q[l] & 0x0F) - mm1;
                    for (int l = 0; l < 32; l++) y[l + 32] = d2 * (q[l] >> 4) - mm2;
                }
            }
        }
    }

    internal static void DequantizeQ6_KScalar(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = CheckLengths(src, dst, 256, Q6_KBlockBytes, "Q6_K");
        fixed (byte* s0 = src)
        fixed (float* y0 = dst)
        {
            for (int b = 0; b < nb; b++)
            {
                byte* s = s0 + b * Q6_KBlockBytes;
                float d = HalfAt(s + 208);
                for (int h = 0; h < 2; h++)
                {
                    byte* ql = s + 64 * h;
                    byte* qh = s + 128 + 32 * h;
                    sbyte* sc = (sbyte*)(s + 192) + 8 * h;
                    float* y = y0 + b * 256 + 128 * h;
                    for (int l = 0; l < 32; l++)
                    {
                        int iss = l / 16;
                        int q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32;
                        int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) << 4)) - 32;
                        y[l] = d * sc[iss] * q1;
                        y[l + 32] = d * sc[iss + 2] * q2;
                        y[l + 64] = d * sc[iss + 4] * q3;
                        y[l + 96] = d * sc[iss + 6] * q4;
                    }
                }
            }
        }
    }

    // ---- helpers ----

    /// <summary>ggml get_scale_min_k4: 6-bit scale and min of sub-block j from the 12 packed bytes q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScaleMinK4(int j, byte* q, out int sc, out int m)
    {
        if (j < 4)
        {
            sc = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HalfAt(byte* p) =>
        (float)BitConverter.UInt16BitsToHalf((ushort)(p[0] | (p[1] << 8)));

    /// <summary>y[0..32) = q[i] * d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store32(Vector256<sbyte> q, Vector256<float> d, float* y)
    {
        var (w0, w1) = Vector256.Widen(q);
        var (i0, i1) = Vector256.Widen(w0);
        var (i2, i3) = Vector256.Widen(w1);
        (Vector256.ConvertToSingle(i0) * d).Store(y);
        (Vector256.ConvertToSingle(i1) * d).Store(y + 8);
        (Vector256.ConvertToSingle(i2) * d).Store(y + 16);
        (Vector256.ConvertToSingle(i3) * d).Store(y + 24);
    }

    /// <summary>y[0..32) = scale * q[i] - min (q unsigned 0..15); multiply and subtract kept separate as in ggml.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreAffine32(Vector256<byte> q, float scale, float min, float* y)
    {
        var vs = Vector256.Create(scale);
        var vm = Vector256.Create(min);
        var (w0, w1) = Vector256.Widen(q.AsSByte()); // nibbles are 0..15, so signed widening is exact
        var (i0, i1) = Vector256.Widen(w0);
        var (i2, i3) = Vector256.Widen(w1);
        (vs * Vector256.ConvertToSingle(i0) - vm).Store(y);
        (vs * Vector256.ConvertToSingle(i1) - vm).Store(y + 8);
        (vs * Vector256.ConvertToSingle(i2) - vm).Store(y + 16);
        (vs * Vector256.ConvertToSingle(i3) - vm).Store(y + 24);
    }

    /// <summary>y[0..16) = lowScale * q[i], y[16..32) = highScale * q[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreScaled32(Vector256<sbyte> q, float lowScale, float highScale, float* y)
    {
        var lo = Vector256.Create(lowScale);
        var hi = Vector256.Create(highScale);
        var (w0, w1) = Vector256.Widen(q);
        var (i0, i1) = Vector256.Widen(w0);
        var (i2, i3) = Vector256.Widen(w1);
        (lo * Vector256.ConvertToSingle(i0)).Store(y);
        (lo * Vector256.ConvertToSingle(i1)).Store(y + 8);
        (hi * Vector256.ConvertToSingle(i2)).Store(y + 16);
        (hi * Vector256.ConvertToSingle(i3)).Store(y + 24);
    }

    private static int CheckLengths(ReadOnlySpan<byte> src, Span<float> dst, int blockValues, int blockBytes, string type)
    {
        if (dst.Length % blockValues != 0)
            throw new ArgumentException($"{type}: row length {dst.Length} is not a multiple of the block size {blockValues}");
        int nb = dst.Length / blockValues;
        if ((long)nb * blockBytes > src.Length)
            throw new ArgumentException($"{type}: {nb} blocks need {(long)nb * blockBytes} bytes but the source has {src.Length}");
        return nb;
    }
}
