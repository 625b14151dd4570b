using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P5: precision and file format do not move the scales. Models with the same <see cref="StudyModelSpec.Base"/> are
/// one network; the first listed is the reference. For each variant and boundary, the shift d = b(variant) −
/// b(reference) in layers is tested for equivalence with a margin of one layer by two one-sided tests (TOST): the
/// shift's distribution is the difference of the two models' document-bootstrap boundaries, paired by resample
/// (both analyses drew the same documents in each resample when they share the corpus, the document count and the
/// seed) or, when they do not, drawn independently from each distribution (conservative);
/// p_TOST = max(P(d &lt; −1), P(d &gt; 1)), and equivalence holds when p_TOST ≤ 0.05, i.e. the 90% interval lies
/// within ±1 layer. Supported when every variant is equivalent for both boundaries.
/// </summary>
public sealed class P5PrecisionEquivalence : IPrediction
{
    public const int MarginLayers = 1;

    public string Id => "P5";
    public string Statement => "Precision does not move the scales: the same network in another precision or file format puts both boundaries at the same depth, within one layer.";
    public string Threshold => "TOST p ≤ 0.05 (90% interval of the shift within ±1 layer) for both boundaries of every variant";
    public string Null => "the boundary shifts by more than one layer (|d| > 1)";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject();
        var groups = c.Subjects.GroupBy(m => m.Spec.Base, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        if (groups.Count == 0)
            return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null,
                "no network appears in two precisions or formats (give such models the same \"base\")", numbers);
        var pairs = new JsonArray();
        double pMax = 0;
        int purpose = 0;
        var notEquivalent = new List<string>();
        foreach (var g in groups)
        {
            var reference = g.First();
            foreach (var v in g.Skip(1))
            {
                var a = reference.Summary.ForcedK2;
                var b = v.Summary.ForcedK2;
                if (reference.Summary.NLayers != v.Summary.NLayers)
                    throw new MspgtException("P5", $"models {reference.Spec.Name} and {v.Spec.Name} share base \"{g.Key}\" but have {reference.Summary.NLayers} and {v.Summary.NLayers} layers");
                if (a.BootstrapCounts is null || b.BootstrapCounts is null)
                    return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null,
                        $"{(a.BootstrapCounts is null ? reference.Spec.Name : v.Spec.Name)} has no bootstrap distribution of its boundaries", numbers);
                var o = new JsonObject
                {
                    ["base"] = g.Key,
                    ["reference"] = Variant(reference),
                    ["variant"] = Variant(v),
                    ["boundary_shift_layers"] = Array(b.Boundaries.Zip(a.Boundaries, (x, y) => x - y)),
                    ["fused_max_abs_change"] = Num(reference.Summary.Fused.Zip(v.Summary.Fused, (x, y) => Math.Abs(x - y)).Max(), "fused change"),
                };
                var tests = new JsonArray();
                bool paired = a.BootstrapDraws is { } da && b.BootstrapDraws is { } db && da.Length == db.Length
                              && reference.Summary.NDocuments == v.Summary.NDocuments
                              && reference.Summary.Manifest.CorpusSha256 == v.Summary.Manifest.CorpusSha256
                              && reference.Summary.Manifest.Settings.Seed == v.Summary.Manifest.Settings.Seed;
                o["pairing"] = paired ? "paired by bootstrap resample (same documents drawn)" : "independent draws from each model's bootstrap distribution";
                for (int i = 0; i < 2; i++)
                {
                    var rng = c.Random(Id, purpose++);
                    double[] d;
                    if (paired) d = a.BootstrapDraws!.Zip(b.BootstrapDraws!, (x, y) => (double)(y[i] - x[i])).ToArray();
                    else
                    {
                        var sa = new BoundarySampler(a.BootstrapCounts[i]);
                        var sb = new BoundarySampler(b.BootstrapCounts[i]);
                        d = new double[c.Resamples];
                        for (int r = 0; r < c.Resamples; r++) d[r] = sb.Draw(ref rng) - sa.Draw(ref rng);
                    }
                    double below = d.Count(x => x < -MarginLayers) / (double)d.Length, above = d.Count(x => x > MarginLayers) / (double)d.Length;
                    double p = Math.Max(below, above);
                    pMax = Math.Max(pMax, p);
                    if (p > Alpha) notEquivalent.Add($"{v.Spec.Name} b{i + 1}");
                    tests.Add(new JsonObject { ["boundary"] = i + 1, ["p_tost"] = Num(p, "p"), ["interval_90"] = Array(Interval(d, 0.90), "interval") });
                }
                o["tost"] = tests;
                if (reference.Interventions is { } ia && v.Interventions is { } ib)
                {
                    var eff = new JsonObject();
                    foreach (var sb in ia.Brittleness)
                        if (ib.Brittleness.FirstOrDefault(x => x.Segment == sb.Segment) is { } other)
                            eff[sb.Segment] = new JsonObject { ["reference"] = Num(sb.Mean, "brittleness"), ["variant"] = Num(other.Mean, "brittleness") };
                    o["brittleness"] = eff;
                }
                pairs.Add(o);
            }
        }
        numbers["pairs"] = pairs;
        bool supported = notEquivalent.Count == 0;
        return new Prediction(Id, Statement, supported ? Verdict.Supported : Verdict.NotSupported, Threshold, Null, pMax, null,
            supported ? "every variant's boundaries are equivalent to its reference's within one layer" : $"not shown equivalent within one layer: {string.Join(", ", notEquivalent)}", numbers);
    }

    private static JsonObject Variant(PredictionInput m) => new()
    {
        ["name"] = m.Spec.Name,
        ["precision"] = m.Spec.Precision,
        ["format"] = m.Summary.Manifest.ModelFormat,
        ["k_selected"] = m.Summary.KSelected,
        ["boundaries"] = Array(m.Summary.ForcedK2.Boundaries),
        ["boundary_ci"] = m.Summary.ForcedK2.BoundaryCi is { } ci ? new JsonArray(ci.Select(x => (JsonNode?)Array(x)).ToArray()) : null,
    };
}
