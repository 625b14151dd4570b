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

    public void Add(ReadOnlySpan<float> pattern, int heads, int queries, int keys, int startPosition)
    {
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < queries; t++)
            {
                int visible = startPosition + t + 1;
                var row = pattern.Slice((h * queries + t) * keys, visible);
                double e = Entropy(row);
                _sum += e;
                _sumNorm += visible > 1 ? e / Math.Log(visible) : 0;
                _count++;
            }
    }

    internal static double Entropy(ReadOnlySpan<float> row) => Numerics.AttentionRows.Entropy(row);

    /// <summary>Adds per-row entropies [heads·queries] (head-major) as an attention-rows hook hands them over.</summary>
    public void AddRows(ReadOnlySpan<double> entropy, int heads, int queries, int startPosition)
    {
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < queries; t++)
            {
                int visible = startPosition + t + 1;
                double e = entropy[h * queries + t];
                _sum += e;
                _sumNorm += visible > 1 ? e / Math.Log(visible) : 0;
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

    public void Add(ReadOnlySpan<float> pattern, int heads, int queries, int keys, int startPosition)
    {
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < queries; t++)
            {
                int pos = startPosition + t;
                var row = pattern.Slice((h * queries + t) * keys, pos + 1);
                double d = 0;
                for (int k = 0; k <= pos; k++) d += row[k] * (double)(pos - k);
                _sum += d;
                _count++;
            }
    }

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
