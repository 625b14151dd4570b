using Mspgt.Experiments;
using Mspgt.Scales;

namespace Mspgt.Reporting;

/// <summary>The figures of an analysis: signals.png / signals.svg and cka.png, drawn from its summary alone.</summary>
public static class AnalysisFigures
{
    /// <summary>Writes signals.png, signals.svg and cka.png into dir (each atomically); returns the paths.</summary>
    public static IReadOnlyList<string> Write(AnalysisSummary summary, string dir)
    {
        Directory.CreateDirectory(dir);
        var fig = SignalsFigure(summary);
        string png = Path.Combine(dir, "signals.png"), svg = Path.Combine(dir, "signals.svg"), cka = Path.Combine(dir, "cka.png");
        fig.SavePng(png);
        fig.SaveSvg(svg);
        CkaFigure(summary).SavePng(cka);
        return [png, svg, cka];
    }

    /// <summary>
    /// The standardised fused signals and the fused score against depth, boundaries with their intervals shaded and
    /// the scales named; built from the summary alone (its per-layer means, z-scored as the analysis does).
    /// </summary>
    public static Figure SignalsFigure(AnalysisSummary s)
    {
        var fused = new HashSet<string>(s.Manifest.FusedSignals);
        var series = s.Signals.Where(kv => fused.Contains(kv.Key))
            .Select(kv => new SignalSeries(kv.Key, SignalFusion.ZScore(kv.Value))).ToList();
        var markers = new List<BoundaryMarker>();
        var k2 = s.ForcedK2;
        for (int i = 0; i < k2.Boundaries.Length; i++)
        {
            var ci = k2.BoundaryCi?[i];
            markers.Add(new BoundaryMarker(k2.Boundaries[i] - 0.5, (ci?[0] ?? k2.Boundaries[i]) - 0.5, (ci?[1] ?? k2.Boundaries[i]) - 0.5));
        }
        var segNames = ScaleNames.All.OrderBy(n => s.Segments[n][0]).ToArray();
        return SignalsPlot.Create(new SignalsPlotData(s.Model, s.NLayers, series, s.Fused, markers, segNames));
    }

    /// <summary>One small plot per fused signal in its own unit, with its between-document standard error.</summary>
    public static IReadOnlyList<Figure> SignalPanels(AnalysisSummary s)
    {
        var definitions = Signals.SignalNames.All.ToDictionary(a => a.Name, a => a.Meaning);
        var det = s.Detection;
        return s.Manifest.FusedSignals.Where(s.Signals.ContainsKey).Select(name =>
        {
            int j = Array.IndexOf(det.Signals, name);
            double? se = j >= 0 ? det.NoiseSd[j] : null;
            string unit = definitions.TryGetValue(name, out var d) ? SignalPanelPlot.UnitOf(d) : "value";
            return SignalPanelPlot.Create(s.Model, new SignalCurve(name, unit, s.Signals[name], se), s.ForcedK2.Boundaries);
        }).ToList();
    }

    /// <summary>The layer × layer linear CKA heatmap (embedding and every block's output).</summary>
    public static Figure CkaFigure(AnalysisSummary s, string? title = null)
    {
        int n = s.CkaMatrix.Length;
        var m = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i, j] = s.CkaMatrix[i][j];
        var labels = Enumerable.Range(0, n).Select(i => i == 0 ? "embed" : $"{i - 1}").ToArray();
        return HeatmapPlot.Create(new HeatmapData(title ?? $"{s.Model}: linear CKA between layer outputs", m, labels, labels, "CKA",
            XLabel: "layer output", YLabel: "layer output", Min: 0, Max: 1));
    }
}
