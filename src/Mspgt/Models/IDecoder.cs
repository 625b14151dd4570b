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
    /// <see cref="Forward(ReadOnlySpan{int}, KvCache?, Hooks?, LogitRows)"/> that may write the logits over
    /// <paramref name="logitsBuffer"/>, an array the caller no longer needs (its previous call's logits), when it has
    /// their length; the array written is returned. For a caller running pass after pass, as a benchmark does: the CPU
    /// then allocates no new large array per pass, and so triggers no full garbage collection per pass. A device
    /// that gains nothing from it allocates as usual.
    /// </summary>
    float[] Forward(ReadOnlySpan<int> ids, KvCache? cache, Hooks? hooks, LogitRows logitRows, float[]? logitsBuffer) =>
        Forward(ids, cache, hooks, logitRows);

    /// <summary>
    /// A forward pass that also returns copies of the activations at <paramref name="points"/> and only those
    /// (TransformerLens's <c>run_with_cache(names_filter=…)</c>). <paramref name="hooks"/> run first, so the cache
    /// holds what editors left. A point the pass does not reach (logits with <see cref="LogitRows.None"/>) is absent.
    /// </summary>
    (float[] Logits, ActivationCache Cache) RunWithCache(ReadOnlySpan<int> ids, IEnumerable<HookPoint> points,
        Hooks? hooks = null, LogitRows logitRows = LogitRows.All);

    /// <summary>
    /// Runs several documents, each from position 0 without a KV cache, and returns each one's logits as
    /// <see cref="Forward"/> would. Document i's hooks are <paramref name="hooks"/>[i] (null: none; one Hooks may
    /// serve several documents, its hooks then run once per document, in document order): they see that document's
    /// activations as if it ran alone. A device that gains from it runs them as one batched launch; the default
    /// runs them one after another.
    /// </summary>
    IReadOnlyList<float[]> ForwardBatch(IReadOnlyList<int[]> documents, IReadOnlyList<Hooks?>? hooks = null, LogitRows logitRows = LogitRows.All)
    {
        BatchArguments.Check(documents, hooks);
        var result = new float[documents.Count][];
        for (int i = 0; i < documents.Count; i++) result[i] = Forward(documents[i], null, hooks?[i], logitRows);
        return result;
    }

    /// <summary>
    /// How many documents of <paramref name="tokens"/> tokens each one <see cref="ForwardBatch"/> call should take:
    /// 1 where batching gains nothing (the CPU), else as many as the device holds (see the GPU's own rule).
    /// </summary>
    int BatchSize(int tokens) => 1;

    /// <summary>
    /// Drops the host buffers a device keeps for its next call of the same length (on the CPU, one call's activations:
    /// about 16 MB for 256 tokens at the 0.5B shape). For a caller that will next hold large results of its own and
    /// then run a different length, as analyze does with each captured document.
    /// </summary>
    void ReleaseBuffers() { }
}

/// <summary>Batch argument checks shared by every device.</summary>
internal static class BatchArguments
{
    public static void Check(IReadOnlyList<int[]> documents, IReadOnlyList<Hooks?>? hooks)
    {
        if (hooks != null && hooks.Count != documents.Count)
            throw new ArgumentException($"{hooks.Count} hook sets for {documents.Count} documents");
    }
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

    /// <summary>RunWithCache for a batch: each document's copies in its own cache.</summary>
    public static (IReadOnlyList<float[]> Logits, ActivationCache[] Caches) RunBatch(IDecoder model, IReadOnlyList<int[]> documents,
        IEnumerable<HookPoint> points, IReadOnlyList<Hooks?>? hooks, LogitRows logitRows)
    {
        BatchArguments.Check(documents, hooks);
        var distinct = points.Distinct().ToArray();
        var caches = new ActivationCache[documents.Count];
        var all = new Hooks?[documents.Count];
        for (int i = 0; i < documents.Count; i++)
        {
            var cache = caches[i] = new ActivationCache();
            all[i] = hooks?[i]?.Copy() ?? new Hooks();
            foreach (var p in distinct) all[i]!.Observe(p, cache.Add);
        }
        return (model.ForwardBatch(documents, all, logitRows), caches);
    }
}

/// <summary>Batched forms of the <see cref="IDecoder"/> calls that every device shares.</summary>
public static class DecoderBatch
{
    /// <summary>
    /// <see cref="IDecoder.RunWithCache"/> for several documents in one <see cref="IDecoder.ForwardBatch"/>: each
    /// document's copies of <paramref name="points"/> in its own cache, as if it ran alone.
    /// </summary>
    public static (IReadOnlyList<float[]> Logits, ActivationCache[] Caches) RunWithCacheBatch(this IDecoder model,
        IReadOnlyList<int[]> documents, IEnumerable<HookPoint> points, IReadOnlyList<Hooks?>? hooks = null,
        LogitRows logitRows = LogitRows.All) => CachedRun.RunBatch(model, documents, points, hooks, logitRows);
}
