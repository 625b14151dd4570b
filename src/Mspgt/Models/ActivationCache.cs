namespace Mspgt.Models;

/// <summary>A copy of one activation taken during a forward pass.</summary>
public sealed class CachedActivation(HookPoint point, int[] shape, int startPosition, float[] data)
{
    public HookPoint Point { get; } = point;
    /// <summary>Shape, outermost first.</summary>
    public IReadOnlyList<int> Shape { get; } = shape;
    /// <summary>Absolute position of the first row.</summary>
    public int StartPosition { get; } = startPosition;
    public float[] Data { get; } = data;

    /// <summary>Row r of the innermost dimension.</summary>
    public ReadOnlySpan<float> Row(int r) => Data.AsSpan(r * Shape[^1], Shape[^1]);
}

/// <summary>
/// The activations <see cref="Transformer.RunWithCache"/> was asked for, copied as the forward pass reached them
/// (TransformerLens's <c>run_with_cache(names_filter=…)</c>): exactly those, nothing else.
/// </summary>
public sealed class ActivationCache
{
    private readonly Dictionary<HookPoint, CachedActivation> _items = [];

    public CachedActivation this[HookPoint point] => _items.TryGetValue(point, out var a) ? a
        : throw new KeyNotFoundException($"{point.Name} is not in the cache (cached: {string.Join(", ", _items.Keys.Select(p => p.Name))})");

    public IReadOnlyCollection<HookPoint> Points => _items.Keys;
    public int Count => _items.Count;
    public bool Contains(HookPoint point) => _items.ContainsKey(point);

    internal void Add(HookTensor t) =>
        _items[t.Point] = new CachedActivation(t.Point, t.Shape.ToArray(), t.StartPosition, t.Data.ToArray());
}
