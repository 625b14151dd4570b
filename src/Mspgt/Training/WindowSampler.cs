using Mspgt.Numerics;
namespace Mspgt.Training;

/// <summary>
/// The training windows of each step: B random starts in the token stream, each a window of S+1 tokens (S inputs,
/// S shifted targets). A window is a pure function of (seed, step, index) through SplitMix64, so a resumed run sees
/// exactly the windows an uninterrupted one would, with no generator state to save.
/// </summary>
public sealed class WindowSampler
{
    private readonly int _seed;
    private readonly int _streamLength;
    public int Sequence { get; }
    public int Batch { get; }

    public WindowSampler(int seed, int streamLength, int sequence, int batch)
    {
        if (streamLength < sequence + 1)
            throw MspgtException.ForSetting("seq", $"the training stream has {streamLength} tokens, fewer than one window of seq+1 = {sequence + 1}");
        _seed = seed; _streamLength = streamLength; Sequence = sequence; Batch = batch;
    }

    /// <summary>Start offsets of the step's B windows.</summary>
    public int[] Starts(long step)
    {
        ulong range = (ulong)(_streamLength - Sequence); // starts 0 .. length - (S+1)
        var starts = new int[Batch];
        for (int b = 0; b < Batch; b++)
        {
            ulong h = SplitMix64(SplitMix64(SplitMix64((ulong)(uint)_seed) ^ (ulong)step) ^ (ulong)b);
            starts[b] = (int)Math.BigMul(h, range, out _); // ⌊h·range / 2⁶⁴⌋: uniform without modulo bias worth noting
        }
        return starts;
    }

    public static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
