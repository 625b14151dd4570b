using System.Numerics;
using System.Numerics.Tensors;
using Mspgt.Models;
using Mspgt.Models.Gpu;
using Mspgt.Numerics;

namespace Mspgt.Signals;

/// <summary>
/// Logit lens: layer l's residual stream read out through the model's own final RMSNorm and unembedding.
/// For each position, KL(final next-token distribution ‖ lens distribution) and the entropy of the lens
/// distribution (both in nats). Works on the positions it is given, so callers can subsample positions when the
/// vocabulary is large.
/// </summary>
public sealed class LogitLens
{
    private readonly ModelWeights _w;
    private readonly ModelConfig _c;
    private readonly GpuTransformer? _device;

    /// <param name="device">The model on a device, when it runs there: <see cref="MeasureLayers"/> then multiplies and
    /// sums on the device with the model's own head (in the pass's dtype), and only four numbers per row come back.</param>
    public LogitLens(ModelConfig config, ModelWeights weights, GpuTransformer? device = null) { _c = config; _w = weights; _device = device; }

    /// <summary>Log-probabilities [rows, vocab] of the lens applied to residual rows [rows, dim].</summary>
    public double[] LogProbs(ReadOnlySpan<float> residualRows, int rows)
    {
        int d = _c.Dim, V = _c.Vocab;
        var normed = new float[rows * d];
        Kernels.RmsNormRows(residualRows, rows, _w.FinalNorm, _c.NormEps, normed);
        var logits = new float[rows * V];
        MatMul.Multiply(normed, rows, _w.Output, logits);
        var lp = new double[rows * V];
        // Rows are independent; each is one fixed sequence of vector operations, whatever the thread count.
        Parallelism.ForChunks(rows, 1, (long)rows * V, (r0, r1) =>
        {
            var exp = new double[V];
            for (int r = r0; r < r1; r++)
            {
                var row = logits.AsSpan(r * V, V);
                double lse = LogSumExp(row, exp);
                var dst = lp.AsSpan(r * V, V);
                for (int i = 0; i < V; i++) dst[i] = row[i] - lse;
            }
        });
        return lp;
    }

    /// <summary>log Σ exp(x), the exponentials vectorised in double.</summary>
    private static double LogSumExp(ReadOnlySpan<float> x, double[] scratch)
    {
        float max = TensorPrimitives.Max(x);
        var e = scratch.AsSpan(0, x.Length);
        TensorPrimitives.ConvertChecked<float, double>(x, e);
        TensorPrimitives.Subtract(e, max, e);
        TensorPrimitives.Exp(e, e);
        return max + Math.Log(TensorPrimitives.Sum<double>(e));
    }

    /// <summary>Vocabulary entries per slice of <see cref="MeasureLayers"/>: the slice's logits of every row stay
    /// within about 32 MB (between 512 and 8192 entries; fixed by the row count, never by the thread count).</summary>
    private static int SliceFor(int rows) => Math.Clamp((int)Math.Min(8192, (32L << 20) / (4L * Math.Max(1, rows))) / 64 * 64, 512, 8192);

