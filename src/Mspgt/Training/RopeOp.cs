using Mspgt.Models;

namespace Mspgt.Training;

/// <summary>
/// RoPE's backward pass. The forward rotation is the engine's (<see cref="Rope.Rotate"/>); a rotation's gradient is
/// the inverse rotation (its transpose), so backward rotates the gradient by the negative angle.
/// </summary>
public static class RopeOp
{
    /// <summary>Turns dL/d(rotated) into dL/d(input), in place.</summary>
    public static void Backward(Span<float> dx, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        RopeForm form = RopeForm.RotateHalf) => Rope.Rotate(dx, tokens, heads, headDim, cos, sin, form, inverse: true);
}
