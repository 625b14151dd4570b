namespace Mspgt.Numerics;

/// <summary>
/// float32 → ggml block formats, the inverse of <see cref="QuantBlocks"/> (for writing GGUF files). Q8_0 is
/// llama.cpp's reference quantiser (<c>quantize_row_q8_0_ref</c>): d = max|x| / 127, q = round(x / d). Q4_K is a
/// simple valid quantisation of the super-block layout, not llama.cpp's searched one: each 32-value sub-block takes
/// its own range [min(x, 0), max(x)] (scale = range / 15, min = −min(x, 0)), the 8 scales and 8 mins are coded in
/// 6 bits against the super-block's fp16 d = max scale / 63 and dmin = max min / 63, and each value gets the nibble
/// nearest to it under the coded scale and min. <c>src.Length</c> must be a multiple of the block size and
/// <c>dst</c> must hold the blocks.
/// </summary>
public static class BlockQuantizer
{
    public static void QuantizeQ8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckLengths(src, dst, 32, QuantBlocks.Q8_0BlockBytes, "Q8_0");
        for (int b = 0; b < nb; b++)
        {
            var x = src.Slice(32 * b, 32);
            var y = dst.Slice(QuantBlocks.Q8_0BlockBytes * b, QuantBlocks.Q8_0BlockBytes);
            float amax = 0;
            foreach (float v in x) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            WriteHalf(y, d);
            for (int j = 0; j < 32; j++) y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    public static void QuantizeQ4_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckLengths(src, dst, 256, QuantBlocks.Q4_KBlockBytes, "Q4_K");
        Span<float> scales = stackalloc float[8], mins = stackalloc float[8];
        Span<int> sc = stackalloc int[8], m = stackalloc int[8];
        for (int b = 0; b < nb; b++)
        {
            var x = src.Slice(256 * b, 256);
            var y = dst.Slice(QuantBlocks.Q4_KBlockBytes * b, QuantBlocks.Q4_KBlockBytes);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                float lo = 0, hi = 0;
                foreach (float v in x.Slice(32 * j, 32)) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
                scales[j] = (hi - lo) / 15f;
                mins[j] = -lo;
                maxScale = MathF.Max(maxScale, scales[j]);
                maxMin = MathF.Max(maxMin, mins[j]);
            }
            // d and dmin as stored (fp16), so the 6-bit codes and the nibbles are chosen against the values the reader uses
            float d = (float)(Half)(maxScale / 63f), dmin = (float)(Half)(maxMin / 63f);
            for (int j = 0; j < 8; j++)
            {
                sc[j] = d > 0 ? Math.Clamp((int)MathF.Round(scales[j] / d), 0, 63) : 0;
                m[j] = dmin > 0 ? Math.Clamp((int)MathF.Round(mins[j] / dmin), 0, 63) : 0;
            }
            WriteHalf(y, d);
            WriteHalf(y[2..], dmin);
            // the inverse of QuantBlocks.ScaleMinK4: sub-blocks 0-3 in the low 6 bits of bytes 0-3 / 4-7, sub-blocks
            // 4-7 split into a low nibble (bytes 8-11) and two high bits (the top of bytes 0-3 / 4-7)
            var packed = y.Slice(4, 12);
            for (int j = 0; j < 4; j++)
            {
                packed[j] = (byte)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
                packed[j + 4] = (byte)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
                packed[j + 8] = (byte)((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
            }
            // 4 chunks of 32 bytes: low nibbles hold sub-block 2c, high nibbles sub-block 2c + 1
            var qs = y.Slice(16, 128);
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++)
                {
                    int lo = Nibble(x[64 * c + l], d * sc[2 * c], dmin * m[2 * c]);
                    int hi = Nibble(x[64 * c + 32 + l], d * sc[2 * c + 1], dmin * m[2 * c + 1]);
                    qs[32 * c + l] = (byte)(lo | (hi << 4));
                }
        }
    }

    /// <summary>The q in 0..15 whose scale·q − min is nearest to v.</summary>
    private static int Nibble(float v, float scale, float min) =>
        scale > 0 ? Math.Clamp((int)MathF.Round((v + min) / scale), 0, 15) : 0;

    private static void WriteHalf(Span<byte> y, float v)
    {
        ushort h = BitConverter.HalfToUInt16Bits((Half)v);
        y[0] = (byte)h;
        y[1] = (byte)(h >> 8);
    }

    private static int CheckLengths(ReadOnlySpan<float> src, Span<byte> dst, int blockValues, int blockBytes, string type)
    {
        if (src.Length % blockValues != 0)
            throw new ArgumentException($"{type}: row length {src.Length} is not a multiple of the block size {blockValues}");
        int nb = src.Length / blockValues;
        if ((long)nb * blockBytes > dst.Length)
            throw new ArgumentException($"{type}: {nb} blocks need {(long)nb * blockBytes} bytes but the destination has {dst.Length}");
        return nb;
    }
}
