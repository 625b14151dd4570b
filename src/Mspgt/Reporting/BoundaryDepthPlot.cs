using ScottPlot;

namespace Mspgt.Reporting;

/// <summary>
/// One model's boundaries as depth fractions b/L (shallow to deep) with their intervals as [lower, upper] depth
/// fractions (null: no interval). <see cref="Control"/> marks a random-weight control (labelled as such).
/// </summary>
public sealed record BoundaryDepthRow(string Label, IReadOnlyList<double> Fractions, IReadOnlyList<double[]>? Intervals = null, bool Control = false);

public sealed record BoundaryDepthData(string Title, IReadOnlyList<BoundaryDepthRow> Rows, string XLabel = "depth fraction b / L");

/// <summary>
/// Boundary depth fractions of several models side by side: one row per model (first row at the top), one colour
/// per boundary, the interval drawn as a horizontal bar with caps and the point estimate as a marker.
/// </summary>
public static class BoundaryDepthPlot
{
    public static Figure Create(BoundaryDepthData data, int width = 1000, int? height = null)
    {
        const string src = "boundary depth plot";
        int n = data.Rows.Count;
        if (n == 0) throw new MspgtException(src, "no models to plot");
        int maxB = 0;
        foreach (var r in data.Rows)
        {
            string what = $"row '{r.Label}'";
            if (r.Fractions.Count == 0) throw new MspgtException(src, $"{what} has no boundaries");
            PlotTheme.RequireFinite(src, $"{what} fractions", r.Fractions);
            if (r.Fractions.Any(f => f is < 0 or > 1)) throw new MspgtException(src, $"{what} has a depth fraction outside 0..1");
            if (r.Intervals is not null)
            {
                PlotTheme.RequireSameLength(src, $"{what} intervals", r.Fractions.Count, r.Intervals.Count);
                for (int i = 0; i < r.Intervals.Count; i++)
                {
                    var iv = r.Intervals[i];
                    if (iv.Length != 2) throw new MspgtException(src, $"{what} interval {i} needs [lower, upper]");
                    PlotTheme.RequireFinite(src, $"{what} interval {i}", iv);
                    if (!(iv[0] <= r.Fractions[i] && r.Fractions[i] <= iv[1]))
                        throw new MspgtException(src, $"{what} interval {i} [{iv[0]}, {iv[1]}] does not contain {r.Fractions[i]}");
                }
            }
            maxB = Math.Max(maxB, r.Fractions.Count);
        }

        var plot = PlotTheme.NewPlot(data.Title);
        plot.XLabel(data.XLabel);
        const double spread = 0.28; // vertical offset between the boundaries of one row, so intervals never overlap
        var legendDone = new bool[maxB];
        for (int row = 0; row < n; row++)
        {
            var r = data.Rows[row];
            double y0 = n - 1 - row;
            for (int i = 0; i < r.Fractions.Count; i++)
            {
                var color = PlotTheme.SeriesColor(i);
                double y = y0 + (r.Fractions.Count == 1 ? 0 : spread / 2 - spread * i / (r.Fractions.Count - 1));
                if (r.Intervals is not null)
                {
                    var (lo, hi) = (r.Intervals[i][0], r.Intervals[i][1]);
                    var bar = plot.Add.Line(lo, y, hi, y);
                    bar.Color = color;
                    bar.LineWidth = 3;
                    foreach (double x in new[] { lo, hi })
                    {
                        var cap = plot.Add.Line(x, y - 0.08, x, y + 0.08);
                        cap.Color = color;
                        cap.LineWidth = 2;
                    }
                }
                var m = plot.Add.Marker(r.Fractions[i], y, r.Control ? MarkerShape.OpenCircle : MarkerShape.FilledCircle, 11, color);
                if (!legendDone[i]) { m.LegendText = $"boundary {i + 1} (95% interval)"; legendDone[i] = true; }
            }
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int row = 0; row < n; row++)
            ticks.AddMajor(n - 1 - row, data.Rows[row].Control ? $"{data.Rows[row].Label} (control)" : data.Rows[row].Label);
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.SetLimits(0, 1, -0.6, n - 0.4);
        plot.ShowLegend(Edge.Bottom);
        return new Figure(plot, width, height ?? 170 + 56 * n);
    }
}
