using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// The logit lens's sums over a vocabulary on the device, for rows of logits [rows, vocab] in which every position's
/// sets of rows are consecutive (position p's set j at p·sets + j; the last set is the reference): per row the
/// maximum m, S = Σ e^(z−m) and B = Σ e^(z−m)·z, and per row of a set but the last A = Σ e^(z_f−m_f)(z_f − z)
/// against its position's reference row f. The host turns them into ln Z = m + ln S, the entropy ln Z − B/S and
/// KL(p_f ‖ p) = A/S_f − ln Z_f + ln Z, as the signals' logit lens does on the CPU. One thread per row sums
/// in vocabulary order in double (the exponentials in float), so results do not depend on the launch.
/// </summary>
public sealed class LensKernels
{
    readonly Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, int> sums;
    readonly Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, int, int> divergence;

    public LensKernels(Accelerator a)
    {
        sums = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, int>(SumsKernel);
        divergence = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, int, int>(DivergenceKernel);
    }

    /// <summary>m, S and B of each of <paramref name="rows"/> rows of <paramref name="logits"/>, then A of each
    /// (0 for the reference rows); <paramref name="rows"/> a whole number of positions (multiple of sets).</summary>
    public void Run(ArrayView<float> logits, int rows, int vocab, int sets,
        ArrayView<double> m, ArrayView<double> s, ArrayView<double> b, ArrayView<double> a)
    {
        if (rows % sets != 0) throw new ArgumentException($"{rows} lens rows are not whole positions of {sets} sets");
        if (logits.Length < (long)rows * vocab || m.Length < rows || s.Length < rows || b.Length < rows || a.Length < rows)
            throw new ArgumentException("lens buffers shorter than rows × vocabulary");
        sums(rows, logits, m, s, b, vocab);
        divergence(rows, logits, m, a, vocab, sets);
    }

    static void SumsKernel(Index1D r, ArrayView<float> z, ArrayView<double> m, ArrayView<double> s, ArrayView<double> b, int vocab)
    {
        long o = (long)r.X * vocab;
        float max = float.NegativeInfinity;
        for (int v = 0; v < vocab; v++) max = MathF.Max(max, z[o + v]);
        double sum = 0, weighted = 0;
        for (int v = 0; v < vocab; v++)
        {
            float zv = z[o + v];
            double e = DeviceMath.Exp(zv - max);
            sum += e;
            weighted += e * zv;
        }
        m[r] = max;
        s[r] = sum;
        b[r] = weighted;
    }

    static void DivergenceKernel(Index1D r, ArrayView<float> z, ArrayView<double> m, ArrayView<double> a, int vocab, int sets)
    {
        int j = r % sets;
        if (j == sets - 1) { a[r] = 0; return; }
        int f = r - j + sets - 1;
        long o = (long)r.X * vocab, of = (long)f * vocab;
        float mf = (float)m[f];
        double sum = 0;
        for (int v = 0; v < vocab; v++)
        {
            float zf = z[of + v];
            sum += DeviceMath.Exp(zf - mf) * ((double)zf - z[o + v]);
        }
        a[r] = sum;
    }
}
