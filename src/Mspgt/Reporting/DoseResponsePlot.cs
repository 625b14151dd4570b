using ScottPlot;

namespace Mspgt.Reporting;

/// <summary>
/// Brittleness at each intervention strength α for one segment (or the random control). <see cref="Lower"/> and
/// <see cref="Upper"/> are an interval (e.g. 95% bootstrap) around each value; both or neither are given.
/// </summary>
public sealed record DoseResponseSeries(
    string Name,
    IReadOnlyList<double> Alphas,
    IReadOnlyList<double> Values,
    IReadOnlyList<double>? Lower = null,
    IReadOnlyList<double>? Upper = null);

/// <param name="Control">The random-direction (or random-layer) control, drawn grey and dashed with its interval.</param>
/// <param name="LogScaleY">Plot log10 of brittleness (all values and interval ends must then be &gt; 0).</param>
public sealed record DoseResponseData(
    string Title,
    IReadOnlyList<DoseResponseSeries> Segments,
    DoseResponseSeries? Control = null,
    string YLabel = "brittleness",
    string XLabel = "intervention strength α",
    bool LogScaleY = false);

/// <summary>Dose–response curves: brittleness against α, one line per segment plus the random control.</summary>
public static class DoseResponsePlot
{
    public static Figure Create(DoseResponseData data, int width = 900, int height = 560)
    {
        const string src = "dose-response plot";
        if (data.Segments.Count == 0) throw new MspgtException(src, "no segment series to plot");
        var plot = PlotTheme.NewPlot(data.Title);
        plot.XLabel(data.XLabel);
        plot.YLabel(data.LogScaleY ? $"{data.YLabel} (log scale)" : data.YLabel);

        for (int i = 0; i < data.Segments.Count; i++)
            AddSeries(plot, data.Segments[i], PlotTheme.SeriesColor(i), LinePattern.Solid, data.LogScaleY, src);
        if (data.Control is not null)
            AddSeries(plot, data.Control, Colors.DimGray, LinePattern.Dashed, data.LogScaleY, src);

        if (data.LogScaleY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => $"1e{y:0}",
            };
        }
        plot.Axes.Margins(0.05, 0.1);
        plot.ShowLegend(Edge.Right);
        return new Figure(plot, width, height);
    }

    private static void AddSeries(Plot plot, DoseResponseSeries s, Color color, LinePattern pattern, bool log, string src)
    {
        string what = $"series '{s.Name}'";
        int n = s.Alphas.Count;
        if (n == 0) throw new MspgtException(src, $"{what} has no points");
        PlotTheme.RequireSameLength(src, $"{what} values", n, s.Values.Count);
        PlotTheme.RequireFinite(src, $"{what} alphas", s.Alphas);
        PlotTheme.RequireFinite(src, $"{what} values", s.Values);
        for (int i = 1; i < n; i++)
            if (!(s.Alphas[i] > s.Alphas[i - 1])) throw new MspgtException(src, $"{what} alphas must be strictly increasing");
        if ((s.Lower is null) != (s.Upper is null)) throw new MspgtException(src, $"{what} needs both interval ends or neither");

        double[] ys = Transform(s.Values, log, src, what);
        var line = plot.Add.ScatterLine(s.Alphas.ToArray(), ys, color);
        line.LineWidth = 2.2f;
        line.LinePattern = pattern;
        line.MarkerSize = 7;
        line.MarkerShape = MarkerShape.FilledCircle;
        line.LegendText = s.Name;

        if (s.Lower is not null && s.Upper is not null)
        {
            PlotTheme.RequireSameLength(src, $"{what} lower", n, s.Lower.Count);
            PlotTheme.RequireSameLength(src, $"{what} upper", n, s.Upper.Count);
            PlotTheme.RequireFinite(src, $"{what} lower", s.Lower);
            PlotTheme.RequireFinite(src, $"{what} upper", s.Upper);
            for (int i = 0; i < n; i++)
                if (!(s.Lower[i] <= s.Values[i] && s.Values[i] <= s.Upper[i]))
                    throw new MspgtException(src, $"{what} point {i}: interval [{s.Lower[i]}, {s.Upper[i]}] does not contain {s.Values[i]}");
            double[] lo = Transform(s.Lower, log, src, $"{what} lower");
            double[] hi = Transform(s.Upper, log, src, $"{what} upper");
            var zeros = new double[n];
            var bars = new ScottPlot.Plottables.ErrorBar(
                s.Alphas.ToArray(), ys, zeros, zeros,
                Enumerable.Range(0, n).Select(i => hi[i] - ys[i]).ToArray(),
                Enumerable.Range(0, n).Select(i => ys[i] - lo[i]).ToArray())
            {
                Color = color,
                LineWidth = 1.5f,
                CapSize = 6,
            };
            plot.PlottableList.Add(bars);
        }
    }

    private static double[] Transform(IReadOnlyList<double> v, bool log, string src, string what)
    {
        if (!log) return v.ToArray();
        var r = new double[v.Count];
        for (int i = 0; i < r.Length; i++)
        {
            if (!(v[i] > 0)) throw new MspgtException(src, $"{what}[{i}] = {v[i]} cannot be shown on a log scale");
            r[i] = Math.Log10(v[i]);
        }
        return r;
    }
}
