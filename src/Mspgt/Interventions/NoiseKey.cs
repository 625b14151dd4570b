using Mspgt.Numerics;

namespace Mspgt.Interventions;

/// <summary>
/// Gaussian noise that depends only on (seed, document, run, block, position): the same position of the same
/// document gets the same noise whether it is run in one prefill or token by token with a KV cache, in any order.
/// Standard normals come from SplitMix64 through the Box–Muller transform (reproducible across .NET versions).
/// </summary>
public readonly record struct NoiseKey(int Seed, int Document, int Run)
{
    /// <summary>
    /// Writes σ·z (z standard normal, one per coordinate) into <paramref name="row"/>, each value rounded to float:
    /// the noise an edit adds to a row, computed on the host on either device (a GPU uploads it, so host and device
    /// add the same floats).
    /// </summary>
    public void Write(Span<float> row, int layer, int position, double sigma)
    {
        var rng = new SplitMix64(Mix(Mix(Mix(Mix(Mix((ulong)(uint)Seed ^ 0x6E6F697365UL) ^ (ulong)(uint)Document) ^ (ulong)(uint)Run) ^ (ulong)(uint)layer) ^ (ulong)(uint)position));
        for (int d = 0; d < row.Length; d += 2)
        {
            // u1 in (0, 1] so the log is finite; 53 random bits each.
            double u1 = ((rng.NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));
            double u2 = (rng.NextUInt64() >> 11) * (1.0 / (1UL << 53));
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            row[d] = (float)(sigma * radius * Math.Cos(2 * Math.PI * u2));
            if (d + 1 < row.Length) row[d + 1] = (float)(sigma * radius * Math.Sin(2 * Math.PI * u2));
        }
    }

    /// <summary>The SplitMix64 finaliser: a bijective 64-bit mix, so distinct inputs give distinct states.</summary>
    internal static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
