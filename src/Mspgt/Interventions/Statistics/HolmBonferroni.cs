namespace Mspgt.Interventions.Statistics;

/// <summary>
/// Holm–Bonferroni step-down adjustment of a family of m p-values (Holm 1979). With the p-values sorted ascending,
/// p_(1) ≤ … ≤ p_(m), the adjusted value of the j-th smallest is max_{k ≤ j} min(1, (m − k + 1)·p_(k)): the running
/// maximum keeps the adjusted values monotone in the raw ones, and the cap keeps them at most 1. Rejecting where the
/// adjusted p ≤ α controls the family-wise error rate at α. Ties keep their input order (stable sort), which does not
/// change any adjusted value.
/// </summary>
public static class HolmBonferroni
{
    /// <summary>Adjusted p-values in the order of the input (for a table, flatten it; the family is all cells).</summary>
    public static double[] Adjust(ReadOnlySpan<double> pValues)
    {
        int m = pValues.Length;
        for (int i = 0; i < m; i++)
            if (!(pValues[i] >= 0 && pValues[i] <= 1))
                throw new MspgtException("Holm correction", $"p-value {i} is {pValues[i]}, not in [0, 1]");

        var order = new int[m];
        for (int i = 0; i < m; i++) order[i] = i;
        var keys = pValues.ToArray();
        // Array.Sort(keys, items) is not stable; sort (p, index) pairs so ties keep input order.
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));

        var adjusted = new double[m];
        double running = 0;
        for (int k = 0; k < m; k++)
        {
            double scaled = Math.Min(1.0, (m - k) * keys[order[k]]);
            running = Math.Max(running, scaled);
            adjusted[order[k]] = running;
        }
        return adjusted;
    }

    /// <summary>Adjusts a rectangular table of p-values as one family; returns a table of the same shape.</summary>
    public static double[][] AdjustTable(IReadOnlyList<IReadOnlyList<double>> table)
    {
        var flat = new List<double>();
        foreach (var row in table) flat.AddRange(row);
        var adjusted = Adjust(flat.ToArray());
        var result = new double[table.Count][];
        int at = 0;
        for (int r = 0; r < table.Count; r++)
        {
            result[r] = new double[table[r].Count];
            for (int c = 0; c < result[r].Length; c++) result[r][c] = adjusted[at++];
        }
        return result;
    }
}
