using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// −Σ p log p of one row in double precision, 0 log 0 = 0. Streamed over every pattern row of every layer, so
    /// it runs 4 doubles at a time (Vector256.Log, within an ulp of Math.Log) into two fixed partial sums: the
    /// result is deterministic and differs from a sequential sum only by double rounding.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static double Entropy(ReadOnlySpan<float> row)
    {
        int i = 0;
        double e = 0;
        if (Vector256.IsHardwareAccelerated && row.Length >= 8)
        {
            ref float r0 = ref MemoryMarshal.GetReference(row);
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; i + 8 <= row.Length; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref r0, (nuint)i));
                acc0 += PLogP(lo);
                acc1 += PLogP(hi);
            }
            e = -Vector256.Sum(acc0 + acc1);
        }
        for (; i < row.Length; i++)
        {
            float p = row[i];
            if (p > 0) e -= p * Math.Log(p);
        }
        return e;
    }

    private static Vector256<double> PLogP(Vector256<double> p) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(p, Vector256<double>.Zero), p * Vector256.Log(p), Vector256<double>.Zero);

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
            hooks.Observe(Models.HookPoint.AttnPattern(l), t =>
            {
                s.Entropy[layer].Add(t.Data, t.Shape[0], t.Shape[1], t.Shape[2], t.StartPosition);
                s.Distance[layer].Add(t.Data, t.Shape[0], t.Shape[1], t.Shape[2], t.StartPosition);
            });
        }
        return s;
    }
}
