namespace Mspgt.Scales;

/// <summary>Where a signal's noise level came from.</summary>
public enum NoiseSource
{
    /// <summary>The between-document spread of the signal (the standard error of its mean curve).</summary>
    Documents,
    /// <summary>No usable document spread (one curve, or documents that agree exactly): a robust estimate from
    /// the curve's second differences, which a smooth trend does not inflate.</summary>
    Differences,
    /// <summary>Constant over layers and documents: it carries no information about boundaries and is left out.</summary>
    Constant,
}

/// <summary>
/// The data the boundary model works on: per-document signal curves (D × L × S), their mean curve, and each
/// signal's noise level, the standard error of its mean curve, σ_s = √(mean over layers of the between-document
/// variance / D). Signals are put on a common scale by dividing the mean curve by σ_s (z = ȳ / σ_s): one unit is
/// one standard error, so a jump's size says how far it stands above the noise. (Z-scoring across layers instead
/// would turn any trend into unit-size steps, whatever the noise.) Layout: flat row-major arrays, value (d, l, s)
/// at <c>(d·L + l)·S + s</c>, (l, s) at <c>l·S + s</c>.
/// </summary>
public sealed class SignalPanel
{
    /// <summary>Relative size under which a spread counts as rounding noise.</summary>
    private const double Tiny = 1e-12;

    public string Source { get; }
    public string[] Names { get; }
    public int Documents { get; }
    public int Layers { get; }
    public int Signals { get; }
    /// <summary>D × L × S raw values.</summary>
    internal double[] Values { get; }
    /// <summary>L × S mean over documents.</summary>
    public double[] Mean { get; }
    /// <summary>Per signal: the standard error of the mean curve (0 for constant signals).</summary>
    public double[] NoiseSd { get; }
    public NoiseSource[] Noise { get; }

    private SignalPanel(string source, string[] names, int d, int l, int s, double[] values)
    {
        Source = source;
        Names = names;
        Documents = d;
        Layers = l;
        Signals = s;
        Values = values;
        Mean = new double[l * s];
        for (int doc = 0; doc < d; doc++)
            for (int k = 0; k < l * s; k++) Mean[k] += values[doc * l * s + k];
        for (int k = 0; k < l * s; k++) Mean[k] /= d;
        NoiseSd = new double[s];
        Noise = new NoiseSource[s];
        var sumSq = new double[l * s];
        if (d >= 2)
            for (int doc = 0; doc < d; doc++)
                for (int k = 0; k < l * s; k++) { double r = values[doc * l * s + k] - Mean[k]; sumSq[k] += r * r; }
        var curve = new double[l];
        for (int j = 0; j < s; j++)
        {
            double scale = 0;
            for (int i = 0; i < l; i++) { curve[i] = Mean[i * s + j]; scale = Math.Max(scale, Math.Abs(curve[i])); }
            double docSd = d >= 2 ? DocumentNoiseSd(sumSq, l, s, j, d) : 0;
            double range = curve.Max() - curve.Min();
            if (docSd > Tiny * Math.Max(scale, 1e-300)) { NoiseSd[j] = docSd; Noise[j] = NoiseSource.Documents; }
            else if (range <= Tiny * scale || range == 0) { NoiseSd[j] = 0; Noise[j] = NoiseSource.Constant; }
            else { NoiseSd[j] = DifferenceNoiseSd(curve, range); Noise[j] = NoiseSource.Differences; }
        }
    }

    /// <summary>A panel from per-document curves (D × L × S). Throws for no documents or a non-finite value.</summary>
    public static SignalPanel FromDocuments(IReadOnlyList<string> names, double[,,] documents, string source = "input")
    {
        int d = documents.GetLength(0), l = documents.GetLength(1), s = documents.GetLength(2);
        if (d == 0) throw new MspgtException(source, "there are no documents");
        CheckShape(names, l, s, source);
        var values = new double[d * l * s];
        for (int doc = 0; doc < d; doc++)
            for (int i = 0; i < l; i++)
                for (int j = 0; j < s; j++)
                {
                    double v = documents[doc, i, j];
                    if (!double.IsFinite(v)) throw new MspgtException(source, $"document {doc}, layer {i}, signal '{names[j]}' is not a finite number ({v})");
                    values[(doc * l + i) * s + j] = v;
                }
        return new SignalPanel(source, names.ToArray(), d, l, s, values);
    }

