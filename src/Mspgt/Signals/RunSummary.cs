using System.Text.Json.Serialization;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Signals;

/// <summary>
/// What `mspgt run --json` prints for one sequence: the ids, mean NLL of ids[1:], per-position argmax, the last
/// logits, mean residual norms after the embedding and each block, and per-layer attention entropy / distance.
/// Computed in one forward pass with streaming hooks (no activation cache).
/// </summary>
public sealed record RunSummary
{
    [JsonPropertyName("ids")] public required int[] Ids { get; init; }
    [JsonPropertyName("nll")] public required double? Nll { get; init; }
    [JsonPropertyName("argmax")] public required int[] Argmax { get; init; }
    [JsonPropertyName("logits_last")] public required float[] LogitsLast { get; init; }
    [JsonPropertyName("resid_norm")] public required double[] ResidNorm { get; init; }
    [JsonPropertyName("attn_entropy")] public required double[] AttnEntropy { get; init; }
    [JsonPropertyName("attn_distance")] public required double[] AttnDistance { get; init; }

    public static RunSummary Compute(Transformer model, int[] ids)
    {
        var c = model.Config;
        int T = ids.Length;
        var residNorm = new double[c.Layers + 1];
        var hooks = new Hooks();
        void Norms(int slot, HookTensor t)
        {
            double s = 0;
            for (int r = 0; r < t.Shape[0]; r++) s += Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(t.Row(r)));
            residNorm[slot] = s / t.Shape[0];
        }
        hooks.Observe(HookPoint.Embed, t => Norms(0, t));
        for (int l = 0; l < c.Layers; l++)
        {
            int layer = l;
            hooks.Observe(HookPoint.ResidPost(l), t => Norms(layer + 1, t));
        }
        var attention = AttentionStatistics.Observe(hooks, c.Layers);
        var logits = model.Forward(ids, null, hooks, LogitRows.All);
        int V = c.Vocab;
        var argmax = new int[T];
        double nll = 0;
        for (int t = 0; t < T; t++)
        {
            var row = logits.AsSpan(t * V, V);
            argmax[t] = Kernels.ArgMax(row);
            if (t + 1 < T) nll += Kernels.LogSumExp(row) - row[ids[t + 1]];
        }
        return new RunSummary
        {
            Ids = ids,
            Nll = T > 1 ? nll / (T - 1) : null,
            Argmax = argmax,
            LogitsLast = logits.AsSpan((T - 1) * V, V).ToArray(),
            ResidNorm = residNorm,
            AttnEntropy = attention.Entropy.Select(e => e.Mean).ToArray(),
            AttnDistance = attention.Distance.Select(d => d.Mean).ToArray(),
        };
    }
}
