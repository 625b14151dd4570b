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
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * V, V);
            double lse = Kernels.LogSumExp(row);
            for (int i = 0; i < V; i++) lp[r * V + i] = row[i] - lse;
        }
        return lp;
    }

    /// <summary>Mean over rows of KL(p_final ‖ p_lens) and of the lens entropy.</summary>
    public static (double Kl, double Entropy) Compare(double[] finalLogProbs, double[] lensLogProbs, int rows, int vocab)
    {
        var (kl, ent) = CompareRows(finalLogProbs, lensLogProbs, rows, vocab);
        return (kl.Sum() / rows, ent.Sum() / rows);
    }

    /// <summary>Per row, KL(p_final ‖ p_lens) and the lens entropy (for sampling errors).</summary>
    public static (double[] Kl, double[] Entropy) CompareRows(double[] finalLogProbs, double[] lensLogProbs, int rows, int vocab)
    {
        var kl = new double[rows];
        var ent = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double k = 0, e = 0;
            for (int i = 0; i < vocab; i++)
            {
                double lf = finalLogProbs[r * vocab + i], ll = lensLogProbs[r * vocab + i];
                double pf = Math.Exp(lf), pl = Math.Exp(ll);
                if (pf > 0) k += pf * (lf - ll);
                if (pl > 0) e -= pl * ll;
            }
            kl[r] = Math.Max(0, k);
            ent[r] = e;
        }
        return (kl, ent);
    }
}
