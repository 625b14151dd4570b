namespace Mspgt.Numerics;

/// <summary>
/// A small seeded generator (SplitMix64, Steele, Lea &amp; Flood 2014) used for every resampling procedure.
/// Written out here instead of using <see cref="System.Random"/> so that a seed gives the same intervals and
/// p-values on every .NET version and platform: reported numbers must be reproducible from the seed alone.
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>A generator for one named stream of a user seed, so that the bootstrap and the permutation test
    /// drawn from the same seed do not share random numbers.</summary>
    public static SplitMix64 ForStream(int seed, ulong stream)
    {
        var mixer = new SplitMix64(unchecked((ulong)(uint)seed ^ (stream * 0xD1B54A32D192ED03UL)));
        return new SplitMix64(mixer.NextUInt64());
    }

    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    public ulong NextUInt64() => Mix(unchecked(_state += Gamma));

    /// <summary>
    /// Output number <paramref name="n"/> (from 0) of a generator started at <paramref name="seed"/>, without drawing
    /// the ones before it: SplitMix64's state only ever advances by a constant, so any output is one multiply and
    /// one mix away. Lets independent chunks of a long stream be drawn in parallel, each value the same.
    /// </summary>
    public static ulong At(ulong seed, long n) => Mix(unchecked(seed + ((ulong)n + 1) * Gamma));

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>A uniform integer in [0, bound) without modulo bias (rejection of the short top range).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        ulong b = (ulong)bound;
        ulong limit = ulong.MaxValue - (ulong.MaxValue % b + 1) % b; // largest multiple of b, minus one
        ulong x;
        do x = NextUInt64(); while (x > limit);
        return (int)(x % b);
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal draw (Box–Muller, one of the pair; 1 − U keeps the logarithm's argument in (0, 1]).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
