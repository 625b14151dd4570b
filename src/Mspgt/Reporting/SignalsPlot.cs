using ScottPlot;

namespace Mspgt.Reporting;

/// <summary>A standardised (z-scored) per-layer signal; <see cref="Layers"/> defaults to 0..n−1.</summary>
/// <remarks>Signals defined between layers (e.g. adjacent-layer MI) pass <see cref="Layers"/> such as l + 0.5.</remarks>
public sealed record SignalSeries(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Layers = null);

/// <summary>
/// A boundary's posterior/bootstrap mode and 95% interval, in layer coordinates on the x axis. A boundary that
/// separates layer b−1 from layer b is drawn at b − 0.5 by convention of the caller.
/// </summary>
public sealed record BoundaryMarker(double Mode, double Lower, double Upper);

/// <summary>Everything the signals plot shows for one model.</summary>
/// <param name="SegmentNames">One per segment (boundaries + 1); null: local / intermediate / global for two
/// boundaries, otherwise "segment k".</param>
public sealed record SignalsPlotData(
    string Model,
    int LayerCount,
    IReadOnlyList<SignalSeries> Signals,
    IReadOnlyList<double> Fused,
    IReadOnlyList<BoundaryMarker> Boundaries,
    IReadOnlyList<string>? SegmentNames = null);

/// <summary>Per-layer standardised signals with the fused score, the boundaries and the named segments.</summary>
public static class SignalsPlot
{
    public static readonly IReadOnlyList<string> DefaultSegmentNames = ScaleNames.All;

    public static Figure Create(SignalsPlotData data, int width = 1000, int height = 560)
    {
        const string src = "signals plot";
        int L = data.LayerCount;
        if (L < 2) throw new MspgtException(src, $"layer count {L} must be at least 2");
        if (data.Signals.Count == 0) throw new MspgtException(src, "no signals to plot");
        PlotTheme.RequireSameLength(src, "fused", L, data.Fused.Count);
        PlotTheme.RequireFinite(src, "fused", data.Fused);
        var names = data.SegmentNames ?? (data.Boundaries.Count == 2
            ? DefaultSegmentNames
            : Enumerable.Range(1, data.Boundaries.Count + 1).Select(k => $"segment {k}").ToArray());
        if (names.Count != data.Boundaries.Count + 1)
            throw new MspgtException(src, $"{names.Count} segment names for {data.Boundaries.Count} boundaries (need boundaries + 1)");
        double prev = double.NegativeInfinity;
        foreach (var b in data.Boundaries)
        {
            if (!double.IsFinite(b.Mode) || !double.IsFinite(b.Lower) || !double.IsFinite(b.Upper) || b.Lower > b.Mode || b.Mode > b.Upper)
                throw new MspgtException(src, $"boundary {b} must satisfy lower ≤ mode ≤ upper with finite values");
            if (b.Mode < -0.5 || b.Mode > L - 0.5) throw new MspgtException(src, $"boundary mode {b.Mode} lies outside layers 0..{L - 1}");
            if (b.Mode <= prev) throw new MspgtException(src, "boundary modes must be strictly increasing");
            prev = b.Mode;
        }

        var plot = PlotTheme.NewPlot($"Per-layer signals: {data.Model}");
        plot.XLabel("layer");
        plot.YLabel("standardised value (z)");

        double yMin = data.Fused.Min(), yMax = data.Fused.Max();
        for (int s = 0; s < data.Signals.Count; s++)
        {
            var sig = data.Signals[s];
            string what = $"signal '{sig.Name}'";
            if (sig.Values.Count == 0) throw new MspgtException(src, $"{what} has no values");
            PlotTheme.RequireFinite(src, what, sig.Values);
            double[] xs = sig.Layers?.ToArray() ?? Enumerable.Range(0, sig.Values.Count).Select(i => (double)i).ToArray();
            PlotTheme.RequireSameLength(src, $"{what} layers", sig.Values.Count, xs.Length);
            PlotTheme.RequireFinite(src, $"{what} layers", xs);
            if (xs.Any(x => x < -0.5 || x > L - 0.5)) throw new MspgtException(src, $"{what} has layers outside 0..{L - 1}");
            var line = plot.Add.ScatterLine(xs, sig.Values.ToArray(), PlotTheme.SeriesColor(s));
            line.LineWidth = 1.6f;
            line.MarkerSize = 4;
            line.MarkerShape = MarkerShape.FilledCircle;
            line.LegendText = sig.Name;
            yMin = Math.Min(yMin, sig.Values.Min());
            yMax = Math.Max(yMax, sig.Values.Max());
        }
        var fused = plot.Add.ScatterLine(Enumerable.Range(0, L).Select(i => (double)i).ToArray(), data.Fused.ToArray(), PlotTheme.Ink);
        fused.LineWidth = 4;
        fused.MarkerSize = 0;
        fused.LegendText = "fused";

        // Room above the data for the segment names, so they never sit on a line.
        double span = Math.Max(yMax - yMin, 1e-9);
        double top = yMax + 0.16 * span, bottom = yMin - 0.05 * span;

        for (int i = 0; i < data.Boundaries.Count; i++)
        {
            var b = data.Boundaries[i];
            if (b.Upper > b.Lower)
            {
                var band = plot.Add.HorizontalSpan(b.Lower, b.Upper, Colors.Gray.WithAlpha(0.25));
                band.LineWidth = 0;
                band.LegendText = i == 0 ? "boundary 95% interval" : "";
                plot.MoveToBottom(band);
            }
            var v = plot.Add.VerticalLine(b.Mode, 2, Colors.DimGray, LinePattern.Dashed);
            v.LegendText = i == 0 ? "boundary mode" : "";
        }

        double[] edges = [-0.5, .. data.Boundaries.Select(b => b.Mode), L - 0.5];
        for (int k = 0; k < names.Count; k++)
        {
            var t = plot.Add.Text(names[k], (edges[k] + edges[k + 1]) / 2, top);
            t.Alignment = Alignment.UpperCenter;
            t.LabelStyle.FontSize = 14;
            t.LabelStyle.Bold = true;
            t.LabelStyle.ForeColor = Colors.DimGray;
            t.LabelStyle.OffsetY = 4;
        }

        plot.Axes.SetLimits(-0.5, L - 0.5, bottom, top);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Right);
        return new Figure(plot, width, height);
    }
}