    /// <summary>
    /// The lens at every layer at once: for each set j of <paramref name="rows"/> residual rows [rows, dim] in
    /// <paramref name="layerRows"/> (the last set is the final layer, the reference), the mean over rows of
    /// KL(p_final ‖ p_lens) and of the lens entropy — the values <see cref="Compare"/> gives from
    /// <see cref="LogProbs"/>, to round-off. All sets go through one GEMM per slice of the vocabulary, so a quantized
    /// or BF16 unembedding is decoded once for all layers instead of once per layer, and no [rows, vocab] array is
    /// kept: per row a running max m, S = Σ e^(z−m) and B = Σ e^(z−m)·z (rescaled when m grows) give
    /// ln Z = m + ln S and the entropy ln Z − B/S; per lens row A = Σ e^(z_f−m_f)(z_f − z) gives
    /// KL = A/S_f − ln Z_f + ln Z. Rows are independent and slices go in order, so results do not depend on the
    /// thread count. With the model on a device the same sums are made there (<see cref="GpuTransformer.LensSums"/>:
    /// the exponentials in float, the sums in double, so the values agree with the CPU's to about 1e-6).
    /// </summary>
    /// <param name="slice">Vocabulary entries per slice; 0 chooses them (tests pass small ones to cross slices).</param>
    public (double Kl, double Entropy)[] MeasureLayers(IReadOnlyList<float[]> layerRows, int rows, int slice = 0)
    {
        int sets = layerRows.Count, d = _c.Dim, R = sets * rows;
        if (sets == 0 || rows == 0) return new (double, double)[sets];
        var normed = new float[(long)R * d];
        for (int j = 0; j < sets; j++)
            Kernels.RmsNormRows(layerRows[j].AsSpan(0, rows * d), rows, _w.FinalNorm, _c.NormEps, normed.AsSpan(j * rows * d, rows * d));
        var (m, S, B, A) = _device != null ? _device.LensSums(normed, sets, rows) : Sums(normed, sets, rows, slice);
        int f0 = (sets - 1) * rows;                       // first final row
        var result = new (double Kl, double Entropy)[sets];
        for (int j = 0; j < sets; j++)
        {
            double kl = 0, ent = 0;
            for (int i = 0; i < rows; i++)
            {
                int r = j * rows + i, f = f0 + i;
                double lnZ = m[r] + Math.Log(S[r]), lnZf = m[f] + Math.Log(S[f]);
                kl += j == sets - 1 ? 0 : Math.Max(0, A[r] / S[f] - lnZf + lnZ);
                ent += lnZ - B[r] / S[r];
            }
            result[j] = (kl / rows, ent / rows);
        }
        return result;
    }

