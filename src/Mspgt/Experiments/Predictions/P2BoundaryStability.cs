using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P2: boundary depth is more stable within the Llama family than within the Qwen family. Only models whose
/// calibrated test selected two boundaries enter (the best two-boundary fit of a model without them lands where the
/// search's own bias puts it, near a third and two thirds of the depth). For each family and boundary i,
/// CV = s / m of the depth fractions b_i / L over the family's distinct models (s with n − 1). Uncertainty from both sources: each replicate redraws the family's models with
/// replacement and every drawn model's boundary from its own bootstrap distribution over documents. Supported when,
/// for both boundaries, the 95% interval of CV(qwen) − CV(llama) lies above 0. A family with fewer than three
/// distinct models gives no usable spread, so P2 is then not evaluable.
/// </summary>
public sealed class P2BoundaryStability : IPrediction
{
    public const int MinModels = 3;

    public string Id => "P2";
    public string Statement => "Boundary stability by family: the depth fraction of each boundary varies less across Llama models than across Qwen models (lower coefficient of variation).";
    public string Threshold => "95% interval of CV(qwen) − CV(llama) above 0 for both boundaries (≥ 3 distinct models with two selected boundaries per family)";
    public string Null => "equal coefficients of variation (difference 0); bootstrap over models and over each model's documents";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject
        {
            ["cv_definition"] = "sample sd / mean of b_i/L over a family's distinct models (one per base), from each model's best two-boundary fit",
            ["resamples"] = c.Resamples,
            ["paper_reference"] = "v3 reports Llama 0.067-0.095, Qwen 0.465-0.726 (for comparison only)",
        };
        var all = Distinct(c.Subjects).ToList();
        var distinct = all.Where(m => m.Summary.KSelected == 2).ToList();
        if (all.Count > distinct.Count)
            numbers["excluded_without_two_boundaries"] = new JsonArray(all.Except(distinct).Select(m => (JsonNode?)$"{m.Spec.Name} (K = {m.Summary.KSelected})").ToArray());
        var families = all.Select(m => m.Spec.Family).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        string? llama = FamilyKey(families, LlamaFamily), qwen = FamilyKey(families, QwenFamily);
        var fams = new JsonObject();
        foreach (var f in families.Order(StringComparer.Ordinal))
        {
            var members = distinct.Where(m => SameFamily(m.Spec.Family, f)).ToList();
            var o = new JsonObject { ["models"] = new JsonArray(members.Select(m => (JsonNode?)m.Spec.Name).ToArray()) };
            for (int i = 0; i < 2; i++)
                o[$"depth_fractions_b{i + 1}"] = Array(members.Select(m => m.Summary.ForcedK2.DepthFractions[i]), "depth fraction");
            if (members.Count >= 2) o["cv"] = Array(Enumerable.Range(0, 2).Select(i => Cv(members.Select(m => m.Summary.ForcedK2.DepthFractions[i]).ToArray())), "CV");
            fams[f] = o;
        }
        numbers["families"] = fams;
        foreach (var (want, key) in new[] { (LlamaFamily, llama), (QwenFamily, qwen) })
        {
            if (key is null) return Result(Verdict.NotEvaluable, null, null, $"no {want} family among the models", numbers);
            int n = distinct.Count(m => SameFamily(m.Spec.Family, key));
            if (n < MinModels) return Result(Verdict.NotEvaluable, null, null, $"family \"{key}\" has {n} distinct model(s) with two selected boundaries; a coefficient of variation needs at least {MinModels}", numbers);
        }
        var lm = distinct.Where(m => SameFamily(m.Spec.Family, llama!)).ToList();
        var qm = distinct.Where(m => SameFamily(m.Spec.Family, qwen!)).ToList();
        var missing = lm.Concat(qm).FirstOrDefault(m => m.Summary.ForcedK2.BootstrapCounts is null);
        if (missing is not null) return Result(Verdict.NotEvaluable, null, null, $"{missing.Spec.Name} has no bootstrap distribution of its boundaries (analyze.bootstrap must be ≥ 1)", numbers);

        var rng = c.Random(Id);
        var diff = new double[2][];
        var ps = new double[2];
        var intervals = new JsonArray();
        bool supported = true;
        for (int i = 0; i < 2; i++)
        {
            var ls = lm.Select(m => (new BoundarySampler(m.Summary.ForcedK2.BootstrapCounts![i]), m.Summary.NLayers)).ToArray();
            var qs = qm.Select(m => (new BoundarySampler(m.Summary.ForcedK2.BootstrapCounts![i]), m.Summary.NLayers)).ToArray();
            diff[i] = new double[c.Resamples];
            for (int r = 0; r < c.Resamples; r++) diff[i][r] = DrawCv(qs, ref rng) - DrawCv(ls, ref rng);
            var iv = Interval(diff[i]);
            intervals.Add(Array(iv, "interval"));
            ps[i] = (diff[i].Count(d => d <= 0) + 1.0) / (c.Resamples + 1.0);
            if (!(iv[0] > 0)) supported = false;
        }
        numbers["cv_qwen_minus_llama"] = Array(Enumerable.Range(0, 2).Select(i =>
            Cv(qm.Select(m => m.Summary.ForcedK2.DepthFractions[i]).ToArray()) - Cv(lm.Select(m => m.Summary.ForcedK2.DepthFractions[i]).ToArray())), "CV difference");
        numbers["cv_qwen_minus_llama_ci"] = intervals;
        numbers["one_sided_p"] = Array(ps, "p");
        // Both boundaries must pass (intersection–union): the p-value is the larger one.
        double p = ps.Max();
        return Result(supported ? Verdict.Supported : Verdict.NotSupported, p, null,
            supported ? "CV(qwen) − CV(llama) > 0 for both boundaries" : "the 95% interval of CV(qwen) − CV(llama) reaches 0 for at least one boundary", numbers);
    }

    private static double DrawCv((BoundarySampler Sampler, int Layers)[] models, ref Numerics.SplitMix64 rng)
    {
        var f = new double[models.Length];
        for (int k = 0; k < models.Length; k++)
        {
            var (sampler, layers) = models[rng.NextInt(models.Length)];
            f[k] = (double)sampler.Draw(ref rng) / layers;
        }
        return Cv(f);
    }

    /// <summary>Sample coefficient of variation s/m (n − 1 in s); 0 when every value is equal.</summary>
    public static double Cv(IReadOnlyList<double> values)
    {
        if (values.Count < 2) throw new InvalidOperationException("a coefficient of variation needs at least 2 values");
        double mean = values.Average();
        if (!(mean > 0)) throw new InvalidOperationException($"mean depth fraction {mean} is not positive");
        double ss = values.Sum(v => (v - mean) * (v - mean));
        return Math.Sqrt(ss / (values.Count - 1)) / mean;
    }

    private Prediction Result(Verdict v, double? p, double[]? interval, string reason, JsonObject numbers) =>
        new(Id, Statement, v, Threshold, Null, p, interval, reason, numbers);
}
