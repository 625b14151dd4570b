namespace Mspgt.Scales;

/// <summary>
/// A segment cost, as in ruptures: how badly one model of a segment fits the layers [start, end) (half-open, jointly
/// over all signals). The searches (<see cref="OptimalSegmentation"/>, <see cref="PeltSearch"/>) only ever call
/// <see cref="Cost"/>, so a cost and a search combine freely. Implementations: <see cref="LinearTrendCost"/> (a line
/// per signal and segment: the boundary model) and <see cref="LeastSquaresCost"/> (a constant per signal and segment).
/// </summary>
public interface ISegmentCost
{
    /// <summary>Number of layers.</summary>
    int Length { get; }

    /// <summary>Cost of layers [start, end); callers guarantee 0 ≤ start &lt; end ≤ Length.</summary>
    double Cost(int start, int end);
}

/// <summary>Helpers over any <see cref="ISegmentCost"/>.</summary>
public static class SegmentCosts
{
    /// <summary>Total cost of the segmentation given by <paramref name="boundaries"/> (first layers of segments 2..K+1).</summary>
    public static double Total(this ISegmentCost cost, IReadOnlyList<int> boundaries)
    {
        double total = 0;
        int start = 0;
        foreach (int b in boundaries) { total += cost.Cost(start, b); start = b; }
        return total + cost.Cost(start, cost.Length);
    }
}