    /// <summary>The per-row sums of <see cref="MeasureLayers"/> on the CPU: the vocabulary in slices, one GEMM each,
    /// folded into running m, S, B and (lens rows) A.</summary>
    private (double[] M, double[] S, double[] B, double[] A) Sums(float[] normed, int sets, int rows, int slice)
    {
        int V = _c.Vocab, R = sets * rows;
        if (slice <= 0) slice = SliceFor(R);
        var logits = new float[(long)R * slice];
        var m = new double[R];
        var S = new double[R];
        var B = new double[R];
        var A = new double[R];
        Array.Fill(m, double.NegativeInfinity);
        int f0 = (sets - 1) * rows;                       // first final row
        var finalExp = new double[(long)rows * slice];    // e^(z_f − m_f) of this slice, per final row
        var finalScale = new double[rows];                // e^(m_f,old − m_f,new) of this slice
        for (int v0 = 0; v0 < V; v0 += slice)
        {
            int vs = Math.Min(slice, V - v0);
            MatMul.Multiply(normed, R, _w.Output.RowSlice(v0, vs), logits);
            Parallelism.ForChunks(rows, 1, (long)rows * vs, (i0, i1) =>
            {
                for (int i = i0; i < i1; i++)
                    finalScale[i] = Fold(logits.AsSpan((f0 + i) * vs, vs), ref m[f0 + i], ref S[f0 + i], ref B[f0 + i],
                        finalExp.AsSpan(i * vs, vs), default, default, out _);
            });
            Parallelism.ForChunks(f0, 1, (long)f0 * vs, (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    int i = r % rows;
                    Fold(logits.AsSpan(r * vs, vs), ref m[r], ref S[r], ref B[r], default,
                        logits.AsSpan((f0 + i) * vs, vs), finalExp.AsSpan(i * vs, vs), out double a);
                    A[r] = A[r] * finalScale[i] + a;   // earlier slices' A rescaled to the final row's new max
                }
            });
        }
        return (m, S, B, A);
    }

    /// <summary>
    /// Folds one slice of a row's logits <paramref name="z"/> into its running max m, S = Σ e^(z−m) and
    /// B = Σ e^(z−m)·z, in one vectorised pass (the logits widened to double, the exponentials in double). With
    /// <paramref name="keep"/> it leaves e^(z − m) (new m) there (the final rows); with <paramref name="zf"/> and
    /// <paramref name="fe"/> (the final row's logits and its e^(z_f − m_f)) it also returns this slice's
    /// a = Σ e^(z_f − m_f)(z_f − z) (the lens rows). Returns e^(m_old − m_new), the factor earlier sums were
    /// rescaled by. One fixed order of operations per row: the thread count never changes a result.
    /// </summary>
    private static double Fold(ReadOnlySpan<float> z, ref double m, ref double s, ref double b, Span<double> keep,
        ReadOnlySpan<float> zf, ReadOnlySpan<double> fe, out double a)
    {
        double mNew = Math.Max(m, TensorPrimitives.Max(z));
        double scale = double.IsNegativeInfinity(m) ? 0 : Math.Exp(m - mNew);
        m = mNew;
        bool kl = !zf.IsEmpty, store = !keep.IsEmpty;
        int n = z.Length, i = 0, w = Vector<float>.Count, h = Vector<double>.Count;
        var vm = new Vector<double>(mNew);
        Vector<double> vs = default, vb = default, va = default;
        for (; i + w <= n; i += w)
        {
            Vector.Widen(new Vector<float>(z.Slice(i)), out var z0, out var z1);
            var e0 = Vector.Exp(z0 - vm);
            var e1 = Vector.Exp(z1 - vm);
            vs += e0 + e1;
            vb = Vector.MultiplyAddEstimate(e0, z0, vb);
            vb = Vector.MultiplyAddEstimate(e1, z1, vb);
            if (store) { e0.CopyTo(keep.Slice(i)); e1.CopyTo(keep.Slice(i + h)); }
            if (kl)
            {
                Vector.Widen(new Vector<float>(zf.Slice(i)), out var f0, out var f1);
                va = Vector.MultiplyAddEstimate(new Vector<double>(fe.Slice(i)), f0 - z0, va);
                va = Vector.MultiplyAddEstimate(new Vector<double>(fe.Slice(i + h)), f1 - z1, va);
            }
        }
        double ss = Vector.Sum(vs), bb = Vector.Sum(vb), aa = Vector.Sum(va);
        for (; i < n; i++)
        {
            double zi = z[i], e = Math.Exp(zi - mNew);
            ss += e;
            bb += e * zi;
            if (store) keep[i] = e;
            if (kl) aa += fe[i] * (zf[i] - zi);
        }
        s = s * scale + ss;
        b = b * scale + bb;
        a = aa;
        return scale;
    }

    /// <summary>Mean over rows of KL(p_final ‖ p_lens) and of the lens entropy.</summary>
    public static (double Kl, double Entropy) Compare(double[] finalLogProbs, double[] lensLogProbs, int rows, int vocab)
    {
        var (kl, ent) = CompareRows(finalLogProbs, lensLogProbs, rows, vocab);
        return (kl.Sum() / rows, ent.Sum() / rows);
    }

    /// <summary>Per row, KL(p_final ‖ p_lens) = Σ p_f (ln p_f − ln p_l) and the lens entropy −Σ p_l ln p_l
    /// (for sampling errors); vectorised exponentials and dot products.</summary>
    public static (double[] Kl, double[] Entropy) CompareRows(double[] finalLogProbs, double[] lensLogProbs, int rows, int vocab)
    {
        var kl = new double[rows];
        var ent = new double[rows];
        var p = new double[vocab];
        var diff = new double[vocab];
        for (int r = 0; r < rows; r++)
        {
            var lf = finalLogProbs.AsSpan(r * vocab, vocab);
            var ll = lensLogProbs.AsSpan(r * vocab, vocab);
            TensorPrimitives.Exp(lf, p);
            TensorPrimitives.Subtract(lf, ll, diff);
            kl[r] = Math.Max(0, TensorPrimitives.Dot<double>(p, diff));
            TensorPrimitives.Exp(ll, p);
            ent[r] = -TensorPrimitives.Dot<double>(p, ll);
        }
        return (kl, ent);
    }
}
