namespace Mspgt.Scales;

/// <summary>
/// The boundary model's segment cost: within a segment every signal follows its own straight line over depth
/// (intercept and slope per signal and segment), so a trend is not a boundary; a boundary is a change between two
/// adjacent layers that the lines on either side do not explain. Cost of [start, end) = Σ_s w_s · RSS_s, the
/// weighted residual sum of squares of the per-signal least-squares lines. A segment of one or two layers is fitted
/// by its mean instead: a line through two points fits anything, so with lines there every split of a shallow
/// model into short segments would cost 0 and the fit would say nothing; two layers cannot tell a trend from a
/// step anyway. Weights w_s ≥ 0 let redundant signals share one vote.
/// <para>Any segment costs O(signals) from prefix sums of y, x·y and y² (x = layer index, centred on the middle
/// layer and y centred per signal, so the sums stay small and the differences do not cancel).
/// <see cref="Reset"/> refills the sums for new data of the same shape without allocating, for the bootstrap.</para>
/// </summary>
public sealed class LinearTrendCost : ISegmentCost
{
    private readonly double[] _weights;
    private readonly int[] _used;        // signals with w > 0
    private readonly double[] _sy, _sxy, _syy;   // (L+1) × used, row t = Σ_{i<t}
    private readonly double[] _sx, _sxx;         // L+1

    /// <summary>Fewest layers fitted by a line; shorter segments are fitted by their mean.</summary>
    public const int MinLineLength = 3;

    public int Length { get; }
    public int Signals { get; }

    /// <param name="layerBySignal">L × S values, row-major (<c>values[l * S + s]</c>).</param>
    /// <param name="weights">S non-negative weights; signals of weight 0 are ignored.</param>
    public LinearTrendCost(int layers, int signals, ReadOnlySpan<double> layerBySignal, ReadOnlySpan<double> weights)
    {
        if (layers < 1 || signals < 1) throw new ArgumentException("the matrix is empty");
        if (layerBySignal.Length != layers * signals) throw new ArgumentException($"expected {layers * signals} values, got {layerBySignal.Length}");
        if (weights.Length != signals) throw new ArgumentException($"expected {signals} weights, got {weights.Length}");
        Length = layers;
        Signals = signals;
        _weights = weights.ToArray();
        _used = Enumerable.Range(0, signals).Where(s => _weights[s] > 0).ToArray();
        if (_used.Length == 0) throw new ArgumentException("every weight is zero");
        int u = _used.Length;
        _sy = new double[(layers + 1) * u];
        _sxy = new double[(layers + 1) * u];
        _syy = new double[(layers + 1) * u];
        _sx = new double[layers + 1];
        _sxx = new double[layers + 1];
        double centre = (layers - 1) / 2.0;
        for (int t = 0; t < layers; t++)
        {
            double x = t - centre;
            _sx[t + 1] = _sx[t] + x;
            _sxx[t + 1] = _sxx[t] + x * x;
        }
        Reset(layerBySignal);
    }

    /// <summary>Replaces the data (same L × S shape and weights).</summary>
    public void Reset(ReadOnlySpan<double> layerBySignal)
    {
        int L = Length, S = Signals, u = _used.Length;
        if (layerBySignal.Length != L * S) throw new ArgumentException($"expected {L * S} values, got {layerBySignal.Length}");
        double centre = (L - 1) / 2.0;
        for (int c = 0; c < u; c++)
        {
            int s = _used[c];
            double mean = 0;
            for (int t = 0; t < L; t++)
            {
                double v = layerBySignal[t * S + s];
                if (!double.IsFinite(v)) throw new ArgumentException($"non-finite value at layer {t}, signal {s}");
                mean += v;
            }
            mean /= L;
            double sy = 0, sxy = 0, syy = 0;
            for (int t = 0; t < L; t++)
            {
                double y = layerBySignal[t * S + s] - mean, x = t - centre;
                sy += y; sxy += x * y; syy += y * y;
                int at = (t + 1) * u + c;
                _sy[at] = sy; _sxy[at] = sxy; _syy[at] = syy;
            }
        }
    }

    public double Cost(int start, int end)
    {
        int n = end - start;
        if (n == 1) return 0;
        int u = _used.Length;
        double sx = _sx[end] - _sx[start];
        double cxx = _sxx[end] - _sxx[start] - sx * sx / n;
        bool line = n >= MinLineLength;
        double total = 0;
        int a = start * u, b = end * u;
        for (int c = 0; c < u; c++)
        {
            double sy = _sy[b + c] - _sy[a + c];
            double cyy = _syy[b + c] - _syy[a + c] - sy * sy / n;
            double rss = cyy;
            if (line)
            {
                double cxy = _sxy[b + c] - _sxy[a + c] - sx * sy / n;
                rss -= cxy * cxy / cxx;
            }
            if (rss > 0) total += _weights[_used[c]] * rss; // rounding can leave −1e-15 for an exact line
        }
        return total;
    }
}
