using Mspgt.Numerics;

namespace Mspgt.Models;

/// <summary>Next-token choice: greedy (temperature 0), or temperature with optional top-k and top-p, seeded.</summary>
public sealed record SamplingOptions(float Temperature = 0f, int TopK = 0, float TopP = 1f, int Seed = 0)
{
    public void Validate()
    {
        if (!(Temperature >= 0) || !float.IsFinite(Temperature)) throw MspgtException.ForSetting("temperature", $"must be ≥ 0, got {Temperature}");
        if (TopK < 0) throw MspgtException.ForSetting("top_k", $"must be ≥ 0, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw MspgtException.ForSetting("top_p", $"must be in (0, 1], got {TopP}");
    }
}

/// <summary>Draws tokens from logits with its own seeded generator, so the same seed gives the same text.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions _o;
    private readonly Random _rng;

    public Sampler(SamplingOptions options)
    {
        options.Validate();
        _o = options;
        _rng = new Random(options.Seed);
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_o.Temperature == 0f) return Kernels.ArgMax(logits);
        int n = logits.Length;
        var idx = new int[n];
        var p = new double[n];
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        for (int i = 0; i < n; i++) { idx[i] = i; p[i] = Math.Exp((logits[i] - max) / _o.Temperature); }
        // Sort by probability, descending; ties by id so the order is deterministic.
        Array.Sort(idx, (a, b) => p[b] != p[a] ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        int keep = _o.TopK > 0 ? Math.Min(_o.TopK, n) : n;
        double total = 0;
        for (int i = 0; i < keep; i++) total += p[idx[i]];
        if (_o.TopP < 1f)
        {
            double cum = 0;
            for (int i = 0; i < keep; i++)
            {
                cum += p[idx[i]] / total;
                if (cum >= _o.TopP) { keep = i + 1; break; }
            }
            total = 0;
            for (int i = 0; i < keep; i++) total += p[idx[i]];
        }
        double r = _rng.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            r -= p[idx[i]];
            if (r <= 0) return idx[i];
        }
        return idx[keep - 1];
    }
}
