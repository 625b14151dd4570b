using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Mspgt.Files;

namespace Mspgt.Reporting;

/// <summary>
/// Builds one self-contained HTML page: inline CSS, inline SVG figures, no scripts and no external resources, so a
/// report can be mailed or archived and still open years later exactly as written. All text is HTML-escaped.
/// </summary>
public sealed partial class HtmlReport
{
    private readonly string _title;
    private readonly StringBuilder _body = new();
    private bool _sectionOpen;
    private int _figureCount;

    public HtmlReport(string title)
    {
        if (string.IsNullOrWhiteSpace(title)) throw new MspgtException("html report", "title is empty");
        _title = title;
    }

    /// <summary>Starts a new section (closing the previous one) with an &lt;h2&gt; heading.</summary>
    public HtmlReport Section(string heading)
    {
        CloseSection();
        _body.Append("<section>\n<h2>").Append(Escape(heading)).Append("</h2>\n");
        _sectionOpen = true;
        return this;
    }

    /// <summary>A sub-heading, level 3 to 6 (1 is the page title, 2 is <see cref="Section"/>).</summary>
    public HtmlReport Heading(string text, int level = 3)
    {
        if (level is < 3 or > 6) throw new MspgtException("html report", $"heading level {level} must be 3..6");
        _body.Append(CultureInfo.InvariantCulture, $"<h{level}>").Append(Escape(text)).Append(CultureInfo.InvariantCulture, $"</h{level}>\n");
        return this;
    }

    public HtmlReport Paragraph(string text)
    {
        _body.Append("<p>").Append(Escape(text)).Append("</p>\n");
        return this;
    }

