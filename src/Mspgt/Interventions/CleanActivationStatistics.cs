using Mspgt.Models;

namespace Mspgt.Interventions;

/// <summary>
/// What the noise and mean-ablation interventions are calibrated on, measured once on the clean corpus over every
/// position of every document (BOS included: the mean is position-independent, so it averages all positions).
/// </summary>
/// <param name="MeanResidNorm">Per block, the mean L2 norm of a <c>resid_post</c> row.</param>
/// <param name="MeanAttnOut">Per block, the mean <c>attn.out</c> vector.</param>
/// <param name="MeanMlpOut">Per block, the mean <c>mlp.out</c> vector.</param>
/// <param name="Positions">Number of positions averaged.</param>
public sealed record CleanActivationStatistics(double[] MeanResidNorm, float[][] MeanAttnOut, float[][] MeanMlpOut, long Positions)
{
    /// <summary>One clean forward pass per document (batched where the model batches); sums are accumulated in double, in document order.</summary>
    public static CleanActivationStatistics Compute(IDecoder model, IReadOnlyList<int[]> documents)
    {
        var c = model.Config;
        if (documents.Count == 0) throw new MspgtException("corpus", "no documents to measure activations on");
        var normSum = new double[c.Layers];
        var attnSum = new double[c.Layers][];
        var mlpSum = new double[c.Layers][];
        for (int l = 0; l < c.Layers; l++) { attnSum[l] = new double[c.Dim]; mlpSum[l] = new double[c.Dim]; }
        long positions = 0;

        var hooks = new Hooks();
        for (int l = 0; l < c.Layers; l++)
        {
            int layer = l;
            hooks.Observe(HookPoint.ResidPost(l), t =>
            {
                for (int r = 0; r < t.Shape[0]; r++) normSum[layer] += Math.Sqrt(SumOfSquares(t.Row(r)));
            });
            hooks.Observe(HookPoint.AttnOut(l), t => AddRows(t, attnSum[layer]));
            hooks.Observe(HookPoint.MlpOut(l), t => AddRows(t, mlpSum[layer]));
        }
        // In batches as large as the model takes (1 on the CPU): the hooks still run document by document, in order.
        int batch = model.BatchSize(documents.Max(d => d.Length));
        for (int i = 0; i < documents.Count; i += batch)
        {
            var group = documents.Skip(i).Take(batch).ToArray();
            model.ForwardBatch(group, group.Select(_ => (Hooks?)hooks).ToArray(), LogitRows.None);
            positions += group.Sum(ids => (long)ids.Length);
        }

        var meanNorm = new double[c.Layers];
        var meanAttn = new float[c.Layers][];
        var meanMlp = new float[c.Layers][];
        for (int l = 0; l < c.Layers; l++)
        {
            meanNorm[l] = normSum[l] / positions;
            meanAttn[l] = attnSum[l].Select(v => (float)(v / positions)).ToArray();
            meanMlp[l] = mlpSum[l].Select(v => (float)(v / positions)).ToArray();
            if (!double.IsFinite(meanNorm[l]) || meanAttn[l].Any(v => !float.IsFinite(v)) || meanMlp[l].Any(v => !float.IsFinite(v)))
                throw new MspgtException("corpus", $"block {l} produced non-finite activations on the clean corpus");
        }
        return new CleanActivationStatistics(meanNorm, meanAttn, meanMlp, positions);
    }

    private static double SumOfSquares(ReadOnlySpan<float> row)
    {
        double s = 0;
        foreach (float v in row) s += (double)v * v;
        return s;
    }

    private static void AddRows(HookTensor t, double[] sum)
    {
        for (int r = 0; r < t.Shape[0]; r++)
        {
            var row = t.Row(r);
            for (int d = 0; d < row.Length; d++) sum[d] += row[d];
        }
    }
}
