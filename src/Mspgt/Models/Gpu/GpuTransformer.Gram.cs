using ILGPU;
using ILGPU.Runtime;
using Mspgt.Numerics;

namespace Mspgt.Models.Gpu;

public sealed partial class GpuTransformer
{
    /// <summary>
    /// The Gram matrix of a centred sample matrix for the signals (<see cref="CenteredGram.GramProduct"/>), on the
    /// device the model is on: Xc·Xcᵀ (n × n) when <paramref name="sampleForm"/>, else XcᵀXc (d × d), in float64
    /// (cublasDgemm, or the ILGPU kernel), then made exactly symmetric from its upper triangle as the CPU's is.
    /// Per representation of a wide model this product is the largest of the estimators' work (n·d·min(n, d)
    /// multiply-adds: 255 × 4,096 × 255 at 256 tokens of the 8B shape, about half of preparing the representation on
    /// a CPU core). The sums run in another order than the CPU's, so values agree to rounding (1e-12 relative in the
    /// tests), not bit for bit. Callers on several threads take turns on the device.
    /// </summary>
    public DenseMatrix CenteredGram(DenseMatrix centered, bool sampleForm)
    {
        int n = centered.Rows, d = centered.Cols, p = sampleForm ? n : d;
        var g = new DenseMatrix(p, p);
        if (n == 0 || d == 0) return g;
        lock (gate)
        {
            if (cublas != null) acc.Bind();
            // Buffers kept for the next representation (a document has one per block, 33 at the 8B shape): an
            // allocation and a free per product, and a free waits for the whole device.
            ArrayView<double> vx = GramBuffer(ref gramInput, (long)n * d), vy = GramBuffer(ref gramOutput, (long)p * p);
            vx.CopyFromCPU((ReadOnlySpan<double>)centered.Data.AsSpan(0, n * d));
            ops.Gram64(vx, n, d, sampleForm, vy);
            vy.CopyToCPU(g.Data.AsSpan(0, p * p));
            GramProducts++;
        }
        LinearAlgebra.MirrorUpper(g.Data, p);
        return g;
    }

    MemoryBuffer1D<double, Stride1D.Dense>? gramInput, gramOutput;

    /// <summary>The first <paramref name="n"/> doubles of a kept buffer, grown (after checking the device has room) when short.</summary>
    ArrayView<double> GramBuffer(ref MemoryBuffer1D<double, Stride1D.Dense>? b, long n)
    {
        if (b == null || b.Length < n) device.EnsureFits(sizeof(double) * (n - (b?.Length ?? 0)), "a Gram matrix of the signals");
        return GpuWorkspace.Grow(acc, ref b, n);
    }
}
