using ILGPU;

namespace Mspgt.Models.Gpu;

/// <summary>
/// exp and log for the kernels. ILGPU's PTX backend has no instruction for <c>MathF.Exp</c> or <c>MathF.Log</c>
/// (a kernel calling them fails to compile on a real GPU with NotSupportedIntrinsicException, unless ILGPU.Algorithms
/// or the CUDA toolkit's libdevice is loaded), while ILGPU's CPU accelerator, which CI runs the kernels on, simply
/// calls .NET's: the emulator never sees the failure. PTX does have <c>ex2.approx.f32</c> and <c>lg2.approx.f32</c>
/// (2⁻²² relative and absolute error; <see cref="IntrinsicMath.CPUOnly.Exp2(float)"/> and
/// <see cref="IntrinsicMath.CPUOnly.Log2(float)"/>, which the CPU accelerator runs as MathF.Pow and MathF.Log).
/// <c>KernelCompilationTests</c> compiles every kernel to PTX without a GPU, so a new unsupported call fails CI.
/// </summary>
internal static class DeviceMath
{
    private const float Log2E = 1.44269504f;
    private const float Ln2 = 0.693147181f;
    // ln 2 in two parts (Cody and Waite): Ln2Hi has few significant bits, so k·Ln2Hi is exact for the k used here.
    private const float Ln2Hi = 0.693145752f, Ln2Lo = 1.42860677e-6f;

    /// <summary>
    /// e^x as 2^k · 2^(r·log₂e) with x = k·ln 2 + r, |r| ≤ ln 2 / 2: reducing first keeps ex2's argument small, so
    /// rounding x·log₂e (an error of |x|·2⁻²⁴ in the exponent) does not grow with |x|. 0 below −104 (e^−104 is under
    /// float's least subnormal) and at −∞, ∞ above 88.8, NaN for NaN.
    /// </summary>
    public static float Exp(float x)
    {
        if (!(x > -104f)) return float.IsNaN(x) ? x : 0f;
        if (x > 88.8f) return float.PositiveInfinity;
        float k = MathF.Floor(x * Log2E + 0.5f);
        float r = x - k * Ln2Hi - k * Ln2Lo;
        float p = IntrinsicMath.CPUOnly.Exp2(r * Log2E);
        // 2^k in two factors, so that k down to −150 stays within normal exponents.
        int n = (int)k, n1 = n / 2, n2 = n - n1;
        return p * Interop.IntAsFloat((uint)(n1 + 127) << 23) * Interop.IntAsFloat((uint)(n2 + 127) << 23);
    }

    /// <summary>ln x = log₂x · ln 2 (−∞ at 0, NaN below 0, as MathF.Log).</summary>
    public static float Log(float x) => IntrinsicMath.CPUOnly.Log2(x) * Ln2;
}