    /// <summary>A table; every row must have as many cells as the header. Numeric cells are right-aligned.</summary>
    public HtmlReport Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string? caption = null)
    {
        if (header.Count == 0) throw new MspgtException("html report", "table has no columns");
        _body.Append("<div class=\"table-wrap\"><table>\n");
        if (caption is not null) _body.Append("<caption>").Append(Escape(caption)).Append("</caption>\n");
        _body.Append("<thead><tr>");
        foreach (var h in header) _body.Append("<th>").Append(Escape(h)).Append("</th>");
        _body.Append("</tr></thead>\n<tbody>\n");
        int r = 0;
        foreach (var row in rows)
        {
            if (row.Count != header.Count)
                throw new MspgtException("html report", $"table row {r} has {row.Count} cells but the header has {header.Count}");
            _body.Append("<tr>");
            foreach (var cell in row)
            {
                _body.Append(IsNumber(cell) ? "<td class=\"num\">" : "<td>").Append(Escape(cell)).Append("</td>");
            }
            _body.Append("</tr>\n");
            r++;
        }
        _body.Append("</tbody>\n</table></div>\n");
        return this;
    }

    public HtmlReport Figure(Figure figure, string caption) => Svg(figure.ToSvg(), caption);

    /// <summary>Small figures side by side (wrapping), under one caption.</summary>
    public HtmlReport FigureGrid(IEnumerable<Figure> figures, string caption)
    {
        _body.Append("<div class=\"grid\">\n");
        foreach (var f in figures) Svg(f.ToSvg(), "");
        _body.Append("</div>\n");
        return Paragraph(caption);
    }

    /// <summary>A list of findings, each led by its verdict in the verdict's colour (green supported, red not
    /// supported, grey not evaluable, amber not identifiable).</summary>
    public HtmlReport Findings(IEnumerable<(string Verdict, string Text)> findings)
    {
        _body.Append("<ul class=\"findings\">\n");
        foreach (var (verdict, text) in findings)
        {
            string css = verdict switch
            {
                "supported" => "supported", "not supported" => "not-supported", "not identifiable" => "not-identifiable", _ => "not-evaluable",
            };
            _body.Append("<li><span class=\"verdict ").Append(css).Append("\">").Append(Escape(verdict)).Append("</span> ").Append(Escape(text)).Append("</li>\n");
        }
        _body.Append("</ul>\n");
        return this;
    }

    /// <summary>
    /// Inlines an SVG document as a figure. The XML prolog and namespace declarations are dropped (HTML needs
    /// neither) and element ids are prefixed per figure: several inline SVGs share one id space, and two plots
    /// with the same clip-path id would otherwise clip each other's data.
    /// </summary>
    public HtmlReport Svg(string svg, string caption)
    {
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        int end = svg.LastIndexOf("</svg>", StringComparison.Ordinal);
        if (start < 0 || end < start) throw new MspgtException("html report", $"figure '{caption}' is not an SVG document");
        string inner = svg[start..(end + "</svg>".Length)];
        if (ScriptPattern().IsMatch(inner))
            throw new MspgtException("html report", $"figure '{caption}' contains script or event handlers");
        if (ExternalReferencePattern().IsMatch(inner))
            throw new MspgtException("html report", $"figure '{caption}' refers to an external resource");
        inner = XmlnsPattern().Replace(inner, "");
        inner = AddViewBox(inner);
        // The ids are also renumbered in order of appearance: ScottPlot names clip paths from a process-wide
        // counter, and the same report must be the same bytes however many plots were drawn before it.
        string prefix = $"fig{++_figureCount}-";
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in IdPattern().Matches(inner))
            renamed.TryAdd(m.Groups[2].Value, $"{prefix}{renamed.Count}");
        string Rename(string id) => renamed.TryGetValue(id, out var r) ? r : prefix + id;
        inner = IdPattern().Replace(inner, m => $"{m.Groups[1].Value}=\"{Rename(m.Groups[2].Value)}\"");
        inner = UrlRefPattern().Replace(inner, m => $"url(#{Rename(m.Groups[1].Value)})");
        inner = HrefRefPattern().Replace(inner, m => $"{m.Groups[1].Value}=\"#{Rename(m.Groups[2].Value)}\"");
        _body.Append("<figure>\n").Append(inner).Append("\n<figcaption>").Append(Escape(caption)).Append("</figcaption>\n</figure>\n");
        return this;
    }

    /// <summary>
    /// ScottPlot's SVG root has width/height but no viewBox; without one the CSS that shrinks wide figures to the
    /// page would crop them instead of scaling them.
    /// </summary>
    private static string AddViewBox(string svg)
    {
        int close = svg.IndexOf('>');
        string root = svg[..close];
        if (root.Contains("viewBox", StringComparison.Ordinal)) return svg;
        var w = Regex.Match(root, @"\swidth=""([\d.]+)""");
        var h = Regex.Match(root, @"\sheight=""([\d.]+)""");
        if (!w.Success || !h.Success) return svg;
        return $"{root} viewBox=\"0 0 {w.Groups[1].Value} {h.Groups[1].Value}\"{svg[close..]}";
    }

    /// <summary>A block with the run manifest (JSON or other preformatted text), shown verbatim.</summary>
    /// <param name="open">Shown unfolded (true) or folded to its heading until clicked (false).</param>
    public HtmlReport Manifest(string text, string heading = "Manifest", bool open = true)
    {
        _body.Append(open ? "<details class=\"manifest\" open>\n<summary>" : "<details class=\"manifest\">\n<summary>").Append(Escape(heading)).Append("</summary>\n<pre>")
            .Append(Escape(text)).Append("</pre>\n</details>\n");
        return this;
    }

    /// <summary>A manifest object serialised with <see cref="JsonOutput"/> (so it matches the manifest.json file).</summary>
    public HtmlReport ManifestJson<T>(T manifest, string heading = "Manifest") =>
        Manifest(JsonOutput.Serialize(manifest, "manifest"), heading);

    public string Build()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          .Append("<title>").Append(Escape(_title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n")
          .Append("<h1>").Append(Escape(_title)).Append("</h1>\n")
          .Append(_body);
        if (_sectionOpen) sb.Append("</section>\n");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, Build());

    private void CloseSection()
    {
        if (_sectionOpen) _body.Append("</section>\n");
        _sectionOpen = false;
    }

    private static string Escape(string s) => WebUtility.HtmlEncode(s);

    private static bool IsNumber(string s) =>
        double.TryParse(s.Trim().TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private const string Css = """
        body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
        h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
        h2 { border-bottom: 1px solid #bbb; padding-bottom: .15em; margin-top: 2em; }
        table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
        caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: .3em; }
        th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
        th { background: #f0f0f0; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:nth-child(even) { background: #fafafa; }
        figure { margin: 1.5em 0; }
        figure svg { max-width: 100%; height: auto; display: block; }
        figcaption { font-size: .9em; color: #444; margin-top: .3em; }
        details.manifest pre { background: #f6f6f6; border: 1px solid #ddd; padding: .8em; overflow-x: auto; font-size: .85em; }
        summary { cursor: pointer; font-weight: bold; }
        .table-wrap { overflow-x: auto; max-width: 100%; }
        .grid { display: flex; flex-wrap: wrap; gap: .5em; }
        .grid figure { margin: 0; flex: 0 1 340px; }
        ul.findings { list-style: none; padding-left: 0; }
        ul.findings li { margin: .35em 0; }
        .verdict { display: inline-block; min-width: 9.5em; padding: .05em .5em; border-radius: .3em; font-weight: bold; font-size: .9em; color: #fff; }
        .verdict.supported { background: #1b7837; }
        .verdict.not-supported { background: #b2182b; }
        .verdict.not-evaluable { background: #777; }
        .verdict.not-identifiable { background: #d08c00; }

        """;

    [GeneratedRegex(@"<script|\son[a-z]+\s*=|javascript:", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptPattern();

    [GeneratedRegex(@"(?:href|src)\s*=\s*[""']\s*(?:https?:|//)|url\(\s*[""']?\s*(?:https?:|//)|@import", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReferencePattern();

    [GeneratedRegex(@"\sxmlns(?::[a-zA-Z]+)?=""[^""]*""")]
    private static partial Regex XmlnsPattern();

    [GeneratedRegex(@"\b(id)=""([^""]+)""")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"url\(#([^)\s]+)\)")]
    private static partial Regex UrlRefPattern();

    [GeneratedRegex(@"((?:xlink:)?href)=""#([^""]+)""")]
    private static partial Regex HrefRefPattern();
}
