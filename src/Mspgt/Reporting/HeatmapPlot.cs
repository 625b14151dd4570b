using System.Globalization;
using ScottPlot;

namespace Mspgt.Reporting;

/// <summary>How values map to colours.</summary>
public enum HeatmapScale
{
    /// <summary>Viridis from the minimum to the maximum (or the given range); for similarities such as CKA.</summary>
    Sequential,
    /// <summary>Blue–white–red centred on zero with symmetric limits; for signed effects.</summary>
    Diverging,
}

/// <summary>What a heatmap shows: <c>Values[row, column]</c>, row 0 drawn at the top.</summary>
/// <param name="PrintValues">Print each value in its cell; null prints them when the matrix is at most 12×12.</param>
/// <param name="Min">Lower end of the colour scale (null: data minimum; ignored for a diverging scale).</param>
/// <param name="Max">Upper end of the colour scale (null: data maximum; for a diverging scale: the largest |value|).</param>
/// <param name="Undefined">Cells that have no value: drawn light grey and labelled "n/a" (their entry in Values is ignored).</param>
public sealed record HeatmapData(
    string Title,
    double[,] Values,
    IReadOnlyList<string> RowLabels,
    IReadOnlyList<string> ColumnLabels,
    string ColorBarLabel,
    HeatmapScale Scale = HeatmapScale.Sequential,
    bool? PrintValues = null,
    string ValueFormat = "0.00",
    string? XLabel = null,
    string? YLabel = null,
    double? Min = null,
    double? Max = null,
    bool[,]? Undefined = null);

/// <summary>A labelled matrix heatmap with a colour bar (layer×layer CKA, segment × metric-family dissociation).</summary>
public static class HeatmapPlot
{
    /// <summary>Above this many rows or columns only every k-th label is written, so labels never overlap.</summary>
    private const int MaxLabelsPerAxis = 24;

    public static Figure Create(HeatmapData data, int width = 760, int height = 640)
    {
        const string src = "heatmap";
        var v = data.Values;
        int rows = v.GetLength(0), cols = v.GetLength(1);
        if (rows == 0 || cols == 0) throw new MspgtException(src, $"'{data.Title}' matrix is empty");
        PlotTheme.RequireSameLength(src, "row labels", rows, data.RowLabels.Count);
        PlotTheme.RequireSameLength(src, "column labels", cols, data.ColumnLabels.Count);
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                if (data.Undefined?[r, c] == true) continue;
                double x = v[r, c];
                if (!double.IsFinite(x)) throw new MspgtException(src, $"'{data.Title}' value [{r},{c}] is {x} (plots need finite values)");
                lo = Math.Min(lo, x);
                hi = Math.Max(hi, x);
            }

        IColormap colormap;
        if (data.Scale == HeatmapScale.Diverging)
        {
            double m = data.Max ?? Math.Max(Math.Abs(lo), Math.Abs(hi));
            if (!(m > 0)) m = 1;
            (lo, hi) = (-m, m);
            colormap = new ScottPlot.Colormaps.CustomInterpolated(
                [Color.FromHex("#2166AC"), Color.FromHex("#92C5DE"), Color.FromHex("#F7F7F7"), Color.FromHex("#F4A582"), Color.FromHex("#B2182B")]);
        }
        else
        {
            lo = data.Min ?? lo;
            hi = data.Max ?? hi;
            if (!(hi > lo)) (lo, hi) = (lo - 0.5, lo + 0.5); // constant matrix: any non-empty range shows one colour
            colormap = new ScottPlot.Colormaps.Viridis();
        }
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) throw new MspgtException(src, "colour range must be finite");

        var plot = PlotTheme.NewPlot(data.Title);
        // ScottPlot draws intensities[0, *] at the top (image order); text and ticks therefore put row r at
        // y = rows−1−r. HeatmapDrawsFirstRowAtTheTop checks this.
        if (!double.IsFinite(lo)) (lo, hi) = (0, 1); // every cell undefined
        var shown = (double[,])v.Clone();
        if (data.Undefined is { } undefinedCells)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    if (undefinedCells[r, c]) shown[r, c] = lo;
        var hm = plot.Add.Heatmap(shown);
        hm.Colormap = colormap;
        hm.ManualRange = new ScottPlot.Range(lo, hi);
        // No Extent: by default ScottPlot gives each cell size 1 centred on integer coordinates (CellAlignment
        // MiddleCenter), i.e. the heatmap spans −0.5..cols−0.5 × −0.5..rows−0.5. (Setting Extent would instead
        // describe the outer cell *centres*.) HeatmapCellsFillTheDataArea checks this.
        // Vector rectangles rather than an embedded bitmap: crisp SVG and no image data inside the HTML report.
        hm.RenderStrategy = new ScottPlot.Plottables.Heatmap.RenderStrategies.Rectangles();
        var bar = plot.Add.ColorBar(hm, Edge.Right);
        bar.Label = data.ColorBarLabel;
        bar.LabelStyle.FontSize = 13;

        bool print = data.PrintValues ?? (rows <= 12 && cols <= 12);
        if (print)
        {
            float fontSize = Math.Clamp(220f / Math.Max(rows, cols), 8f, 14f);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    if (data.Undefined?[r, c] == true)
                    {
                        var na = plot.Add.Rectangle(c - 0.5, c + 0.5, rows - 1 - r - 0.5, rows - 1 - r + 0.5);
                        na.FillColor = Color.FromHex("#DDDDDD");
                        na.LineWidth = 0;
                        var label = plot.Add.Text("n/a", c, rows - 1 - r);
                        label.Alignment = Alignment.MiddleCenter;
                        label.LabelStyle.FontSize = fontSize;
                        label.LabelStyle.ForeColor = Colors.Black;
                        continue;
                    }
                    double x = v[r, c];
                    var cell = colormap.GetColor(Math.Clamp((x - lo) / (hi - lo), 0, 1));
                    var t = plot.Add.Text(x.ToString(data.ValueFormat, CultureInfo.InvariantCulture), c, rows - 1 - r);
                    t.Alignment = Alignment.MiddleCenter;
                    t.LabelStyle.FontSize = fontSize;
                    t.LabelStyle.ForeColor = cell.Luminance > 0.5f ? Colors.Black : Colors.White;
                }
        }

        plot.Axes.Bottom.TickGenerator = ManualTicks(cols, i => data.ColumnLabels[i], i => i);
        plot.Axes.Left.TickGenerator = ManualTicks(rows, i => data.RowLabels[i], i => rows - 1 - i);
        if (data.ColumnLabels.Any(l => l.Length > 3) && cols > 4)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        }
        if (data.XLabel is not null) plot.XLabel(data.XLabel);
        if (data.YLabel is not null) plot.YLabel(data.YLabel);
        plot.Axes.SetLimits(-0.5, cols - 0.5, -0.5, rows - 0.5);
        plot.HideGrid();
        return new Figure(plot, width, height);
    }

    private static ScottPlot.TickGenerators.NumericManual ManualTicks(int n, Func<int, string> label, Func<int, double> position)
    {
        int step = (n + MaxLabelsPerAxis - 1) / MaxLabelsPerAxis;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < n; i++)
        {
            if (i % step == 0) ticks.AddMajor(position(i), label(i));
        }
        return ticks;
    }
}
