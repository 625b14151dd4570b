using ScottPlot;

namespace Mspgt.Reporting;

public sealed record LossPoint(long Step, double Loss);

/// <summary>Training and validation loss against optimisation step (probe or fusion-weight training).</summary>
public static class LossPlot
{
    public static Figure Create(string title, IReadOnlyList<LossPoint> training, IReadOnlyList<LossPoint>? validation = null,
        int width = 800, int height = 500)
    {
        const string src = "loss plot";
        if (training.Count == 0) throw new MspgtException(src, "no training loss points");
        var plot = PlotTheme.NewPlot(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        Add(plot, "training", training, PlotTheme.SeriesColor(0), src);
        if (validation is { Count: > 0 }) Add(plot, "validation", validation, PlotTheme.SeriesColor(5), src);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.UpperRight);
        return new Figure(plot, width, height);
    }

    private static void Add(Plot plot, string name, IReadOnlyList<LossPoint> points, Color color, string src)
    {
        for (int i = 0; i < points.Count; i++)
        {
            if (!double.IsFinite(points[i].Loss)) throw new MspgtException(src, $"{name} loss at step {points[i].Step} is {points[i].Loss}");
            if (i > 0 && points[i].Step <= points[i - 1].Step) throw new MspgtException(src, $"{name} steps must be strictly increasing");
        }
        var line = plot.Add.ScatterLine(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.Loss).ToArray(), color);
        line.LineWidth = 2;
        // Markers only where they help: a few validation evaluations, not thousands of training steps.
        line.MarkerSize = points.Count <= 50 ? 6 : 0;
        line.LegendText = name;
    }
}
