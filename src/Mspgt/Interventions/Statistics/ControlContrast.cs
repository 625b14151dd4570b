namespace Mspgt.Interventions.Statistics;

/// <summary>A named segment's effect against its width-matched control windows.</summary>
/// <param name="Differences">c_d over the paired documents, in document order.</param>
/// <param name="Paired">Mean, bootstrap interval, sign-flip p and d_z of the c_d; null when no document pairs.</param>
/// <param name="ControlEffects">Per window: its mean effect over the documents where it is defined (null: none).</param>
/// <param name="Exceedance">The segment's mean effect among the windows' mean effects; null when it or every
/// window is undefined.</param>
public sealed record ControlContrastResult(double[] Differences, PairedEffect? Paired, double?[] ControlEffects,
    ControlComparison? Exceedance);

/// <summary>
/// Compares a segment's per-document effects with those of k control windows of the same width, document by
/// document. Needed because some metrics have a fixed sign (a KL is ≥ 0 in every document), so testing their mean
/// against 0 succeeds whenever the intervention changes anything at all; the question that can fail is whether
/// this segment disrupts more than other segments of its width.
/// <list type="bullet">
/// <item>Contrast: c_d = e_seg(d) − mean_j e_j(d), the mean over the windows defined for document d; documents where
/// the segment or every window is undefined are left out. H0: E[c_d] = 0 (the segment disrupts, on average over
/// documents, as much as the mean of these k windows). Statistic: mean c_d, with the paired bootstrap 95%
/// percentile interval (documents resampled), the two-sided sign-flip permutation p and d_z of
/// <see cref="PairedStatistics"/>. The windows are fixed here, the documents random.</item>
/// <item>Exceedance: the segment's mean effect among the k windows' mean effects (<see cref="ControlComparison"/>,
/// by magnitude, one-sided "larger than a random window"). Here the windows are the random sample: the p has floor
/// 1/(k+1). For metrics of fixed sign the magnitude is the disruption (KL, 1 − agreement).</item>
/// </list>
/// </summary>
public static class ControlContrast
{
    private const string Source = "control contrast";

    /// <param name="segment">Per document the segment's effect, null where undefined.</param>
    /// <param name="controls">Per window, per document (same documents) the window's effect, null where undefined.</param>
    public static ControlContrastResult Compare(IReadOnlyList<double?> segment, IReadOnlyList<IReadOnlyList<double?>> controls,
        int seed, int bootstrapResamples = PairedStatistics.DefaultBootstrapResamples,
        int permutationResamples = PairedStatistics.DefaultPermutationResamples)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(controls);
        if (controls.Count == 0) throw new MspgtException(Source, "no control windows");
        int n = segment.Count;
        Check(segment, "segment effect");
        for (int j = 0; j < controls.Count; j++)
        {
            if (controls[j].Count != n)
                throw new MspgtException(Source, $"control window {j} has {controls[j].Count} documents, the segment {n}");
            Check(controls[j], $"control window {j} effect");
        }

        var c = new List<double>(n);
        for (int d = 0; d < n; d++)
        {
            if (segment[d] is not double e) continue;
            double sum = 0;
            int k = 0;
            foreach (var window in controls)
                if (window[d] is double v) { sum += v; k++; }
            if (k > 0) c.Add(e - sum / k);
        }
        var differences = c.ToArray();
        var paired = differences.Length == 0 ? null
            : PairedStatistics.AnalyzeDifferences(differences, seed, bootstrapResamples, permutationResamples);

        var controlEffects = controls.Select(MeanDefined).ToArray();
        var defined = controlEffects.Where(x => x is not null).Select(x => x!.Value).ToArray();
        var exceedance = MeanDefined(segment) is double mean && defined.Length > 0 ? ControlComparison.Compare(mean, defined) : null;
        return new ControlContrastResult(differences, paired, controlEffects, exceedance);
    }

    private static double? MeanDefined(IReadOnlyList<double?> values)
    {
        double sum = 0;
        int k = 0;
        foreach (var v in values)
            if (v is double x) { sum += x; k++; }
        return k == 0 ? null : sum / k;
    }

    private static void Check(IReadOnlyList<double?> values, string what)
    {
        for (int i = 0; i < values.Count; i++)
            if (values[i] is double v && !double.IsFinite(v))
                throw new MspgtException(Source, $"{what} for document {i} is {v}, not a finite number");
    }
}
