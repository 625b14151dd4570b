using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P4: perturbing each scale moves its own kind of text outcome most. Per model, the dissociation matrix (segments ×
/// outcome families, mean |d_z|) has a diagonal-dominance score; its null comes from permuting, document by document,
/// which segment's outcome is labelled local / intermediate / global (under "no scale-specific effect" the labels
/// are exchangeable), and its 95% interval from resampling documents. Supported when the score beats its permutation
/// null at α = 0.05 in every model with a complete matrix (an intersection–union test: the largest p decides); a
/// network in several files counts once.
/// </summary>
public sealed class P4Dissociation : IPrediction
{
    public string Id => "P4";
    public string Statement => "Dissociation: in every model, perturbing each segment moves its own family of text outcomes (lexical, sentence, discourse) more than the others.";
    public string Threshold => "diagonal-dominance permutation p ≤ 0.05 in every model with a complete dissociation matrix";
    public string Null => "segment labels exchangeable within each document (per-document permutation of the three segments' outcomes)";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject();
        if (c.Subjects.All(m => m.Interventions is null))
            return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null, "interventions not run", numbers);
        var per = new JsonObject();
        var ps = new List<(string Name, double P)>();
        foreach (var m in Distinct(c.Subjects))
        {
            if (m.Interventions is not { } iv) { per[m.Spec.Name] = null; continue; }
            var d = iv.DominanceTest;
            per[m.Spec.Name] = new JsonObject
            {
                ["diagonal_dominance"] = d is not null ? Num(d.DiagonalDominance, "dominance") : iv.DiagonalDominance is double dd ? Num(dd, "dominance") : null,
                ["ci"] = d?.Ci is { } ci ? Array(ci, "interval") : null,
                ["null_mean"] = d?.NullMean is double nm ? Num(nm, "null mean") : null,
                ["p_value"] = d is not null ? Num(d.PValue, "p") : null,
                ["note"] = iv.DominanceTestNote,
            };
            if (d?.PValue is double pv) ps.Add((m.Spec.Name, pv));
        }
        numbers["models"] = per;
        if (ps.Count == 0)
            return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null,
                "no model has a complete dissociation matrix with a permutation test (text outcomes need continuations > 0)", numbers);
        double pMax = ps.Max(x => x.P);
        bool supported = pMax <= Alpha;
        var failing = ps.Where(x => x.P > Alpha).Select(x => $"{x.Name} (p {x.P:0.###})").ToList();
        return new Prediction(Id, Statement, supported ? Verdict.Supported : Verdict.NotSupported, Threshold, Null, pMax, null,
            supported ? $"diagonal dominance beats its permutation null in all {ps.Count} model(s)" : $"not above the permutation null in {string.Join(", ", failing)}", numbers);
    }
}
