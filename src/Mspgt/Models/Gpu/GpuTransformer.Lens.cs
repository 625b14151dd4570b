using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

public sealed partial class GpuTransformer
{
    /// <summary>Device bytes the lens's logits take at most at once, by default (its positions go through in chunks).</summary>
    public const long LensLogitsBytes = 256L << 20;

    /// <summary>
    /// The logit lens's sums with its unembedding on the device, where the model's own head is: for
    /// <paramref name="sets"/> × <paramref name="rows"/> rows already put through the final norm ([sets·rows, dim],
    /// set j's row i at j·rows + i; the last set is the reference), per row the max m, S = Σ e^(z−m), B = Σ e^(z−m)·z
    /// of its logits z = row · Wᵀ (W in the pass's dtype), and A = Σ e^(z_f−m_f)(z_f − z) against row i of the last
    /// set (0 for that set), in the same layout. Positions go through in chunks whose logits stay within
    /// <paramref name="logitsBytes"/> (and a quarter of the free device memory); only the four numbers per row come back.
    /// </summary>
    public (double[] M, double[] S, double[] B, double[] A) LensSums(ReadOnlySpan<float> normed, int sets, int rows,
        long logitsBytes = LensLogitsBytes)
    {
        var c = Config;
        int d = c.Dim, V = c.Vocab, R = checked(sets * rows);
        if (normed.Length < (long)R * d) throw new ArgumentException("normed rows shorter than sets × rows × dim");
        var (m, s, b, a) = (new double[R], new double[R], new double[R], new double[R]);
        if (R == 0) return (m, s, b, a);
        // Position-major on the device, so that a chunk of positions holds each one's reference row.
        var byPosition = new float[(long)R * d];
        for (int j = 0; j < sets; j++)
            for (int i = 0; i < rows; i++)
                normed.Slice((j * rows + i) * d, d).CopyTo(byPosition.AsSpan((i * sets + j) * d, d));
        lock (gate)
        {
            if (cublas != null) acc.Bind();
            long perPosition = (long)sets * V * sizeof(float);
            int positions = (int)Math.Clamp(Math.Min(logitsBytes, device.FreeBytes / 4) / perPosition, 1, rows);
            int chunk = positions * sets;
            device.EnsureFits(chunk * (sizeof(float) * ((long)V + d) + 4L * sizeof(double)), $"the logit lens over {positions} positions");
            using var input = acc.Allocate1D<float>((long)chunk * d);
            using var logits = acc.Allocate1D<float>((long)chunk * V);
            using var dm = acc.Allocate1D<double>(chunk);
            using var ds = acc.Allocate1D<double>(chunk);
            using var db = acc.Allocate1D<double>(chunk);
            using var da = acc.Allocate1D<double>(chunk);
            var (hm, hs, hb, ha) = (new double[chunk], new double[chunk], new double[chunk], new double[chunk]);
            ArrayView<float> vin = input.View, vlogits = logits.View;
            ArrayView<double> vm = dm.View, vs = ds.View, vb = db.View, va = da.View;
            for (int p0 = 0; p0 < rows; p0 += positions)
            {
                int n = Math.Min(positions, rows - p0) * sets;
                vin.SubView(0, (long)n * d).CopyFromCPU((ReadOnlySpan<float>)byPosition.AsSpan(checked(p0 * sets * d), n * d));
                ops.MatMulABt(vin, n, w.Output, vlogits);
                lens.Run(vlogits, n, V, sets, vm, vs, vb, va);
                vm.SubView(0, n).CopyToCPU(hm.AsSpan(0, n));
                vs.SubView(0, n).CopyToCPU(hs.AsSpan(0, n));
                vb.SubView(0, n).CopyToCPU(hb.AsSpan(0, n));
                va.SubView(0, n).CopyToCPU(ha.AsSpan(0, n));
                for (int k = 0; k < n; k++)
                {
                    int i = p0 + k / sets, j = k % sets, r = j * rows + i;
                    (m[r], s[r], b[r], a[r]) = (hm[k], hs[k], hb[k], ha[k]);
                }
            }
        }
        return (m, s, b, a);
    }
}
