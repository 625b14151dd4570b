namespace Mspgt.Models;

/// <summary>
/// What an observer sees: a read-only view of the engine's own buffer at one hook point, valid only during the
/// call (a ref struct cannot outlive it; copy with <c>Data.ToArray()</c> to keep values).
/// </summary>
public readonly ref struct HookTensor(HookPoint point, ReadOnlySpan<int> shape, int startPosition, ReadOnlySpan<float> data)
{
    public HookPoint Point { get; } = point;
    public string Name => Point.Name;
    /// <summary>Shape, outermost first, e.g. [T, dim] or [heads, T, keys].</summary>
    public ReadOnlySpan<int> Shape { get; } = shape;
    /// <summary>Absolute position of the first of the T rows (non-zero when decoding with a KV cache).</summary>
    public int StartPosition { get; } = startPosition;
    public ReadOnlySpan<float> Data { get; } = data;

    /// <summary>Row r of the innermost dimension (a token's vector in a [T, width] tensor).</summary>
    public ReadOnlySpan<float> Row(int r) => Data.Slice(r * Shape[^1], Shape[^1]);
}

/// <summary>
/// What an editor sees: the same buffer, writable. The next op of the forward pass reads what the editor leaves.
/// </summary>
public readonly ref struct WritableHookTensor(HookPoint point, ReadOnlySpan<int> shape, int startPosition, Span<float> data)
{
    public HookPoint Point { get; } = point;
    public string Name => Point.Name;
    public ReadOnlySpan<int> Shape { get; } = shape;
    public int StartPosition { get; } = startPosition;
    public Span<float> Data { get; } = data;

    public Span<float> Row(int r) => Data.Slice(r * Shape[^1], Shape[^1]);

    public static implicit operator HookTensor(WritableHookTensor t) => new(t.Point, t.Shape, t.StartPosition, t.Data);
}

/// <summary>
/// Per query row of one layer's attention: entropy (nats) and mean distance (positions), [heads·queries] head-major,
/// for queries at positions StartPosition.. (views valid only during the call).
/// </summary>
public readonly ref struct AttentionRowValues(ReadOnlySpan<double> entropy, ReadOnlySpan<double> distance, int heads, int queries, int startPosition)
{
    public ReadOnlySpan<double> Entropy { get; } = entropy;
    public ReadOnlySpan<double> Distance { get; } = distance;
    public int Heads { get; } = heads;
    public int Queries { get; } = queries;
    public int StartPosition { get; } = startPosition;
}

/// <summary>Reads a layer's per-row attention entropy and distance; must not keep the views.</summary>
public delegate void AttentionRowsObserver(AttentionRowValues rows);

/// <summary>Reads an activation; must not keep the view.</summary>
public delegate void HookObserver(HookTensor activation);

/// <summary>Changes an activation in place before the forward pass goes on.</summary>
public delegate void HookEditor(WritableHookTensor activation);
