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

    /// <summary>
    /// Lens logits of some rows, float32 [rows, vocab], with each row's log-sum-exp: a log-probability is
    /// (double)logit − lse, formed where it is read, so a row over a 150k vocabulary costs 4 bytes a token, not 8.
    /// </summary>
    public sealed record Readout(float[] Logits, double[] LogSumExp, int Rows, int Vocab)
    {
        public double LogProb(int row, int token) => Logits[(long)row * Vocab + token] - LogSumExp[row];
    }

    /// <summary>The lens applied to residual rows [rows, dim], into <paramref name="logits"/> (rows·vocab floats) when given.</summary>
    public Readout Read(ReadOnlySpan<float> residualRows, int rows, float[]? logits = null)
    {
        int d = _c.Dim, V = _c.Vocab;
        var normed = new float[rows * d];
        Kernels.RmsNormRows(residualRows, rows, _w.FinalNorm, _c.NormEps, normed);
        logits ??= new float[rows * V];
        MatMul.Multiply(normed, rows, _w.Output, logits);
        var lse = new double[rows];
        for (int r = 0; r < rows; r++) lse[r] = Kernels.LogSumExp(logits.AsSpan(r * V, V));
        return new Readout(logits, lse, rows, V);
    }

    /// <summary>
    /// Mean over rows of KL(p_final ‖ p_lens) and of the lens entropy for one layer's residual rows, the lens logits
    /// written into <paramref name="buffer"/> (at least rows·vocab floats; the caller reuses it across layers).
    /// </summary>
    public (double Kl, double Entropy) CompareLayer(Readout final, ReadOnlySpan<float> residualRows, float[] buffer)
    {
        var (kl, ent) = CompareRows(final, Read(residualRows, final.Rows, buffer));
        return (kl.Sum() / final.Rows, ent.Sum() / final.Rows);
    }

    /// <summary>Per row, KL(p_final ‖ p_lens) and the lens entropy (the same arithmetic as over log-probability arrays).</summary>
    public static (double[] Kl, double[] Entropy) CompareRows(Readout final, Readout lens)
    {
        int rows = final.Rows, vocab = final.Vocab;
        var kl = new double[rows];
        var ent = new double[rows];
        // Rows are independent and each is summed in token order, so the values do not depend on the thread count.
        Parallel.For(0, rows, Parallelism.Options, r =>
        {
            var f = final.Logits.AsSpan(r * vocab, vocab);
            var g = lens.Logits.AsSpan(r * vocab, vocab);
            double lseF = final.LogSumExp[r], lseL = lens.LogSumExp[r];
            double k = 0, e = 0;
            for (int i = 0; i < vocab; i++)
            {
                double lf = f[i] - lseF, ll = g[i] - lseL;
                double pf = Math.Exp(lf), pl = Math.Exp(ll);
                if (pf > 0) k += pf * (lf - ll);
                if (pl > 0) e -= pl * ll;
            }
            kl[r] = Math.Max(0, k);
            ent[r] = e;
        });
        return (kl, ent);
    }

    /// <summary>Log-probabilities [rows, vocab] of the lens applied to residual rows [rows, dim] (tests; 8 bytes a value).</summary>
    public double[] LogProbs(ReadOnlySpan<float> residualRows, int rows)
    {
        var r = Read(residualRows, rows);
        var lp = new double[(long)rows * r.Vocab];
        for (int i = 0; i < rows; i++)
            for (int t = 0; t < r.Vocab; t++) lp[(long)i * r.Vocab + t] = r.LogProb(i, t);
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
