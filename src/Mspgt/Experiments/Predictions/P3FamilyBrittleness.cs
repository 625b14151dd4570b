using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P3: the local segment's brittleness differs between the families. Brittleness per block of a model's segment =
/// mean over documents of KL(clean ‖ intervened) under the study's primary condition, divided by the segment's width
/// (noise at every block of a wider segment grows the effect); a family's = the mean over its distinct models.
/// Ratio = qwen / llama with a 95% interval from resampling documents within every model (and models within a
/// family when it has at least three). A ratio between 0.5 and 2 is declared no practical difference before the
/// data (an equivalence margin): supported only when the whole interval lies outside it. The intermediate and
/// global segments are reported beside it, as exploratory numbers.
/// </summary>
public sealed class P3FamilyBrittleness : IPrediction
{
    public const double MarginLow = 0.5, MarginHigh = 2.0;

    public string Id => "P3";
    public string Statement => "Brittleness by family: the same perturbation of the local segment changes the next-token distribution by a practically different amount per block in the Qwen and Llama families.";
    public string Threshold => $"95% interval of the local segment's qwen/llama brittleness-per-block ratio entirely outside [{MarginLow}, {MarginHigh}]";
    public string Null => $"no practical difference: ratio within the equivalence margin [{MarginLow}, {MarginHigh}]";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject
        {
            ["paper_reference"] = "v3 reports about 493x between families (for comparison only)",
            ["equivalence_margin"] = Array([MarginLow, MarginHigh], "margin"),
        };
        var distinct = Distinct(c.Subjects).ToList();
        if (distinct.All(m => m.Interventions is null)) return Result(Verdict.NotEvaluable, null, "interventions not run", numbers);
        var famKeys = distinct.Select(m => m.Spec.Family).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        string? llama = FamilyKey(famKeys, LlamaFamily), qwen = FamilyKey(famKeys, QwenFamily);
        if (llama is null || qwen is null) return Result(Verdict.NotEvaluable, null, $"needs models of both the {LlamaFamily} and {QwenFamily} families", numbers);
        var lm = distinct.Where(m => SameFamily(m.Spec.Family, llama)).ToList();
        var qm = distinct.Where(m => SameFamily(m.Spec.Family, qwen)).ToList();
        var lacking = lm.Concat(qm).Where(m => m.Interventions is null).Select(m => m.Spec.Name).ToList();
        if (lacking.Count > 0) return Result(Verdict.NotEvaluable, null, $"interventions not run for {string.Join(", ", lacking)}", numbers);
        var conditions = lm.Concat(qm).Select(m => m.Interventions!.Condition).Distinct().ToList();
        if (conditions.Count > 1) return Result(Verdict.NotEvaluable, null, $"models were perturbed under different conditions ({string.Join("; ", conditions)})", numbers);
        numbers["condition"] = conditions[0];

        double[]? localInterval = null;
        double localRatio = double.NaN;
        var segs = new JsonObject();
        int purpose = 0;
        foreach (var seg in ScaleNames.All)
        {
            var lb = lm.Select(m => PerBlock(m, seg)).ToList();
            var qb = qm.Select(m => PerBlock(m, seg)).ToList();
            if (lb.Concat(qb).Any(x => x is null)) { segs[seg] = new JsonObject { ["note"] = "a model has no brittleness for this segment" }; continue; }
            double l = lb.Average(x => x!.Average()), q = qb.Average(x => x!.Average());
            var o = new JsonObject { ["llama_per_block"] = Num(l, "brittleness"), ["qwen_per_block"] = Num(q, "brittleness") };
            if (!(l > 0)) { o["note"] = "llama brittleness is 0: no ratio"; segs[seg] = o; continue; }
            var rng = c.Random(Id, purpose++);
            var ratios = new double[c.Resamples];
            for (int r = 0; r < c.Resamples; r++)
            {
                double rl = FamilyMean(lb!, ref rng), rq = FamilyMean(qb!, ref rng);
                ratios[r] = rl > 0 ? rq / rl : double.PositiveInfinity;
            }
            var iv = Interval(ratios.Select(x => double.IsPositiveInfinity(x) ? double.MaxValue : x));
            o["ratio_qwen_over_llama"] = Num(q / l, "ratio");
            o["ratio_ci"] = Array(iv, "interval");
            segs[seg] = o;
            if (seg == ScaleNames.Local) { localInterval = iv; localRatio = q / l; }
        }
        numbers["segments"] = segs;
        if (localInterval is null) return Result(Verdict.NotEvaluable, null, "no local-segment brittleness ratio (zero or missing llama brittleness)", numbers);
        bool outside = localInterval[0] > MarginHigh || localInterval[1] < MarginLow;
        bool inside = localInterval[0] >= MarginLow && localInterval[1] <= MarginHigh;
        string ratio = $"local qwen/llama per block {localRatio:0.###} (95% interval {localInterval[0]:0.###}–{localInterval[1]:0.###}); the paper reports about 493x";
        return new Prediction(Id, Statement, outside ? Verdict.Supported : Verdict.NotSupported, Threshold, Null, null, localInterval,
            outside ? ratio : inside ? $"{ratio}: equivalent within the margin" : $"{ratio}: the interval reaches into the margin", numbers);
    }

    /// <summary>Per-document brittleness per block of one model's segment; null when missing.</summary>
    private static double[]? PerBlock(PredictionInput m, string segment)
    {
        var b = m.Interventions!.Brittleness.FirstOrDefault(x => x.Segment == segment);
        if (b is null || b.PerDocument.Length == 0) return null;
        int width = b.Layers[1] - b.Layers[0] + 1;
        return b.PerDocument.Select(v => v / width).ToArray();
    }

    /// <summary>A family's mean with documents resampled within each model, and the models themselves when there are three or more.</summary>
    private static double FamilyMean(IReadOnlyList<double[]> models, ref Numerics.SplitMix64 rng)
    {
        double sum = 0;
        for (int k = 0; k < models.Count; k++)
        {
            var docs = models[models.Count >= 3 ? rng.NextInt(models.Count) : k];
            double s = 0;
            for (int i = 0; i < docs.Length; i++) s += docs[rng.NextInt(docs.Length)];
            sum += s / docs.Length;
        }
        return sum / models.Count;
    }

    private Prediction Result(Verdict v, double[]? interval, string reason, JsonObject numbers) => new(Id, Statement, v, Threshold, Null, null, interval, reason, numbers);
}
