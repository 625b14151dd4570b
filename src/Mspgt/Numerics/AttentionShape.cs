namespace Mspgt.Numerics;

/// <summary>
/// One causal grouped-query attention call: T queries at absolute positions Start..Start+T−1 over the keys at
/// positions 0..Start+T−1 (a KV cache's earlier positions plus the new ones). Query head h reads key/value head
/// h / (Heads / KvHeads); a query at position p sees keys <see cref="FirstKey"/>(p)..p.
/// Layouts, row-major: q and z [T, Heads, HeadDim]; k and v [≥ Keys, KvHeads, HeadDim]; scores and pattern
/// [Heads, T, Keys].
/// </summary>
/// <param name="Window">Sliding-window width (a query sees its own and the Window−1 previous keys); int.MaxValue = all.</param>
public readonly record struct AttentionShape(int Tokens, int Start, int Heads, int KvHeads, int HeadDim, int Window = int.MaxValue)
{
    public int Keys => Start + Tokens;
    public int Group => Heads / KvHeads;
    public int QDim => Heads * HeadDim;
    public int KvDim => KvHeads * HeadDim;
    public float Scale => 1f / MathF.Sqrt(HeadDim);
    public long PatternLength => (long)Heads * Tokens * Keys;

    /// <summary>The first key the query at absolute position <paramref name="position"/> sees.</summary>
    public int FirstKey(int position) => Window == int.MaxValue ? 0 : Math.Max(0, position - Window + 1);

    /// <summary>Values in q or z: T × Heads × HeadDim.</summary>
    public long QueryLength => (long)Tokens * QDim;
    /// <summary>Values of k or v that the call reads: Keys × KvHeads × HeadDim.</summary>
    public long KeyLength => (long)Keys * KvDim;

    /// <summary>Throws unless the shape is consistent and each buffer is long enough (a negative length is not checked).</summary>
    public void Check(long q = -1, long k = -1, long v = -1, long z = -1, long pattern = -1)
    {
        if (Tokens <= 0 || Start < 0 || Heads <= 0 || KvHeads <= 0 || Heads % KvHeads != 0 || HeadDim <= 0 || Window <= 0)
            throw new ArgumentException($"invalid attention shape {this}");
        Need(q, QueryLength, "q");
        Need(k, KeyLength, "k");
        Need(v, KeyLength, "v");
        Need(z, QueryLength, "z");
        Need(pattern, PatternLength, "the pattern");
    }

    private static void Need(long length, long need, string what)
    {
        if (length >= 0 && length < need) throw new ArgumentException($"{what} holds {length} values; the call needs {need}");
    }
}
