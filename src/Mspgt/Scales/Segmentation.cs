namespace Mspgt.Scales;

/// <summary>
/// A split of <see cref="NLayers"/> layers into contiguous segments.
/// Boundary convention (other code depends on it): a boundary b is the index of the first layer of the next
/// segment, so K boundaries satisfy 1 ≤ b1 &lt; … &lt; bK ≤ L−1 and the segments are, inclusive,
/// [0, b1−1], [b1, b2−1], …, [bK, L−1]. The depth fraction of a boundary is b / L.
/// <see cref="Cost"/> is the least-squares cost of the segmentation (without any penalty).
/// </summary>
public sealed record Segmentation(int NLayers, int[] Boundaries, double Cost)
{
    public int ChangePoints => Boundaries.Length;

    /// <summary>Inclusive [first, last] layer of each segment.</summary>
    public int[][] Segments() => SegmentsOf(Boundaries, NLayers);

    public double[] DepthFractions() => DepthFractionsOf(Boundaries, NLayers);

    public static int[][] SegmentsOf(IReadOnlyList<int> boundaries, int nLayers)
    {
        Validate(boundaries, nLayers);
        var segments = new int[boundaries.Count + 1][];
        int start = 0;
        for (int i = 0; i < boundaries.Count; i++) { segments[i] = [start, boundaries[i] - 1]; start = boundaries[i]; }
        segments[^1] = [start, nLayers - 1];
        return segments;
    }

    public static double[] DepthFractionsOf(IReadOnlyList<int> boundaries, int nLayers)
    {
        Validate(boundaries, nLayers);
        return boundaries.Select(b => (double)b / nLayers).ToArray();
    }

    /// <summary>Throws unless the boundaries follow the convention above.</summary>
    public static void Validate(IReadOnlyList<int> boundaries, int nLayers)
    {
        int previous = 0;
        foreach (int b in boundaries)
        {
            if (b <= previous || b > nLayers - 1)
                throw new ArgumentException($"boundaries [{string.Join(", ", boundaries)}] do not satisfy 1 <= b1 < ... < bK <= {nLayers - 1}");
            previous = b;
        }
    }
}