    /// <summary>A panel from one curve per signal (L × S), without documents: every noise level comes from the
    /// curve's own second differences.</summary>
    public static SignalPanel FromCurves(IReadOnlyList<string> names, double[,] layerBySignal, string source = "input")
    {
        int l = layerBySignal.GetLength(0), s = layerBySignal.GetLength(1);
        CheckShape(names, l, s, source);
        var values = new double[l * s];
        for (int i = 0; i < l; i++)
            for (int j = 0; j < s; j++)
            {
                double v = layerBySignal[i, j];
                if (!double.IsFinite(v)) throw new MspgtException(source, $"layer {i}, signal '{names[j]}' is not a finite number ({v})");
                values[i * s + j] = v;
            }
        return new SignalPanel(source, names.ToArray(), 1, l, s, values);
    }

    /// <summary>The mean curve in standard-error units (0 for constant signals).</summary>
    public double[] Standardized()
    {
        var z = new double[Layers * Signals];
        for (int i = 0; i < Layers; i++)
            for (int j = 0; j < Signals; j++)
                z[i * Signals + j] = NoiseSd[j] > 0 ? Mean[i * Signals + j] / NoiseSd[j] : 0;
        return z;
    }

    /// <summary>A panel of the documents drawn (with repetition) in <paramref name="draw"/>, for the document bootstrap.</summary>
    internal double[] MeanOf(ReadOnlySpan<int> draw, Span<double> sumSq)
    {
        int ls = Layers * Signals;
        var mean = new double[ls];
        foreach (int doc in draw)
            for (int k = 0; k < ls; k++) mean[k] += Values[doc * ls + k];
        for (int k = 0; k < ls; k++) mean[k] /= draw.Length;
        sumSq.Clear();
        foreach (int doc in draw)
            for (int k = 0; k < ls; k++) { double r = Values[doc * ls + k] - mean[k]; sumSq[k] += r * r; }
        return mean;
    }

    /// <summary>σ_s = √((1/L)·Σ_l s²_ls / D), s²_ls = Σ_d (x − mean)² / (D − 1), from the summed squared deviations.</summary>
    internal static double DocumentNoiseSd(ReadOnlySpan<double> sumSq, int layers, int signals, int signal, int documents)
    {
        double v = 0;
        for (int i = 0; i < layers; i++) v += sumSq[i * signals + signal] / (documents - 1);
        return Math.Sqrt(v / layers / documents);
    }

    /// <summary>
    /// Robust noise level of one curve from its second differences (Gasser, Sargent &amp; Sheather 1986): pseudo-
    /// residuals e_i = (y_{i−1} − 2y_i + y_{i+1})/√6 have the noise's variance under any locally linear trend;
    /// σ = 1.4826·median|e_i| (a few jumps or kinks do not move a median). Floored at 1e-6 of the curve's range
    /// so that a noiseless curve gets a finite scale.
    /// </summary>
    internal static double DifferenceNoiseSd(ReadOnlySpan<double> curve, double range)
    {
        int n = curve.Length;
        double sigma = 0;
        if (n >= 3)
        {
            var e = new double[n - 2];
            for (int i = 1; i + 1 < n; i++) e[i - 1] = Math.Abs(curve[i - 1] - 2 * curve[i] + curve[i + 1]) / Math.Sqrt(6);
            Array.Sort(e);
            double median = e.Length % 2 == 1 ? e[e.Length / 2] : 0.5 * (e[e.Length / 2 - 1] + e[e.Length / 2]);
            sigma = 1.4826 * median;
        }
        return Math.Max(sigma, 1e-6 * range);
    }

    private static void CheckShape(IReadOnlyList<string> names, int l, int s, string source)
    {
        if (s == 0 || names.Count == 0) throw new MspgtException(source, "there are no signals");
        if (names.Count != s) throw new MspgtException(source, $"{names.Count} signal names for {s} signal columns");
        if (l < BoundaryDetector.MinLayers) throw new MspgtException(source, $"need at least {BoundaryDetector.MinLayers} layers, found {l}");
    }
}
