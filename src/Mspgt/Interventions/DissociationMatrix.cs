using Mspgt.Interventions.Outcomes;

namespace Mspgt.Interventions;

/// <summary>The three segments an intervention targets, shallow to deep.</summary>
public enum SegmentScale { Local, Intermediate, Global }

/// <summary>The standardised effect (paired Cohen's d_z) of intervening on one segment, on one outcome metric.</summary>
/// <param name="EffectSize">d_z, or null where it is undefined (see <see cref="Statistics.PairedStatistics.CohensDz"/>).</param>
public sealed record SegmentMetricEffect(SegmentScale Segment, string Metric, double? EffectSize);

/// <summary>
/// Segment × metric-family dissociation matrix. Rows are the segments (Local, Intermediate, Global), columns the
/// text families (Lexical, Sentence, Discourse); the diagonal pairs each segment with the family of its own scale.
/// The MSPGT prediction is that each segment's intervention moves its own family most.
/// <para>Definitions (deterministic, no resampling):</para>
/// <list type="bullet">
/// <item>Cell(s, f) = mean over the metrics of family f of |d_z| for segment s. Metrics whose d_z is null are left
/// out (<see cref="Counts"/> says how many went in); a cell with none is null. Next-token metrics are not part of
/// the matrix.</item>
/// <item>Row margin(s) = Cell(s, s) − mean of the two off-diagonal cells of row s; defined for complete rows.</item>
/// <item><see cref="DiagonalDominance"/> = mean of the row margins over the complete rows (null when none is
/// complete). Positive means segments move their own family more than the others, in units of d.</item>
/// <item><see cref="RowMaxFraction"/> = fraction of complete rows whose diagonal cell is strictly larger than both
/// off-diagonal cells (a tie does not count); <see cref="ColumnMaxFraction"/> is the same down the columns (the
/// family is moved most by its own segment).</item>
/// </list>
/// </summary>
/// <param name="Cells">Cells[row][column], row = (int)<see cref="SegmentScale"/>, column = family index
/// (Lexical 0, Sentence 1, Discourse 2).</param>
/// <param name="Counts">Number of metrics with a defined d_z averaged into each cell.</param>
/// <param name="RowMargins">Row margin per segment; null for an incomplete row.</param>
public sealed record DissociationMatrix(
    double?[][] Cells, int[][] Counts, double?[] RowMargins, double? DiagonalDominance,
    double? RowMaxFraction, double? ColumnMaxFraction)
{
    /// <summary>Row labels, in row order.</summary>
    public static IReadOnlyList<SegmentScale> Rows { get; } = [SegmentScale.Local, SegmentScale.Intermediate, SegmentScale.Global];

    /// <summary>Column labels, in column order; column i is the family of segment i.</summary>
    public static IReadOnlyList<MetricFamily> Columns { get; } = [MetricFamily.Lexical, MetricFamily.Sentence, MetricFamily.Discourse];

    /// <summary>Builds the matrix from per-(segment, metric) effect sizes; a (segment, metric) pair may appear once.</summary>
    public static DissociationMatrix Build(IEnumerable<SegmentMetricEffect> effects)
    {
        ArgumentNullException.ThrowIfNull(effects);
        const string source = "dissociation matrix";
        var sums = new double[3, 3];
        var counts = new int[3][];
        for (int r = 0; r < 3; r++) counts[r] = new int[3];
        var seen = new HashSet<(SegmentScale, string)>();

        foreach (var e in effects)
        {
            if (!Enum.IsDefined(e.Segment)) throw new MspgtException(source, $"unknown segment {e.Segment}");
            var family = OutcomeMetrics.FamilyOf(e.Metric);
            if (!seen.Add((e.Segment, e.Metric)))
                throw new MspgtException(source, $"metric '{e.Metric}' given twice for the {e.Segment} segment");
            if (family == MetricFamily.NextToken || e.EffectSize is not double d) continue;
            if (!double.IsFinite(d))
                throw new MspgtException(source, $"effect size of '{e.Metric}' for the {e.Segment} segment is {d}");
            int row = (int)e.Segment, col = ColumnOf(family);
            sums[row, col] += Math.Abs(d);
            counts[row][col]++;
        }

        var cells = new double?[3][];
        for (int r = 0; r < 3; r++)
        {
            cells[r] = new double?[3];
            for (int c = 0; c < 3; c++)
                cells[r][c] = counts[r][c] == 0 ? null : sums[r, c] / counts[r][c];
        }

        var margins = new double?[3];
        int completeRows = 0, rowMax = 0;
        double marginSum = 0;
        for (int r = 0; r < 3; r++)
        {
            if (cells[r].Any(v => v is null)) continue;
            double diag = cells[r][r]!.Value;
            double off1 = cells[r][(r + 1) % 3]!.Value, off2 = cells[r][(r + 2) % 3]!.Value;
            margins[r] = diag - (off1 + off2) / 2;
            marginSum += margins[r]!.Value;
            completeRows++;
            if (diag > off1 && diag > off2) rowMax++;
        }

        int completeColumns = 0, columnMax = 0;
        for (int c = 0; c < 3; c++)
        {
            if (cells[0][c] is null || cells[1][c] is null || cells[2][c] is null) continue;
            completeColumns++;
            double diag = cells[c][c]!.Value;
            if (diag > cells[(c + 1) % 3][c]!.Value && diag > cells[(c + 2) % 3][c]!.Value) columnMax++;
        }

        return new DissociationMatrix(cells, counts, margins,
            completeRows == 0 ? null : marginSum / completeRows,
            completeRows == 0 ? null : (double)rowMax / completeRows,
            completeColumns == 0 ? null : (double)columnMax / completeColumns);
    }

    private static int ColumnOf(MetricFamily family) => family switch
    {
        MetricFamily.Lexical => 0,
        MetricFamily.Sentence => 1,
        MetricFamily.Discourse => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };
}
