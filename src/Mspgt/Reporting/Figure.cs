using ScottPlot;
using Mspgt.Files;

namespace Mspgt.Reporting;

/// <summary>
/// A finished plot and the size it is rendered at. PNG and SVG come from the same <see cref="Plot"/>, so the two
/// files always show the same thing; <see cref="ToSvg"/> is what <see cref="HtmlReport"/> inlines.
/// </summary>
public sealed class Figure
{
    public Figure(Plot plot, int width, int height)
    {
        if (width < 100 || height < 100) throw new MspgtException("figure", $"size {width}x{height} is too small (minimum 100x100)");
        Plot = plot;
        Width = width;
        Height = height;
    }

    public Plot Plot { get; }
    public int Width { get; }
    public int Height { get; }

    public byte[] ToPng() => Plot.GetImageBytes(Width, Height, ImageFormat.Png);

    /// <summary>
    /// The figure as a standalone SVG document (vector text, so labels stay searchable). Skia's SVG canvas cannot
    /// draw dashes: it prints "Unsupported path effect" on stderr and draws the line solid. So dashed lines are drawn
    /// solid here on purpose (they keep their colour and width; the PNG keeps the dashes), and nothing is printed.
    /// </summary>
    public string ToSvg()
    {
        var dashed = new List<(object Owner, System.Reflection.PropertyInfo Property, LinePattern Pattern)>();
        foreach (var plottable in Plot.GetPlottables())
            foreach (var owner in new object?[] { plottable, plottable.GetType().GetProperty("LineStyle")?.GetValue(plottable) })
            {
                if (owner is null) continue;
                foreach (var prop in owner.GetType().GetProperties())
                    if (prop.PropertyType == typeof(LinePattern) && prop.CanWrite && prop.GetValue(owner) is LinePattern lp && !lp.Equals(LinePattern.Solid))
                    {
                        dashed.Add((owner, prop, lp));
                        prop.SetValue(owner, LinePattern.Solid);
                    }
            }
        try { return Plot.GetSvgXml(Width, Height); }
        finally { foreach (var (owner, prop, lp) in dashed) prop.SetValue(owner, lp); }
    }

    public void SavePng(string path) => AtomicFile.WriteAllBytes(path, ToPng());

    public void SaveSvg(string path) => AtomicFile.WriteAllText(path, ToSvg());

    /// <summary>Writes <c>{pathWithoutExtension}.png</c> and <c>{pathWithoutExtension}.svg</c>.</summary>
    public void SavePngAndSvg(string pathWithoutExtension)
    {
        SavePng(pathWithoutExtension + ".png");
        SaveSvg(pathWithoutExtension + ".svg");
    }
}

/// <summary>Shared look of all mspgt plots: a sans font that is really installed, colour-blind-safe colours.</summary>
internal static class PlotTheme
{
    /// <summary>Okabe–Ito colours without black (black is kept for fused / reference lines), then Tableau 10.</summary>
    private static readonly Color[] Palette =
    [
        Color.FromHex("#0072B2"), Color.FromHex("#E69F00"), Color.FromHex("#009E73"), Color.FromHex("#CC79A7"),
        Color.FromHex("#56B4E9"), Color.FromHex("#D55E00"), Color.FromHex("#F0E442"), Color.FromHex("#8C564B"),
        Color.FromHex("#7F7F7F"), Color.FromHex("#17BECF"), Color.FromHex("#BCBD22"), Color.FromHex("#9467BD"),
    ];

    public static Color SeriesColor(int i) => Palette[i % Palette.Length];

    public static readonly Color Ink = Color.FromHex("#1A1A1A");

    private static readonly string[] PreferredFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];

    private static readonly Lazy<string> FontName = new(FindFont);

    /// <summary>
    /// Skia draws nothing for text when no font file is found, which would silently give plots without labels;
    /// fail loudly instead (Debian: <c>apt-get install fonts-dejavu-core</c>).
    /// </summary>
    private static string FindFont()
    {
        foreach (var name in PreferredFonts.Append(Fonts.Default))
        {
            using var typeface = SkiaSharp.SKTypeface.FromFamilyName(name);
            if (typeface is not null && typeface.GlyphCount > 0 && typeface.FamilyName == name && HasLatinGlyphs(typeface))
                return name;
        }
        using var fallback = SkiaSharp.SKTypeface.Default;
        if (fallback is not null && fallback.GlyphCount > 0 && HasLatinGlyphs(fallback)) return fallback.FamilyName;
        throw new MspgtException("fonts", "no usable font found for plot text; install one (Debian: apt-get install fonts-dejavu-core)");
    }

    private static bool HasLatinGlyphs(SkiaSharp.SKTypeface t)
    {
        var glyphs = t.GetGlyphs("Aa0");
        return glyphs.Length == 3 && glyphs.All(g => g != 0);
    }

    public static Plot NewPlot(string title)
    {
        var plot = new Plot();
        plot.Font.Set(FontName.Value);
        plot.Title(title, 16);
        plot.Axes.Title.Label.Bold = true;
        return plot;
    }

    public static void RequireFinite(string source, string what, IReadOnlyList<double> values)
    {
        for (int i = 0; i < values.Count; i++)
            if (!double.IsFinite(values[i]))
                throw new MspgtException(source, $"{what}[{i}] is {values[i]} (plots need finite values)");
    }

    public static void RequireSameLength(string source, string what, int expected, int actual)
    {
        if (expected != actual) throw new MspgtException(source, $"{what} has {actual} values but {expected} were expected");
    }
}
