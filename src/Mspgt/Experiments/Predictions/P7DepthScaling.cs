using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P7: boundaries scale with depth. Only models whose calibrated test selected two boundaries enter (a best
/// two-boundary fit without them sits where the search's bias puts it, at similar fractions of any depth, which would
/// read as support). Within each family with such models of at least two depths, and for each boundary,
/// compare the spread (max − min) of the layer index b_i with the spread of the depth fraction b_i / L expressed in
/// layers of the deepest model: fixed fractions make the second small, fixed layers the first. The statistic is the
/// sum over families and boundaries of ln((layer spread + 1) / (fraction spread + 1)) — a log ratio, so a boundary
/// that sits at one fraction counts as much in a small family as in a large one, with one layer added because a
/// spread is only measured to the layer. Its null: the same sum when every model's boundaries are drawn uniformly
/// among the valid two-boundary splits at its depth (random boundaries favour neither). Supported when the upper
/// exceedance p ≤ 0.05; the lower tail (fixed layers) is reported as the alternative.
/// </summary>
public sealed class P7DepthScaling : IPrediction
{
    public string Id => "P7";
    public string Statement => "Boundaries scale with depth: within a family, models of different depth put each boundary at a similar depth fraction rather than at the same layer index.";
    public string Threshold => "upper exceedance p ≤ 0.05 of Σ ln((layer spread + 1) / (fraction spread + 1)) against random boundaries";
    public string Null => "every model's two boundaries uniform among the valid splits at its depth";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject();
        var excluded = c.Subjects.Where(m => m.Summary.KSelected != 2).ToList();
        if (excluded.Count > 0)
            numbers["excluded_without_two_boundaries"] = new JsonArray(excluded.Select(m => (JsonNode?)$"{m.Spec.Name} (K = {m.Summary.KSelected})").ToArray());
        var families = c.Subjects.Where(m => m.Summary.KSelected == 2).GroupBy(m => m.Spec.Family, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Models: g.GroupBy(m => m.Summary.NLayers).OrderBy(x => x.Key).Select(x => x.First()).ToList()))
            .Where(f => f.Models.Count >= 2).ToList();
        if (families.Count == 0)
            return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null, "no family has models of two different depths with two selected boundaries", numbers);
        double observed = 0;
        foreach (var (key, models) in families)
        {
            var o = new JsonObject
            {
                ["models"] = new JsonArray(models.Select(m => (JsonNode?)m.Spec.Name).ToArray()),
                ["n_layers"] = Array(models.Select(m => m.Summary.NLayers)),
            };
            var per = new JsonArray();
            var bounds = models.Select(m => m.Summary.ForcedK2.Boundaries).ToList();
            var layers = models.Select(m => m.Summary.NLayers).ToArray();
            for (int i = 0; i < 2; i++)
            {
                var (layerSpread, fractionSpread) = Spreads(bounds.Select(b => b[i]).ToArray(), layers);
                observed += Score(layerSpread, fractionSpread);
                per.Add(new JsonObject
                {
                    ["boundary"] = i + 1,
                    ["layers"] = Array(bounds.Select(b => b[i])),
                    ["depth_fractions"] = Array(bounds.Select((b, k) => (double)b[i] / layers[k]), "fraction"),
                    ["layer_spread"] = Num(layerSpread, "spread"),
                    ["fraction_spread_in_layers_of_deepest"] = Num(fractionSpread, "spread"),
                });
            }
            o["boundaries"] = per;
            numbers[key] = o;
        }
        var pools = families.Select(f => f.Models.Select(m => (Pairs: RandomBoundaries.All(m.Summary.NLayers, m.Summary.ForcedK2.MinSegmentLength), m.Summary.NLayers)).ToList()).ToList();
        var rng = c.Random(Id);
        int above = 0, below = 0;
        for (int r = 0; r < c.Resamples; r++)
        {
            double total = 0;
            foreach (var pool in pools)
            {
                var drawn = pool.Select(x => x.Pairs[rng.NextInt(x.Pairs.Length)]).ToArray();
                var layers = pool.Select(x => x.NLayers).ToArray();
                for (int i = 0; i < 2; i++)
                {
                    var (ls, fs) = Spreads(drawn.Select(d => i == 0 ? d.Item1 : d.Item2).ToArray(), layers);
                    total += Score(ls, fs);
                }
            }
            if (total >= observed - 1e-9) above++;
            if (total <= observed + 1e-9) below++;
        }
        double p = (above + 1.0) / (c.Resamples + 1.0), pFixed = (below + 1.0) / (c.Resamples + 1.0);
        numbers["statistic"] = Num(observed, "statistic");
        numbers["p_fixed_layers"] = Num(pFixed, "p");
        bool supported = p <= Alpha;
        string reason = supported
            ? $"fractions closer than layers beyond random boundaries (statistic {observed:0.##}, p {p:0.###})"
            : pFixed <= Alpha
                ? $"boundaries stay at fixed layers rather than fractions (lower-tail p {pFixed:0.###})"
                : $"neither fractions nor layers are closer than random boundaries would be (p {p:0.###}; fixed layers p {pFixed:0.###})";
        return new Prediction(Id, Statement, supported ? Verdict.Supported : Verdict.NotSupported, Threshold, Null, p, null, reason, numbers);
    }

    private static double Score(double layerSpread, double fractionSpread) => Math.Log((layerSpread + 1) / (fractionSpread + 1));

    /// <summary>(max − min of b, (max − min of b/L) × L_max).</summary>
    private static (double Layer, double Fraction) Spreads(int[] b, int[] layers)
    {
        var f = b.Select((x, k) => (double)x / layers[k]).ToArray();
        return (b.Max() - b.Min(), (f.Max() - f.Min()) * layers.Max());
    }
}
