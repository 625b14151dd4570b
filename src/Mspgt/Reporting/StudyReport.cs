using System.Globalization;
using Mspgt.Experiments;
using Mspgt.Experiments.Predictions;
using Mspgt.Files;
using Mspgt.Interventions;

namespace Mspgt.Reporting;

/// <summary>
/// A finished study's outputs: signals.parquet, interventions.parquet and predictions.parquet, every model's figures (signals, CKA, and dissociation and dose-response
/// beside its intervention data), report.html, and study.json last, so that study.json marks a complete study.
/// </summary>
public static class StudyReport
{
    /// <summary>Writes every output of <paramref name="study"/> into its output folder.</summary>
    public static void Write(StudyResult study)
    {
        var def = study.Definition;
        Directory.CreateDirectory(def.Output);
        foreach (var (file, table) in StudyOutputs.Tables(def, study.Models, study.Predictions)) table.Write(Path.Combine(def.Output, file));
        foreach (var m in study.Models)
        {
            AnalysisFigures.Write(m.Summary, Path.Combine(def.Output, m.Folder));
            if (m.InterventionsFolder is { } ivf && Path.Combine(def.Output, ivf, InterventionOutputs.EffectsFileName) is var effects && File.Exists(effects))
                InterventionFigures.Write(Path.Combine(def.Output, ivf), JsonOutput.ReadFile<InterventionReport>(effects));
        }
        Report(study.Models, study.Summary).Save(Path.Combine(def.Output, StudyOutputs.ReportFileName));
        JsonOutput.WriteFile(Path.Combine(def.Output, StudyOutputs.SummaryFileName), study.Summary); // last: the study is complete
    }

    /// <summary>report.html: predictions, boundaries across models, per-model figures, controls and the manifest.</summary>
    public static HtmlReport Report(IReadOnlyList<StudyModelResult> models, StudySummary summary)
    {
        var mf = summary.Manifest;
        var report = new HtmlReport($"mspgt study: {mf.Title}");
        int controls = models.Count(m => m.Spec.Control);
        report.Paragraph($"{models.Count - controls} model(s) and {controls} random-weight control(s); corpus: " +
                         (mf.Corpus.Path != null ? $"{Path.GetFileName(mf.Corpus.Path)} (sha256 {mf.CorpusSha256})" : $"{mf.Corpus.Documents} documents sampled from each model (seed {mf.Corpus.Seed})") +
                         $"; mspgt {mf.Version}; {mf.Date}.");

        report.Section("Findings");
        report.Findings(summary.Predictions.Select(p => (VerdictJsonConverter.Text(p.Supported), $"{p.Id}: {p.Statement} {Sentence(p.Reason)} ({Evidence(p)})")));

        report.Section("Predictions");
        report.Table(["id", "statement", "verdict", "why", "threshold (fixed before the data)", "null", "p / interval"],
            summary.Predictions.Select(p => (IReadOnlyList<string>)[p.Id, p.Statement, VerdictJsonConverter.Text(p.Supported), p.Reason, p.Threshold, p.Null, Evidence(p)]),
            "Each prediction is a test with its decision rule fixed before the data and a null it can fail against; \"not evaluable\": the models given cannot test it; \"not identifiable\": the test also passes on random-weight controls.");
        foreach (var p in summary.Predictions)
            report.Manifest(JsonOutput.Serialize(p.Numbers, p.Id), $"{p.Id}: all numbers", open: false);

        report.Section("Boundaries across models");
        var ordered = models.Where(m => !m.Spec.Control).Concat(models.Where(m => m.Spec.Control)).ToList();
        report.Figure(BoundaryDepthPlot.Create(new BoundaryDepthData("Best two-boundary fits: depth fractions with bootstrap 95% intervals",
            ordered.Select(m => new BoundaryDepthRow($"{m.Spec.Name} · {m.Spec.Family} {m.Spec.Size}".TrimEnd(),
                m.Summary.ForcedK2.DepthFractions,
                m.Summary.ForcedK2.BoundaryCi?.Select(c => new[] { (double)c[0] / m.Summary.NLayers, (double)c[1] / m.Summary.NLayers }).ToList(),
                m.Spec.Control)).ToList())),
            "Each row one model; markers: depth fraction b/L of its best two-boundary fit (b = first layer of the next segment), whether or not K = 2 was selected; bars: bootstrap 95% interval over documents. Open markers: random-weight controls.");
        report.Table(["model", "family", "size", "precision", "format", "layers", "K selected", "test p-values", "two-boundary fit", "95% intervals", "p vs smooth", "local · intermediate · global"],
            ordered.Select(m => (IReadOnlyList<string>)[
                m.Spec.Control ? $"{m.Spec.Name} (control)" : m.Spec.Name, m.Spec.Family, m.Spec.Size, m.Spec.Precision ?? "", m.Record.Format,
                m.Summary.NLayers.ToString(CultureInfo.InvariantCulture), m.Summary.KSelected.ToString(CultureInfo.InvariantCulture),
                string.Join(", ", m.Summary.KTests.Select(t => $"K={t.K}: {P(t.PValue)}")),
                string.Join(", ", m.Summary.ForcedK2.Boundaries),
                m.Summary.ForcedK2.BoundaryCi is { } ci ? string.Join(", ", ci.Select(c => $"[{c[0]}, {c[1]}]")) : "",
                P(m.Summary.ForcedK2.PValueVsSmooth),
                string.Join(" · ", ScaleNames.All.Select(n => Range(m.Summary.Segments[n])))]),
            "K selected: sequential tests against smooth nulls at α = 0.05 (0 is a possible answer). Boundaries are block indices (0-based); segments are inclusive block ranges of the two-boundary fit, named from the data.");

        // One colour scale for every model's dissociation matrix, so that the matrices compare at a glance.
        double? dissociationMax = models.SelectMany(m => m.Interventions?.Dissociation.SelectMany(r => r) ?? []).Where(v => v is not null)
            .Select(v => v!.Value).DefaultIfEmpty(0).Max() is double mx && mx > 0 ? mx : null;
        foreach (var m in models.Where(m => !m.Spec.Control)) ModelSection(report, m, dissociationMax, $"Model {m.Spec.Name} ({m.Spec.Family}, {m.Spec.Size}{(m.Spec.Precision is { } p ? ", " + p : "")})");
        foreach (var m in models.Where(m => m.Spec.Control)) ModelSection(report, m, dissociationMax, $"Random-weight control {m.Spec.Name} (not part of any prediction)");

        report.Section("Manifest");
        report.ManifestJson(mf);
        return report;
    }

