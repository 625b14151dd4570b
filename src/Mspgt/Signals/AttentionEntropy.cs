namespace Mspgt.Signals;

/// <summary>
/// Mean over heads and query positions of the attention entropy −Σ_k p log p (nats, 0 log 0 = 0), and the same
/// entropy normalised by log(number of visible keys) (defined as 0 for the first position, which sees one key).
/// Reads a pattern [heads, T, keys] as the engine hands it to an `attn.pattern` hook; keeps only running sums.
/// </summary>
public sealed class AttentionEntropy
{
    private double _sum, _sumNorm;
    private long _count;

    /// <summary>Adds a whole pattern [heads, T, keys] (tests and benchmarks; the model hands over rows, see <see cref="AddRows"/>).</summary>
    public void Add(ReadOnlySpan<float> pattern, int heads, int queries, int keys, int startPosition)
    {
        var (entropy, _) = Rows(pattern, heads, queries, keys, startPosition);
        AddRows(entropy, heads, queries, startPosition);
    }

    internal static (double[] Entropy, double[] Distance) Rows(ReadOnlySpan<float> pattern, int heads, int queries, int keys, int startPosition)
    {
        var entropy = new double[heads * queries];
        var distance = new double[heads * queries];
        Numerics.AttentionRows.Compute(pattern, heads, queries, keys, startPosition, entropy, distance);
        return (entropy, distance);
    }

    internal static double Entropy(ReadOnlySpan<float> row) => Numerics.AttentionRows.Entropy(row);

    /// <summary>Adds per-row entropies [heads·queries] (head-major) as an attention-rows hook hands them over.</summary>
    public void AddRows(ReadOnlySpan<double> entropy, int heads, int queries, int startPosition)
    {
        // log(visible keys) once per query position, not once per head and position: a logarithm per row was 60 µs
        // a layer of a 256-token 110M prefill (12 heads), run on one thread between two parallel regions.
        Span<double> logVisible = queries <= 1024 ? stackalloc double[queries] : new double[queries];
        for (int t = 0; t < queries; t++) logVisible[t] = Math.Log(startPosition + t + 1);
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < queries; t++)
            {
                double e = entropy[h * queries + t];
                _sum += e;
                _sumNorm += startPosition + t + 1 > 1 ? e / logVisible[t] : 0;
                _count++;
            }
    }

    public double Mean => _count == 0 ? double.NaN : _sum / _count;
    public double MeanNormalised => _count == 0 ? double.NaN : _sumNorm / _count;
    public long Count => _count;
}

/// <summary>
/// The paper's attention span: mean over heads and query positions of Σ_k p(q,k)·|q−k| (in positions).
/// </summary>
public sealed class AttentionDistance
{
    private double _sum;
    private long _count;

    /// <summary>Adds a whole pattern [heads, T, keys] (tests and benchmarks; the model hands over rows, see <see cref="AddRows"/>).</summary>
    public void Add(ReadOnlySpan<float> pattern, int heads, int queries, int keys, int startPosition) =>
        AddRows(AttentionEntropy.Rows(pattern, heads, queries, keys, startPosition).Distance);

    /// <summary>Adds per-row distances [heads·queries] as an attention-rows hook hands them over.</summary>
    public void AddRows(ReadOnlySpan<double> distance)
    {
        foreach (double d in distance) { _sum += d; _count++; }
    }

    public double Mean => _count == 0 ? double.NaN : _sum / _count;
}

/// <summary>Per-layer attention entropy and distance, streamed from each layer's `attn.pattern` hook.</summary>
public sealed class AttentionStatistics
{
    public AttentionEntropy[] Entropy { get; }
    public AttentionDistance[] Distance { get; }

    private AttentionStatistics(int layers)
    {
        Entropy = Enumerable.Range(0, layers).Select(_ => new AttentionEntropy()).ToArray();
        Distance = Enumerable.Range(0, layers).Select(_ => new AttentionDistance()).ToArray();
    }

    /// <summary>Adds an observer on every layer's pattern to <paramref name="hooks"/>; the returned sums fill as the model runs.</summary>
    public static AttentionStatistics Observe(Models.Hooks hooks, int layers)
    {
        var s = new AttentionStatistics(layers);
        for (int l = 0; l < layers; l++)
        {
            int layer = l;
            // Per-row values, not the pattern: a GPU forward pass reduces them on the device.
            hooks.ObserveAttentionRows(l, r =>
            {
                s.Entropy[layer].AddRows(r.Entropy, r.Heads, r.Queries, r.StartPosition);
                s.Distance[layer].AddRows(r.Distance);
            });
        }
        return s;
    }
}
