using ScottPlot;

namespace Mspgt.Reporting;

/// <summary>One signal's mean curve over depth in its own unit, with a band of ±1.96 standard errors.</summary>
public sealed record SignalCurve(string Name, string Unit, IReadOnlyList<double> Values, double? StandardError);

/// <summary>
/// Small multiples: one small plot per signal, each in its own unit, with the boundaries of the two-boundary fit as
/// vertical lines. Overlaying many z-scored curves in one plot hides their units and repeats colours; a small plot
/// per signal reads at a glance.
/// </summary>
public static class SignalPanelPlot
{
    public static Figure Create(string model, SignalCurve curve, IReadOnlyList<int> boundaries, int width = 340, int height = 230)
    {
        const string src = "signal panel";
        int L = curve.Values.Count;
        if (L < 2) throw new MspgtException(src, $"'{curve.Name}' has {L} layers; a curve needs at least 2");
        PlotTheme.RequireFinite(src, curve.Name, curve.Values);
        var plot = PlotTheme.NewPlot($"{curve.Name} ({model})");
        plot.Axes.Title.Label.FontSize = 12;
        plot.XLabel("layer", 11);
        plot.YLabel(curve.Unit, 11);
        var xs = Enumerable.Range(0, L).Select(i => (double)i).ToArray();
        var ys = curve.Values.ToArray();
        if (curve.StandardError is double se && se > 0 && double.IsFinite(se))
        {
            var band = plot.Add.FillY(xs, ys.Select(y => y - 1.96 * se).ToArray(), ys.Select(y => y + 1.96 * se).ToArray());
            band.FillColor = PlotTheme.SeriesColor(0).WithAlpha(0.2);
            band.LineWidth = 0;
        }
        var line = plot.Add.ScatterLine(xs, ys, PlotTheme.SeriesColor(0));
        line.LineWidth = 1.8f;
        line.MarkerSize = 4;
        line.MarkerShape = MarkerShape.FilledCircle;
        foreach (int b in boundaries)
            plot.Add.VerticalLine(b - 0.5, 1.5f, Colors.DimGray);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return new Figure(plot, width, height);
    }

    /// <summary>The unit in a definition's trailing parentheses ("… (nats)" → "nats"), else "value".</summary>
    public static string UnitOf(string definition)
    {
        int open = definition.LastIndexOf('('), close = definition.LastIndexOf(')');
        return open >= 0 && close == definition.Length - 1 && close - open < 24 ? definition[(open + 1)..close] : "value";
    }
}
