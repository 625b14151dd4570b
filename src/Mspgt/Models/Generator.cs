namespace Mspgt.Models;

/// <summary>Autoregressive generation with a KV cache: prefill the prompt once, then one position per step.</summary>
public static class Generator
{
    /// <param name="stopIds">Ids that end generation (not included in the result).</param>
    /// <param name="hooks">Hooks run on the prompt and on every generated position.</param>
    public static int[] Generate(IDecoder model, ReadOnlySpan<int> prompt, int maxNewTokens, SamplingOptions sampling,
        IReadOnlyCollection<int>? stopIds = null, Hooks? hooks = null, Action<int>? onToken = null)
    {
        if (prompt.Length == 0) throw MspgtException.ForSetting("prompt", "empty prompt (no tokens)");
        if (maxNewTokens < 0) throw MspgtException.ForSetting("max_tokens", "must be ≥ 0");
        int capacity = Math.Min(model.Config.MaxSeq, prompt.Length + maxNewTokens);
        if (prompt.Length > model.Config.MaxSeq)
            throw MspgtException.ForSetting("prompt", $"prompt of {prompt.Length} tokens is longer than the model's context of {model.Config.MaxSeq}");
        var cache = model.NewCache(Math.Max(capacity, prompt.Length));
        var sampler = new Sampler(sampling);
        var output = new List<int>();
        var logits = model.Forward(prompt, cache, hooks, LogitRows.Last);
        Span<int> one = stackalloc int[1];
        while (output.Count < maxNewTokens)
        {
            int next = sampler.Next(logits);
            if (stopIds != null && stopIds.Contains(next)) break;
            output.Add(next);
            onToken?.Invoke(next);
            if (output.Count >= maxNewTokens || cache.Length >= cache.Capacity) break;
            one[0] = next;
            logits = model.Forward(one, cache, hooks, LogitRows.Last);
        }
        return output.ToArray();
    }
}
