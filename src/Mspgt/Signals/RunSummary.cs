using System.Text.Json.Serialization;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Signals;

/// <summary>
/// What `mspgt run --json` prints for one sequence: the ids, mean NLL of ids[1:], per-position argmax, the last
/// logits, mean residual norms after the embedding and each block, and per-layer attention entropy / distance.
/// Computed in one forward pass with streaming hooks; only the hook points a caller asks for are cached, and only
/// then does the summary have <see cref="Hooks"/>.
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
    /// <summary>The activations asked for (`mspgt run --hooks`), in the order asked; absent otherwise.</summary>
    [JsonPropertyName("hooks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<HookActivation>? Hooks { get; init; }

    public static RunSummary Compute(IDecoder model, int[] ids, IReadOnlyList<HookPoint>? cached = null)
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
        int V = c.Vocab;
        var argmax = new int[T];
        double nll = 0;
        float[] last;
        ActivationCache cache;
        if (model is Transformer cpu)
        {
            // On the CPU the [T × vocab] logits are never whole (155 MB for 256 tokens of a 152k vocabulary): the
            // final-norm rows go through the head a slice of the vocabulary at a time (ReadOut).
            var normed = new float[T * c.Dim];
            hooks.Observe(HookPoint.FinalNorm, t => t.Data[..(T * c.Dim)].CopyTo(normed));
            (_, cache) = model.RunWithCache(ids, cached ?? [], hooks, LogitRows.None);
            (nll, last) = ReadOut(normed, T, cpu.Weights.Output, ids, argmax);
        }
        else
        {
            float[] logits;
            (logits, cache) = model.RunWithCache(ids, cached ?? [], hooks, LogitRows.All);
            for (int t = 0; t < T; t++)
            {
                var row = logits.AsSpan(t * V, V);
                argmax[t] = Kernels.ArgMax(row);
                if (t + 1 < T) nll += Kernels.LogSumExp(row) - row[ids[t + 1]];
            }
            last = logits.AsSpan((T - 1) * V, V).ToArray();
        }
        return new RunSummary
        {
            Ids = ids,
            Nll = T > 1 ? nll / (T - 1) : null,
            Argmax = argmax,
            LogitsLast = last,
            ResidNorm = residNorm,
            AttnEntropy = attention.Entropy.Select(e => e.Mean).ToArray(),
            AttnDistance = attention.Distance.Select(d => d.Mean).ToArray(),
            Hooks = cached?.Distinct().Select(p => HookActivation.Of(cache[p])).ToArray(),
        };
    }

    /// <summary>
    /// The head applied to the final-norm rows [T, dim] a vocabulary slice at a time (<see cref="HeadSlices"/>): per
    /// row the first argmax and, for rows 0..T−2, log Z − z[next id]; the last row's logits kept whole. Returns the
    /// summed NLL and the last row.
    /// </summary>
    internal static (double Nll, float[] Last) ReadOut(float[] normed, int T, WeightMatrix head, int[] ids, int[] argmax, int slice = 0)
    {
        int V = head.Rows;
        if (slice <= 0) slice = HeadSlices.SliceFor(T);
        var fold = new HeadSlices.RowFold(T);
        var last = new float[V];
        HeadSlices.ForEach(normed, T, head, slice, (v0, vs, logits) =>
        {
            for (int t = 0; t < T; t++) fold.Add(t, v0, logits.AsSpan(t * vs, vs), t + 1 < T ? ids[t + 1] : -1);
            logits.AsSpan((T - 1) * vs, vs).CopyTo(last.AsSpan(v0, vs));
        });
        double nll = 0;
        for (int t = 0; t < T; t++)
        {
            argmax[t] = fold.Top(t);
            if (t + 1 < T) nll += fold.LogZ(t) - fold.Picked(t);
        }
        return (nll, last);
    }
}

/// <summary>One cached activation as `mspgt run --hooks` reports it: its names, shape, summary of the finite values,
/// and the values themselves (row-major; −∞, the masked attention scores, as null).</summary>
public sealed record HookActivation(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("lens_name")] string LensName,
    [property: JsonPropertyName("shape")] int[] Shape,
    [property: JsonPropertyName("start_position")] int StartPosition,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("rms")] double Rms,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max,
    [property: JsonPropertyName("values")] float?[] Values)
{
    public static HookActivation Of(CachedActivation a)
    {
        double sum = 0, squares = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        int n = 0;
        foreach (float v in a.Data)
        {
            if (!float.IsFinite(v)) continue;
            sum += v;
            squares += (double)v * v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            n++;
        }
        return new HookActivation(a.Point.Name, a.Point.LensName, a.Shape.ToArray(), a.StartPosition,
            n == 0 ? 0 : sum / n, n == 0 ? 0 : Math.Sqrt(squares / n), n == 0 ? 0 : min, n == 0 ? 0 : max,
            a.Data.Select(v => float.IsFinite(v) ? v : (float?)null).ToArray());
    }
}
