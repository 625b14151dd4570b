using Mspgt.Numerics;
using Mspgt.Interventions.Statistics;

namespace Mspgt.Interventions;

/// <summary>The control windows of one named segment: which were used, out of how many possible.</summary>
/// <param name="Windows">The windows used, sorted by first block; draw j of the parquet file is Windows[j].</param>
/// <param name="Candidates">Contiguous windows of the segment's width that do not overlap it.</param>
/// <param name="Requested">The number of controls asked for.</param>
public sealed record ControlWindowSet(IReadOnlyList<(int First, int Last)> Windows, int Candidates, int Requested)
{
    /// <summary>Smallest exceedance p the windows allow, 1/(k+1); null without windows.</summary>
    public double? ExceedancePFloor => Windows.Count == 0 ? null : 1.0 / (Windows.Count + 1);

    /// <summary>Why the set is smaller than asked for, or null.</summary>
    public string? Note => Candidates == 0
        ? "no window of this width avoids the segment: no control comparison"
        : Candidates < Requested
            ? FormattableString.Invariant($"only {Candidates} non-overlapping window(s) of this width exist: all are used, so the exceedance p cannot go below {ExceedancePFloor:0.###}")
            : null;
}

/// <summary>
/// Chooses the random-segment controls of a named segment [f, l] of width w: the candidates are every contiguous
/// window of width w in blocks 0..L−1 that shares no block with [f, l] (a window overlapping the segment would
/// partly re-run the segment's own intervention and pull the control towards it). With at least k candidates, k
/// distinct windows are drawn without replacement (a window drawn twice would count one control twice in the
/// exceedance p); with fewer, all of them are used.
/// </summary>
public static class ControlWindows
{
    /// <summary>k = 19 makes the smallest exceedance p 1/(k+1) = 0.05.</summary>
    public const int DefaultCount = 19;

    /// <param name="segmentIndex">The segment's position in the settings: each segment draws from its own stream.</param>
    public static ControlWindowSet Choose(LayerSegment segment, int layers, int count, int seed, int segmentIndex)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if (count < 1) throw MspgtException.ForSetting("controls", $"must be ≥ 1, got {count}");
        if (segment.First < 0 || segment.Last >= layers || segment.First > segment.Last)
            throw MspgtException.ForSetting("segments", $"segment {segment.Name} = {segment.First}-{segment.Last} does not fit {layers} blocks");
        int w = segment.Width;
        var candidates = new List<int>();
        for (int start = 0; start + w - 1 < layers; start++)
            if (start + w - 1 < segment.First || start > segment.Last) candidates.Add(start);

        var starts = candidates.ToArray();
        if (starts.Length > count)
        {
            // Partial Fisher–Yates: the first `count` entries become a uniform draw without replacement.
            var rng = new SplitMix64(NoiseKey.Mix(NoiseKey.Mix((ulong)(uint)seed ^ 0x636F6E74726F6CUL) ^ (ulong)segmentIndex));
            for (int j = 0; j < count; j++)
            {
                int pick = j + rng.NextInt(starts.Length - j);
                (starts[j], starts[pick]) = (starts[pick], starts[j]);
            }
            starts = starts[..count];
            Array.Sort(starts);
        }
        return new ControlWindowSet(starts.Select(s => (s, s + w - 1)).ToArray(), candidates.Count, count);
    }
}
