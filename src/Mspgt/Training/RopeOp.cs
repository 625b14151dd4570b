namespace Mspgt.Training;

/// <summary>Which elements of a head RoPE rotates together.</summary>
public enum RopeConvention
{
    /// <summary>Hugging Face / NEOX: (x[i], x[i + hd/2]). The layout of every checkpoint this project writes.</summary>
    RotateHalf,
    /// <summary>llama.cpp / llama2.c / Meta: (x[2i], x[2i+1]).</summary>
    AdjacentPairs,
}

/// <summary>
/// Rotary position embedding of [T, heads, hd] buffers in place, with the cos/sin tables of
/// <see cref="Models.Rope.Tables"/> ([T, hd/2]). A rotation's gradient is the inverse rotation (the transpose), so
/// backward rotates the gradient by the negative angle.
/// </summary>
public static class RopeOp
{
    public static void Forward(Span<float> x, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        RopeConvention convention = RopeConvention.RotateHalf) => Rotate(x, tokens, heads, headDim, cos, sin, convention, 1f);

    /// <summary>Turns dL/d(rotated) into dL/d(input), in place.</summary>
    public static void Backward(Span<float> dx, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        RopeConvention convention = RopeConvention.RotateHalf) => Rotate(dx, tokens, heads, headDim, cos, sin, convention, -1f);

    private static void Rotate(Span<float> x, int tokens, int heads, int hd, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        RopeConvention convention, float sign)
    {
        int half = hd / 2;
        for (int t = 0; t < tokens; t++)
        {
            var c = cos.Slice(t * half, half);
            var s = sin.Slice(t * half, half);
            for (int h = 0; h < heads; h++)
            {
                var v = x.Slice((t * heads + h) * hd, hd);
                for (int i = 0; i < half; i++)
                {
                    int ia = convention == RopeConvention.RotateHalf ? i : 2 * i;
                    int ib = convention == RopeConvention.RotateHalf ? i + half : 2 * i + 1;
                    float a = v[ia], b = v[ib], si = sign * s[i];
                    v[ia] = a * c[i] - b * si;
                    v[ib] = b * c[i] + a * si;
                }
            }
        }
    }
}
