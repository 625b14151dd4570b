namespace Mspgt.Models;

/// <summary>
/// Keys (after RoPE) and values of every layer for the positions processed so far, so that decoding a new token
/// only runs the new position. Length is the number of cached positions.
/// </summary>
public sealed class KvCache
{
    internal readonly float[][] K;
    internal readonly float[][] V;
    public int Capacity { get; }
    public int Length { get; internal set; }

    public KvCache(ModelConfig config, int capacity)
    {
        if (capacity <= 0 || capacity > config.MaxSeq)
            throw new MspgtException("--max-tokens", $"a KV cache of {capacity} positions does not fit the model's context of {config.MaxSeq}");
        Capacity = capacity;
        K = new float[config.Layers][];
        V = new float[config.Layers][];
        for (int l = 0; l < config.Layers; l++)
        {
            K[l] = new float[(long)capacity * config.KvDim];
            V[l] = new float[(long)capacity * config.KvDim];
        }
    }

    /// <summary>Forgets positions from <paramref name="length"/> on (e.g. to re-run a shared prompt prefix).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }
}
