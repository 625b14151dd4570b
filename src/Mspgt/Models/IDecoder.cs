namespace Mspgt.Models;

/// <summary>
/// The forward pass as its consumers call it, whichever device runs it: the CPU <see cref="Transformer"/> or the
/// GPU one (<see cref="Gpu.GpuTransformer"/>). Both read the same <see cref="ModelConfig"/> and architecture table,
/// take the same hooks and return the same logits; only where the arithmetic happens differs.
/// </summary>
public interface IDecoder
{
    ModelConfig Config { get; }
    /// <summary>The host weights (the logit lens and other host-side readers use them on either device).</summary>
    ModelWeights Weights { get; }
    /// <summary>Where the forward pass runs, as a manifest records it: "cpu" or e.g. "cuda:0 (NVIDIA H200)".</summary>
    string Device { get; }

    KvCache NewCache(int capacity);

    /// <summary>
    /// Runs T tokens starting at position cache.Length (0 without a cache) and returns logits, row-major
    /// [rows, vocab] where rows = T (All), 1 (Last) or 0 (None).
    /// </summary>
    float[] Forward(ReadOnlySpan<int> ids, KvCache? cache = null, Hooks? hooks = null, LogitRows logitRows = LogitRows.All);

    /// <summary>
    /// A forward pass that also returns copies of the activations at <paramref name="points"/> and only those
    /// (TransformerLens's <c>run_with_cache(names_filter=…)</c>). <paramref name="hooks"/> run first, so the cache
    /// holds what editors left. A point the pass does not reach (logits with <see cref="LogitRows.None"/>) is absent.
    /// </summary>
    (float[] Logits, ActivationCache Cache) RunWithCache(ReadOnlySpan<int> ids, IEnumerable<HookPoint> points,
        Hooks? hooks = null, LogitRows logitRows = LogitRows.All);
}

/// <summary>RunWithCache written once for every device: observers that copy, added after the caller's hooks.</summary>
internal static class CachedRun
{
    public static (float[] Logits, ActivationCache Cache) Run(IDecoder model, ReadOnlySpan<int> ids, IEnumerable<HookPoint> points,
        Hooks? hooks, LogitRows logitRows)
    {
        var cache = new ActivationCache();
        var all = hooks?.Copy() ?? new Hooks();
        foreach (var p in points.Distinct()) all.Observe(p, cache.Add);
        var logits = model.Forward(ids, null, all, logitRows);
        return (logits, cache);
    }
}
