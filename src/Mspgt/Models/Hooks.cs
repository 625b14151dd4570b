namespace Mspgt.Models;

/// <summary>
/// Observers and editors by hook point. Observers get a read-only view, editors a writable one; hooks at one point
/// run in the order they were added. Only hooked activations are handed out: scores and patterns are materialised
/// only for a layer a hook asks them of. Layers are checked against the model when the forward pass starts.
/// </summary>
public sealed class Hooks
{
    private readonly List<HookEntry> _entries = [];
    private HookTable? _table;

    public Hooks Observe(HookPoint point, HookObserver observer) => Add(new HookEntry(point, observer, null));

    public Hooks Edit(HookPoint point, HookEditor editor) => Add(new HookEntry(point, null, editor));

    /// <summary>
    /// An edit described as data (<see cref="ActivationEdit"/>): the CPU applies it like any editor, a GPU forward
    /// pass applies it on the device without copying the activation to the host and back.
    /// </summary>
    public Hooks Edit(HookPoint point, ActivationEdit edit) => Add(new HookEntry(point, null, null, Edit: edit));

    /// <summary>
    /// Per query row of layer <paramref name="layer"/>'s attention pattern: its entropy and mean distance (see
    /// <see cref="Numerics.AttentionRows"/>), after the pattern's own hooks. The pattern itself is not handed out, so a
    /// GPU forward pass reduces it on the device and copies only 2·heads·T numbers.
    /// </summary>
    public Hooks ObserveAttentionRows(int layer, AttentionRowsObserver observer) =>
        Add(new HookEntry(HookPoint.AttnPattern(layer), null, null, observer));

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>A new set with these hooks, to add to without changing this one.</summary>
    public Hooks Copy()
    {
        var copy = new Hooks();
        copy._entries.AddRange(_entries);
        return copy;
    }

    private Hooks Add(HookEntry entry)
    {
        _entries.Add(entry);
        _table = null;
        return this;
    }

    /// <summary>The lookup the forward pass uses, built once per model depth; a layer outside the model is an error.</summary>
    internal HookTable Resolve(int layers)
    {
        if (_table != null && _table.Layers == layers) return _table;
        foreach (var e in _entries)
            if (e.Point.Layer >= layers)
                throw new MspgtException("hook", $"hook \"{e.Point.Name}\" names layer {e.Point.Layer} but the model has layers 0..{layers - 1}");
        return _table = new HookTable(layers, _entries);
    }
}

internal sealed record HookEntry(HookPoint Point, HookObserver? Observer, HookEditor? Editor, AttentionRowsObserver? Rows = null,
    ActivationEdit? Edit = null);

/// <summary>Hooks by point for one model depth: an array slot per (kind, layer), so a miss costs one load.</summary>
internal sealed class HookTable
{
    private readonly HookEntry[]?[] _slots;
    public int Layers { get; }

    public HookTable(int layers, IEnumerable<HookEntry> entries)
    {
        Layers = layers;
        _slots = new HookEntry[]?[Enum.GetValues<HookKind>().Length * (layers + 1)];
        foreach (var g in entries.GroupBy(e => e.Point)) _slots[Slot(g.Key)] = g.ToArray();
    }

    private int Slot(HookPoint p) => (int)p.Kind * (Layers + 1) + p.Layer + 1;

    /// <summary>Whether any hook (tensor or attention rows) is at <paramref name="p"/>: the CPU then materialises it.</summary>
    public bool Has(HookPoint p) => _slots[Slot(p)] != null;

    /// <summary>Whether an observer or editor of the tensor itself is at <paramref name="p"/> (a device copies it to the host only then).</summary>
    public bool HasTensorHooks(HookPoint p) => _slots[Slot(p)]?.Any(e => e.Rows == null) == true;

    /// <summary>Whether an attention-rows observer is at <paramref name="p"/> (a layer's pattern point).</summary>
    public bool HasRows(HookPoint p) => _slots[Slot(p)]?.Any(e => e.Rows != null) == true;

    public void FireRows(HookPoint p, AttentionRowValues rows)
    {
        var hooks = _slots[Slot(p)];
        if (hooks == null) return;
        foreach (var h in hooks) h.Rows?.Invoke(rows);
    }

    /// <summary>Whether a hook at <paramref name="p"/> may change the activation.</summary>
    public bool HasEditor(HookPoint p) => _slots[Slot(p)]?.Any(e => e.Editor != null || e.Edit != null) == true;

    /// <summary>The hooks at <paramref name="p"/> in the order they were added (empty when none).</summary>
    public ReadOnlySpan<HookEntry> At(HookPoint p) => _slots[Slot(p)];

    /// <summary>Runs the hooks at <paramref name="p"/>, if any, on <paramref name="data"/>.</summary>
    public void Fire(HookPoint p, Span<float> data, ReadOnlySpan<int> shape, int startPosition)
    {
        var hooks = _slots[Slot(p)];
        if (hooks == null) return;
        foreach (var h in hooks)
        {
            if (h.Rows != null) continue;
            var t = new WritableHookTensor(p, shape, startPosition, data);
            if (h.Edit != null) h.Edit.Apply(t);
            else if (h.Editor != null) h.Editor(t);
            else h.Observer!(t);
        }
    }
}
