using System.Numerics.Tensors;
using Mspgt.Models;
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

    public LogitLens(ModelConfig config, ModelWeights weights) { _c = config; _w = weights; }

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
            var exp = new float[V];
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

    /// <summary>log Σ exp(x): the exponentials vectorised in float32 (each within a few ulp; every term ≤ 1 after
    /// the max is taken out), summed in double.</summary>
    private static double LogSumExp(ReadOnlySpan<float> x, float[] scratch)
    {
        float max = TensorPrimitives.Max(x);
        var e = scratch.AsSpan(0, x.Length);
        TensorPrimitives.Subtract(x, max, e);
        TensorPrimitives.Exp(e, e);
        double sum = 0;
        foreach (float v in e) sum += v;
        return max + Math.Log(sum);
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
