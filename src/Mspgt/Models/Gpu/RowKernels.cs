using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Row-wise and elementwise building blocks of the device forward pass, mirroring <see cref="Numerics.Kernels"/>.
/// Reductions run in a fixed order per row (one thread in index order, or for RMSNorm on CUDA one warp whose lanes
/// sum strided elements, then a butterfly), so results do not depend on the group size or the launch.
/// </summary>
public sealed class RowKernels
{
    const int WarpLanes = AttentionKernels.WarpLanes;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? rmsNorm;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>? rmsNormWarps;
    readonly int warpsPerGroup;
    readonly Action<Index1D, ArrayView<float>, int> softmax;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> swiGlu;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>> add;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>> addBias;
    readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> gather;

    /// <summary>Whether RMSNorm runs a warp per row (else a thread per row).</summary>
    public bool WarpPerRow { get; }

    /// <param name="warpPerRow">RMSNorm's form: a warp per row, or a thread per row; null: the fused attention's rule
    /// (<see cref="AttentionKernels.WarpForm"/>: MSPGT_GPU_ATTENTION, else a warp on CUDA and a thread elsewhere, since
    /// ILGPU's CPU accelerator runs each warp shuffle as a barrier of 32 threads; tests run both).</param>
    public RowKernels(Accelerator a, bool? warpPerRow = null)
    {
        WarpPerRow = AttentionKernels.WarpForm(a, warpPerRow);
        if (WarpPerRow)
        {
            warpsPerGroup = Math.Clamp(a.MaxNumThreadsPerGroup / WarpLanes, 1, 8);
            rmsNormWarps = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(RmsNormWarpKernel);
        }
        else rmsNorm = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(RmsNormKernel);
        softmax = a.LoadGroupedKernel<Index1D, ArrayView<float>, int>(SoftmaxKernel);
        swiGlu = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SwiGluKernel);
        add = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(AddKernel);
        addBias = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(AddBiasKernel);
        gather = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(GatherKernel);
    }

    /// <summary>dst[r] = x[r] / sqrt(mean(x[r]²) + eps) · w for each row of width w.Length (dst may be x).</summary>
    public void RmsNormRows(ArrayView<float> x, int rows, ArrayView<float> w, float eps, ArrayView<float> dst)
    {
        if (rows <= 0) return;
        if (rmsNorm != null) { rmsNorm(rows, x, w, dst, (int)w.Length, eps); return; }
        rmsNormWarps!(new KernelConfig((rows + warpsPerGroup - 1) / warpsPerGroup, warpsPerGroup * WarpLanes), x, w, dst, (int)w.Length, eps, rows);
    }

    /// <summary>In-place numerically stable softmax of each row of width <paramref name="width"/>.</summary>
    public void SoftmaxRows(ArrayView<float> x, int rows, int width) => softmax(rows, x, width);

    /// <summary>dst = silu(gate) · up, elementwise (dst may be gate).</summary>
    public void SwiGlu(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dst) => swiGlu((int)gate.Length, gate, up, dst);

    /// <summary>x += y, elementwise (the residual stream).</summary>
    public void Add(ArrayView<float> x, ArrayView<float> y) => add((int)x.Length, x, y);

    /// <summary>x[r, :] += bias for every row (qkv bias).</summary>
    public void AddBias(ArrayView<float> x, ArrayView<float> bias) => addBias((int)x.Length, x, bias);

    /// <summary>dst[t, :] = table[ids[t], :], rows of width <paramref name="width"/> (the token embedding).</summary>
    public void Gather(ArrayView<float> table, ArrayView<int> ids, ArrayView<float> dst, int width)
        => gather((int)dst.Length, table, ids, dst, width);

    static void RmsNormKernel(Index1D row, ArrayView<float> x, ArrayView<float> w, ArrayView<float> dst, int d, float eps)
    {
        long o = (long)row.X * d;
        float ss = 0;
        for (int i = 0; i < d; i++) ss += x[o + i] * x[o + i];
        float scale = 1f / MathF.Sqrt(ss / d + eps);
        for (int i = 0; i < d; i++) dst[o + i] = x[o + i] * scale * w[i];
    }

    /// <summary>
    /// Warp r normalises row r: lane l sums the squares of elements l, l + 32, … in order, a butterfly of shuffles adds
    /// the lanes' sums (the same two values in every lane at every step, so every lane holds the same total, bit for
    /// bit), and the lanes write their elements scaled. Loads and stores are coalesced and a 2,048-wide row is 64
    /// elements per lane, where a thread per row (<see cref="RmsNormKernel"/>) walks the whole row alone with a few
    /// warps on the whole device: at 4,096 rows of 2,048 that is 128 warps for 132 multiprocessors.
    /// </summary>
    static void RmsNormWarpKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> dst, int d, float eps, int rows)
    {
        long r = Grid.GlobalIndex.X / WarpLanes;
        if (r >= rows) return;   // whole warps leave together: no lane is missing from a shuffle
        int lane = Warp.LaneIdx;
        long o = r * d;
        float ss = 0;
        for (int i = lane; i < d; i += WarpLanes) ss += x[o + i] * x[o + i];
        for (int k = WarpLanes / 2; k > 0; k /= 2) ss += Warp.ShuffleXor(ss, k);
        float scale = 1f / MathF.Sqrt(ss / d + eps);
        for (int i = lane; i < d; i += WarpLanes) dst[o + i] = x[o + i] * scale * w[i];
    }

    static void SoftmaxKernel(Index1D row, ArrayView<float> x, int width)
    {
        long o = (long)row.X * width;
        float max = float.NegativeInfinity;
        for (int i = 0; i < width; i++) max = MathF.Max(max, x[o + i]);
        float sum = 0;
        for (int i = 0; i < width; i++) { float e = DeviceMath.Exp(x[o + i] - max); x[o + i] = e; sum += e; }
        for (int i = 0; i < width; i++) x[o + i] /= sum;
    }

    static void SwiGluKernel(Index1D i, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dst)
    {
        float g = gate[i];
        dst[i] = g / (1f + DeviceMath.Exp(-g)) * up[i];
    }

    static void AddKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => x[i] += y[i];

    static void AddBiasKernel(Index1D i, ArrayView<float> x, ArrayView<float> bias) => x[i] += bias[i % bias.Length];

    static void GatherKernel(Index1D i, ArrayView<float> table, ArrayView<int> ids, ArrayView<float> dst, int width)
    {
        int t = i / width, c = i % width;
        dst[i] = table[(long)ids[t] * width + c];
    }
}
