using ILGPU;

namespace Mspgt.Models.Gpu;

/// <summary>
/// The 16-bit number formats of <c>--dtype bf16|f16</c> as raw bits, in integer arithmetic only so that the same
/// code runs on the host (weights on upload) and inside ILGPU kernels (activations before each product) and both
/// round identically: float → 16 bits rounds to nearest, ties to even (as PyTorch's <c>.to(bfloat16/float16)</c> and
/// CUDA's <c>__float2bfloat16_rn</c>/<c>__float2half_rn</c> do); 16 bits → float is exact.
/// </summary>
public static class HalfBits
{
    /// <summary>Kernel argument values for the format (kernels take an int, not the enum).</summary>
    public const int Bf16 = 0, F16 = 1;

    /// <summary>The kernel code of <paramref name="t"/> (bf16 or f16; f32 has no 16-bit form).</summary>
    public static int Code(ComputeType t) => t switch
    {
        ComputeType.Bf16 => Bf16,
        ComputeType.F16 => F16,
        _ => throw new ArgumentException($"{t} is not a 16-bit type"),
    };

    /// <summary>The largest finite f16 value; beyond it a weight would become infinite.</summary>
    public const float F16Max = 65504f;

    public static ushort FromFloat(float f, int code) => code == Bf16 ? Bf16FromFloat(f) : F16FromFloat(f);

    public static float ToFloat(ushort h, int code) => code == Bf16 ? Bf16ToFloat(h) : F16ToFloat(h);

    public static ushort Bf16FromFloat(float f)
    {
        uint x = Interop.FloatAsInt(f);
        // NaN stays a (quiet) NaN; rounding its payload could carry into the exponent and make it infinite.
        if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((x >> 16) | 0x40u);
        return (ushort)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }

    public static float Bf16ToFloat(ushort h) => Interop.IntAsFloat((uint)h << 16);

    public static ushort F16FromFloat(float f)
    {
        uint x = Interop.FloatAsInt(f);
        uint sign = (x >> 16) & 0x8000u, ax = x & 0x7FFFFFFFu;
        if (ax >= 0x7F800000u) return (ushort)(sign | (ax > 0x7F800000u ? 0x7E00u : 0x7C00u));
        // 65520 is halfway between 65504 (odd mantissa) and 65536: ties to even round it up, out of range.
        if (ax >= 0x477FF000u) return (ushort)(sign | 0x7C00u);
        if (ax < 0x38800000u)
        {
            // Below the smallest normal f16 (2^-14): a multiple n of 2^-24, n = mantissa·2^(e-126) rounded.
            uint e = ax >> 23;
            if (e < 102) return (ushort)sign; // below 2^-25 (2^-25 itself ties to the even 0)
            uint m = (ax & 0x7FFFFFu) | 0x800000u;
            int shift = (int)(126 - e);
            uint n = m >> shift, rest = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
            if (rest > half || (rest == half && (n & 1u) != 0)) n++;
            return (ushort)(sign | n);
        }
        // Normal: rebias the exponent (127 → 15) and round the mantissa's 13 dropped bits to nearest even.
        uint r = ax - 0x38000000u;
        return (ushort)(sign | ((r + 0xFFFu + ((r >> 13) & 1u)) >> 13));
    }

    public static float F16ToFloat(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        uint e = (uint)(h >> 10) & 0x1Fu, m = h & 0x3FFu;
        if (e == 0) return Interop.IntAsFloat(sign | Interop.FloatAsInt(m * 5.9604645E-08f)); // m·2^-24, exact
        if (e == 31) return Interop.IntAsFloat(sign | 0x7F800000u | (m << 13));
        return Interop.IntAsFloat(sign | ((e + 112) << 23) | (m << 13));
    }
}