    private static void ModelSection(HtmlReport report, StudyModelResult m, double? dissociationMax, string heading)
    {
        var s = m.Summary;
        report.Section(heading);
        report.Paragraph($"{s.NLayers} blocks, {s.NDocuments} documents, {s.NTokens} tokens; {m.Record.Format}, sha256 {m.Record.ModelSha256}; " +
                         $"calibrated K = {s.KSelected}; best two-boundary fit {string.Join(", ", s.ForcedK2.Boundaries)} (p {P(s.ForcedK2.PValueVsSmooth)} against the smooth null); {string.Join(", ", ScaleNames.All.Select(n => $"{n} {Range(s.Segments[n])}"))} " +
                         $"(order decided by {s.ScaleOrderDecidedBy}).");
        report.FigureGrid(AnalysisFigures.SignalPanels(s),
            $"{m.Spec.Name}: each fused signal's mean over documents in its own unit, with ±1.96 standard errors (between documents); grey lines: the two-boundary fit.");
        report.Figure(AnalysisFigures.CkaFigure(s), $"{m.Spec.Name}: linear CKA between the embedding and every block's output.");
        if (m.Interventions is not { } iv)
        {
            report.Paragraph("Interventions not run for this model.");
            return;
        }
        int rows = iv.DissociationRows.Length, cols = iv.DissociationColumns.Length;
        if (rows > 0 && cols > 0)
        {
            var mat = new double[rows, cols];
            var undefined = new bool[rows, cols];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    if (iv.Dissociation[r][c] is double v) mat[r, c] = v; else undefined[r, c] = true;
            report.Figure(HeatmapPlot.Create(new HeatmapData($"{m.Spec.Name}: dissociation ({iv.Condition})", mat, iv.DissociationRows,
                    iv.DissociationColumns, "mean |Cohen's d_z|", ValueFormat: "0.000", XLabel: "outcome family", YLabel: "perturbed segment",
                    Min: 0, Max: dissociationMax, Undefined: undefined)),
                $"{m.Spec.Name}: mean |Cohen's d_z| of each metric family when each segment is perturbed (one colour scale for every model); diagonal dominance {F(iv.DiagonalDominance)}{Dominance(iv)}.");
        }
        if (iv.DoseResponse.Count > 0)
            report.Figure(DoseResponsePlot.Create(new DoseResponseData($"{m.Spec.Name}: brittleness against noise strength",
                    iv.DoseResponse.Select(Series).ToList(), iv.DoseControl is { } c ? Series(c) : null, YLabel: "brittleness KL (nats)",
                    XLabel: "noise strength α (× mean residual norm)")),
                $"{m.Spec.Name}: next-token KL(clean ‖ noised) against α per segment; dashed: random segments of the same width.");
    }

    private static DoseResponseSeries Series(DoseCurve c) => InterventionFigures.Series(c);

    private static string Dominance(StudyInterventionOutcome iv) => iv.DominanceTest is { } d
        ? $" (95% interval {(d.Ci is { } ci ? $"[{F(ci[0])}, {F(ci[1])}]" : "–")}; permutation null mean {F(d.NullMean)}, p {P(d.PValue)})"
        : iv.DominanceTestNote is { } note ? $" ({note})" : "";

    /// <summary>The p-value or interval a prediction rests on, as one cell.</summary>
    public static string Evidence(Prediction p) =>
        p.PValue is double v ? $"p {P(v)}" : p.Interval is { Length: 2 } iv ? $"[{F(iv[0])}, {F(iv[1])}]" : "–";

    private static string P(double? p) => p is double v ? (v < 0.001 ? "< 0.001" : v.ToString("0.000", CultureInfo.InvariantCulture)) : "–";

    private static string F(double? v) => v is double d ? d.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string Sentence(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..] + (s.EndsWith('.') ? "" : ".");

    private static string Range(int[] r) => r[0] == r[1] ? $"{r[0]}" : $"{r[0]}–{r[1]}";
}
