using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P1: every model has two boundaries. Per model the calibrated test of the analysis decides
/// (<see cref="Scales.CalibratedSelection"/>: K chosen by sequential parametric-bootstrap tests against smooth nulls
/// at α = 0.05). A model whose depth cannot hold two boundaries of the minimum segment length is not evaluable. The
/// random-weight controls go through the same test: if one of them also gets two boundaries, the test finds two
/// boundaries where there is no trained structure, and P1 is not identifiable in that study.
/// </summary>
public sealed class P1TwoBoundaries : IPrediction
{
    public string Id => "P1";
    public string Statement => "Two boundaries: the calibrated test selects K = 2 boundaries (three segments) in every model.";
    public string Threshold => "k_selected = 2 (each step of the sequential test at α = 0.05) in every model deep enough to hold two boundaries, and in no random-weight control";
    public string Null => "per model: smooth curves (≤ 4 effective degrees of freedom per signal), then j boundaries with smooth segments; whole-document residual bootstrap";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject();
        var per = new JsonObject();
        foreach (var m in c.Subjects) per[m.Spec.Name] = Numbers(m.Summary);
        numbers["models"] = per;
        var evaluable = c.Subjects.Where(m => m.Summary.Detection.KMax >= 2).ToList();
        var controlsWithTwo = c.Controls.Where(m => m.Summary.KSelected == 2).Select(m => m.Spec.Name).ToList();
        if (c.Controls.Count > 0)
        {
            var ctl = new JsonObject();
            foreach (var m in c.Controls) ctl[m.Spec.Name] = Numbers(m.Summary);
            numbers["controls"] = ctl;
        }
        if (evaluable.Count == 0)
            return Result(Verdict.NotEvaluable, null, c.Subjects.Count == 0
                ? "no models besides random-weight controls"
                : $"no model is deep enough for two boundaries of {c.Subjects[0].Summary.Detection.MinSegmentLength}+ layers ({string.Join(", ", c.Subjects.Select(m => $"{m.Spec.Name}: {m.Summary.NLayers} layers"))})", numbers);

        int two = evaluable.Count(m => m.Summary.KSelected == 2);
        numbers["models_with_k2"] = two;
        numbers["models_evaluable"] = evaluable.Count;
        // The evidence for a second boundary: the largest p-value among the steps that had to reject for K = 2.
        double p = evaluable.Max(m => m.Summary.KTests.Where(t => t.K <= 2).Select(t => t.PValue).DefaultIfEmpty(1).Max());
        string shallow = evaluable.Count < c.Subjects.Count
            ? $"; not evaluable (too shallow): {string.Join(", ", c.Subjects.Except(evaluable).Select(m => m.Spec.Name))}" : "";
        if (controlsWithTwo.Count > 0)
            return Result(Verdict.NotIdentifiable, p, $"random-weight control(s) {string.Join(", ", controlsWithTwo)} also get K = 2: two boundaries are found without trained structure{shallow}", numbers);
        if (two == evaluable.Count)
            return Result(Verdict.Supported, p, $"K = 2 selected in all {two} evaluable model(s){shallow}", numbers);
        var other = evaluable.Where(m => m.Summary.KSelected != 2).Select(m => $"{m.Spec.Name}: K = {m.Summary.KSelected}");
        return Result(Verdict.NotSupported, p, $"{string.Join(", ", other)}{shallow}", numbers);
    }

    private Prediction Result(Verdict v, double? p, string reason, JsonObject numbers) => new(Id, Statement, v, Threshold, Null, p, null, reason, numbers);

    private static JsonObject Numbers(AnalysisSummary s) => new()
    {
        ["n_layers"] = s.NLayers,
        ["k_max"] = s.Detection.KMax,
        ["k_selected"] = s.KSelected,
        ["k_tests"] = new JsonArray(s.KTests.Select(t => (JsonNode?)new JsonObject { ["k"] = t.K, ["statistic"] = Num(t.Statistic, "statistic"), ["p_value"] = Num(t.PValue, "p") }).ToArray()),
        ["forced_k2_p_value"] = s.ForcedK2.PValueVsSmooth is double p ? Num(p, "p") : null,
    };
}
