namespace Mspgt.Training;

/// <summary>Reusable float buffers by slot, grown on demand, so a training step allocates nothing once warm.</summary>
public sealed class ScratchBuffers
{
    private readonly Dictionary<string, float[]> _buffers = new(StringComparer.Ordinal);

    /// <summary>A buffer of at least length floats (contents unspecified).</summary>
    public float[] Get(string slot, int length)
    {
        if (!_buffers.TryGetValue(slot, out var b) || b.Length < length)
        {
            b = new float[length];
            _buffers[slot] = b;
        }
        return b;
    }

    /// <summary>A zeroed span of exactly length floats.</summary>
    public Span<float> Zeroed(string slot, int length)
    {
        var s = Get(slot, length).AsSpan(0, length);
        s.Clear();
        return s;
    }
}
