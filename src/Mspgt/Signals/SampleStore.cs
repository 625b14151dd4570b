using Mspgt.Files;

namespace Mspgt.Signals;

/// <summary>
/// Where the token samples each document keeps for the corpus-level stage (pooled MI rows, probe rows) wait for it:
/// in memory, or in an unlinked temporary file. Those samples grow with the corpus (about 8 MB a document at the
/// 0.5B shape, 11 MB at the 8B one), while everything else an analysis holds is one document's; on disk they leave
/// peak memory at one document's working set however many documents there are, and the corpus-level stage reads
/// back one representation at a time. Reads and writes are positional, so any thread may read any set.
/// </summary>
public sealed class SampleStore : IDisposable
{
    private readonly SpillFile? _file;

    private SampleStore(SpillFile? file) => _file = file;

    /// <summary>Samples kept as the arrays they are (tests, and callers that keep few documents).</summary>
    public static SampleStore InMemory() => new(null);

    /// <summary>
    /// Samples in a new file in <paramref name="directory"/> (default: the system's temporary folder, TMPDIR), unlinked
    /// at once where the system allows it (so nothing is left behind, even by a killed process), else deleted on close.
    /// </summary>
    public static SampleStore OnDisk(string? directory = null) => new(SpillFile.Create("the analysis's token samples", directory));

    /// <summary>Whether kept samples go to disk.</summary>
    public bool Spills => _file != null;

    /// <summary>An empty handle for <paramref name="count"/> sets, to be filled by <see cref="SampleRows.Put"/> in any order, from any thread.</summary>
    public SampleRows NewRows(int count) => new(this, count);

    /// <summary>Writes <paramref name="set"/> at the file's end and returns its offset.</summary>
    internal long Write(ReadOnlySpan<float> set) => _file!.Write(set);

    internal float[] Read(long offset, int length)
    {
        var data = GC.AllocateUninitializedArray<float>(length);
        ReadInto(offset, data);
        return data;
    }

    internal void ReadInto(long offset, Span<float> data) => _file!.ReadInto(offset, data);

    public void Dispose() => _file?.Dispose();
}

/// <summary>
/// One document's kept rows, one float array per representation, as <see cref="SampleStore"/> stored them. Each
/// read of a spilled set returns a new array (the caller may change it; the store keeps the original).
/// </summary>
public sealed class SampleRows : IReadOnlyList<float[]>
{
    private readonly SampleStore _store;
    private readonly float[]?[] _sets;      // in memory
    private readonly long[] _offsets;       // on disk
    private readonly int[] _lengths;

    internal SampleRows(SampleStore store, int count)
    {
        _store = store;
        _sets = new float[store.Spills ? 0 : count][];
        _offsets = new long[count];
        _lengths = Enumerable.Repeat(-1, count).ToArray();
    }

    /// <summary>Keeps a copy of set <paramref name="index"/> (on disk: written now), so the caller may reuse its buffer.</summary>
    public void Put(int index, ReadOnlySpan<float> set)
    {
        if (_store.Spills) _offsets[index] = _store.Write(set);
        else _sets[index] = set.ToArray();
        _lengths[index] = set.Length;
    }

    public int Count => _lengths.Length;

    /// <summary>
    /// Set <paramref name="index"/> of every document, one after another, widened into <paramref name="into"/>
    /// (row-major float64, the documents' rows stacked in order): document d's set has <paramref name="lengths"/>[d]
    /// values and passes through <paramref name="buffer"/>, so no per-document array is made.
    /// </summary>
    public static void Gather(IReadOnlyList<IReadOnlyList<float[]>> documents, IReadOnlyList<int> lengths, int index,
        float[] buffer, double[] into)
    {
        int at = 0;
        for (int d = 0; d < documents.Count; d++)
        {
            var part = buffer.AsSpan(0, lengths[d]);
            CopyTo(documents[d], index, part);
            System.Numerics.Tensors.TensorPrimitives.ConvertChecked<float, double>(part, into.AsSpan(at, part.Length));   // exact
            at += part.Length;
        }
    }

    /// <summary>Copies set <paramref name="index"/> of <paramref name="rows"/> into <paramref name="into"/> (exactly its
    /// length) without a new array when the set is on disk: a reader going through many documents' sets reuses one buffer.</summary>
    public static void CopyTo(IReadOnlyList<float[]> rows, int index, Span<float> into)
    {
        if (rows is SampleRows s && s._store.Spills)
        {
            if (s._lengths[index] < 0) throw new InvalidOperationException($"sample set {index} was never kept");
            if (into.Length != s._lengths[index]) throw new ArgumentException($"sample set {index} has {s._lengths[index]} values, the buffer {into.Length}");
            s._store.ReadInto(s._offsets[index], into);
            return;
        }
        var set = rows[index];
        if (into.Length != set.Length) throw new ArgumentException($"sample set {index} has {set.Length} values, the buffer {into.Length}");
        set.CopyTo(into);
    }

    public float[] this[int index]
    {
        get
        {
            if (_lengths[index] < 0) throw new InvalidOperationException($"sample set {index} was never kept");
            return _store.Spills ? _store.Read(_offsets[index], _lengths[index]) : _sets[index]!;
        }
    }

    public IEnumerator<float[]> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
