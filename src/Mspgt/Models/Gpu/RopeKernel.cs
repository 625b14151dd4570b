using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// RoPE on the device with the cos/sin tables the CPU builds (<see cref="Rope.Tables"/>, so llama3 scaling and
/// frequency factors carry over unchanged), both pairings of <see cref="Rope.Rotate"/>: one thread per rotated pair.
/// </summary>
public sealed class RopeKernel
{
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> kernel;

    public RopeKernel(Accelerator a)
        => kernel = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(Kernel);

    /// <summary>Rotates every head of a [T, heads, headDim] device buffer in place, as Rope.Rotate does on the host.</summary>
    public void Rotate(ArrayView<float> x, int tokens, int heads, int headDim, ArrayView<float> cos, ArrayView<float> sin, RopeForm form)
    {
        int half = headDim / 2;
        (int step, int offset) = form == RopeForm.RotateHalf ? (1, half) : (2, 1);
        kernel(tokens * heads * half, x, cos, sin, heads, headDim, step, offset);
    }

    static void Kernel(Index1D index, ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int heads, int headDim, int step, int offset)
    {
        int half = headDim / 2;
        int i = index % half, th = index / half, t = th / heads;
        long v = (long)th * headDim;
        long ia = v + i * step, ib = ia + offset;
        float c = cos[t * half + i], s = sin[t * half + i], a = x[ia], b = x[ib];
        x[ia] = a * c - b * s;
        x[ib] = b * c + a * s;
    }
}
