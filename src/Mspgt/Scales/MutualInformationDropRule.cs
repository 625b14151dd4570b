namespace Mspgt.Scales;

/// <summary>
/// The MSPGT v1 boundary rule on the adjacent-layer mutual information curve.
/// <para>Input: I(l) = I(h^l; h^{l+1}) for l = 0..L−2 (so L = length + 1 layers). Its first difference is
/// ΔI(l) = I(l+1) − I(l) for l = 0..L−3. A boundary is proposed wherever ΔI(l) &lt; mean(ΔI) − k·sd(ΔI), k = 2 by
/// default, with the sample sd (n − 1).</para>
/// <para>Index mapping: ΔI(l) &lt;&lt; 0 means the pair (l+1, l+2) shares much less information than the pair (l, l+1),
/// so the break lies between layers l+1 and l+2 and the boundary (first layer of the next segment) is b = l + 2.
/// A step down of I at pair p (I(p) low, I(p−1) high) therefore gives b = p + 1: pair p joins layers p and p+1.</para>
/// <para>With n differences one outlier can lie at most (n−1)/√n sample sds from the mean, so the rule can only fire
/// when n ≥ 6 (L ≥ 8) at k = 2.</para>
/// </summary>
public static class MutualInformationDropRule
{
    /// <summary>Boundaries (ascending, convention of <see cref="Segmentation"/>) where the MI difference drops.</summary>
    public static int[] Find(ReadOnlySpan<double> adjacentMutualInformation, double sdMultiple = 2.0, string source = "mutual information")
    {
        int n = adjacentMutualInformation.Length;
        if (n < 3) throw new MspgtException(source, $"need the adjacent-layer MI of at least 4 layers (3 values), got {n} values");
        if (!double.IsFinite(sdMultiple) || sdMultiple < 0) throw new MspgtException(source, $"sd multiple must be a finite number >= 0, got {sdMultiple}");
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(adjacentMutualInformation[i]))
                throw new MspgtException(source, $"value {i} (layers {i} and {i + 1}) is not a finite number");
        var delta = Differences(adjacentMutualInformation);
        double mean = delta.Average();
        double ss = 0;
        foreach (double d in delta) ss += (d - mean) * (d - mean);
        double sd = Math.Sqrt(ss / (delta.Length - 1));
        if (sd == 0) return [];
        double threshold = mean - sdMultiple * sd;
        var boundaries = new List<int>();
        for (int l = 0; l < delta.Length; l++)
            if (delta[l] < threshold) boundaries.Add(l + 2);
        return boundaries.ToArray();
    }

    /// <summary>ΔI(l) = I(l+1) − I(l), l = 0..n−2.</summary>
    public static double[] Differences(ReadOnlySpan<double> adjacentMutualInformation)
    {
        var delta = new double[Math.Max(0, adjacentMutualInformation.Length - 1)];
        for (int l = 0; l < delta.Length; l++) delta[l] = adjacentMutualInformation[l + 1] - adjacentMutualInformation[l];
        return delta;
    }
}
