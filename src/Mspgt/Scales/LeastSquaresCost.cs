namespace Mspgt.Scales;

/// <summary>
/// Gaussian (least-squares, "l2" in ruptures) segment cost of a layer × signal matrix: the sum over signals of the
/// squared deviations from the segment's own mean. Any segment costs O(signals) from prefix sums.
/// Segments are half-open layer ranges [start, end).
/// </summary>
public sealed class LeastSquaresCost : ISegmentCost
{
    private readonly double[] _sum;    // (L+1) × S, row t = Σ_{i<t} x[i, s]
    private readonly double[] _sumSq;  // (L+1) × S

    public int Length { get; }
    public int Signals { get; }

    public LeastSquaresCost(double[,] layerBySignal)
    {
        Length = layerBySignal.GetLength(0);
        Signals = layerBySignal.GetLength(1);
        if (Length == 0 || Signals == 0) throw new ArgumentException("the matrix is empty");
        int s = Signals;
        _sum = new double[(Length + 1) * s];
        _sumSq = new double[(Length + 1) * s];
        for (int j = 0; j < s; j++)
        {
            // Centre each column first: sumSq − sum²/n cancels badly when the mean is large against the spread.
            double mean = 0;
            for (int i = 0; i < Length; i++)
            {
                double v = layerBySignal[i, j];
                if (!double.IsFinite(v)) throw new ArgumentException($"non-finite value at layer {i}, signal {j}");
                mean += v;
            }
            mean /= Length;
            double acc = 0, accSq = 0;
            for (int i = 0; i < Length; i++)
            {
                double d = layerBySignal[i, j] - mean;
                acc += d; accSq += d * d;
                _sum[(i + 1) * s + j] = acc;
                _sumSq[(i + 1) * s + j] = accSq;
            }
        }
    }

    /// <summary>Cost of layers [start, end): Σ_s Σ_i (x[i,s] − mean_s)².</summary>
    public double Cost(int start, int end)
    {
        CheckRange(start, end);
        double total = 0;
        for (int j = 0; j < Signals; j++) total += SignalCostUnchecked(j, start, end);
        return total;
    }

    /// <summary>Cost of layers [start, end) without the range check, for the search loops that guarantee it.</summary>
    double ISegmentCost.Cost(int start, int end) => CostUnchecked(start, end);

    internal double CostUnchecked(int start, int end)
    {
        int s = Signals;
        var sum = _sum.AsSpan();
        var sumSq = _sumSq.AsSpan();
        double inverseLength = 1.0 / (end - start);
        double total = 0;
        for (int j = 0, a = start * s, b = end * s; j < s; j++, a++, b++)
        {
            double d = sum[b] - sum[a];
            double c = sumSq[b] - sumSq[a] - d * d * inverseLength;
            if (c > 0) total += c;
        }
        return total;
    }

    /// <summary>Cost of layers [start, end) for one signal.</summary>
    public double SignalCost(int signal, int start, int end)
    {
        CheckRange(start, end);
        if ((uint)signal >= (uint)Signals) throw new ArgumentOutOfRangeException(nameof(signal));
        return SignalCostUnchecked(signal, start, end);
    }

    /// <summary>Total cost of the segmentation given by <paramref name="boundaries"/> (first layers of segments 2..K+1).</summary>
    public double Total(IReadOnlyList<int> boundaries)
    {
        double total = 0;
        int start = 0;
        foreach (int b in boundaries) { total += Cost(start, b); start = b; }
        return total + Cost(start, Length);
    }

    /// <summary>Residual sum of squares of one signal under the segmentation.</summary>
    public double SignalTotal(int signal, IReadOnlyList<int> boundaries)
    {
        double total = 0;
        int start = 0;
        foreach (int b in boundaries) { total += SignalCost(signal, start, b); start = b; }
        return total + SignalCost(signal, start, Length);
    }

    private double SignalCostUnchecked(int j, int start, int end)
    {
        int s = Signals;
        double sum = _sum[end * s + j] - _sum[start * s + j];
        double sumSq = _sumSq[end * s + j] - _sumSq[start * s + j];
        double c = sumSq - sum * sum / (end - start);
        return c > 0 ? c : 0; // rounding can leave −1e-17 for a flat segment
    }

    private void CheckRange(int start, int end)
    {
        if (start < 0 || end > Length || end <= start)
            throw new ArgumentOutOfRangeException(nameof(start), $"segment [{start}, {end}) is not inside [0, {Length})");
    }
}
