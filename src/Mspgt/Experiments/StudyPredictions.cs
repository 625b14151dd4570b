using Mspgt.Numerics;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mspgt.Interventions.Statistics;

namespace Mspgt.Experiments;

/// <summary>
/// One prediction of the theory tested on the study's models. <see cref="Supported"/> is null only when the
/// prediction cannot be evaluated with the models given; <see cref="Reason"/> then says why.
/// </summary>
public sealed record Prediction(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("statement")] string Statement,
    [property: JsonPropertyName("supported")] bool? Supported,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("numbers")] JsonObject Numbers);

/// <summary>What the predictions need from one analysed model.</summary>
public sealed record PredictionInput(StudyModelSpec Spec, AnalysisSummary Summary, StudyInterventionOutcome? Interventions);

/// <summary>
/// Predictions P1–P5 of MSPGT evaluated on a study (definitions in each method). Random-weight controls never enter
/// a prediction. Where several models share a <see cref="StudyModelSpec.Base"/> (the same network in another
/// precision or format), only the first of them counts in the family comparisons P2 and P3, so one network is not
/// counted twice. All resampling is seeded and sequential: the same inputs and seed give the same numbers.
/// </summary>
public static class StudyPredictions
{
    public const int DefaultResamples = 2000;
    public const double Confidence = 0.95;
    public const string LlamaFamily = "llama";
    public const string QwenFamily = "qwen";

    public static IReadOnlyList<Prediction> Evaluate(IReadOnlyList<PredictionInput> models, int seed, int resamples = DefaultResamples)
    {
        if (resamples < 10) throw new MspgtException("predictions", $"need at least 10 resamples, got {resamples}");
        var all = models.Where(m => !m.Spec.Control).ToList();
        var controls = models.Where(m => m.Spec.Control).ToList();
        // A student's earlier checkpoints only enter P6; every other prediction sees its latest checkpoint.
        var latest = all.Where(m => m.Spec.Student is null).Concat(all.Where(m => m.Spec.Student is not null)
            .GroupBy(m => m.Spec.Student).Select(g => g.OrderBy(m => m.Spec.Step).Last())).ToList();
        var subjects = all.Where(latest.Contains).ToList();
        return
        [
            P1(subjects, controls),
            P2(subjects, seed, resamples),
            P3(subjects, seed, resamples),
            P4(subjects),
            P5(subjects),
            P6(all),
            P7(subjects),
        ];
    }

    // ---------------------------------------------------------------- P1

    public const string P1Statement =
        "Two boundaries: BIC over K = 0..max selects K = 2 boundaries (three segments) in every model.";

    /// <summary>
    /// P1: supported when every model's BIC-selected K is 2. Numbers per model: the selected K, BIC(K=1) − BIC(K=2)
    /// (positive: two boundaries fit better than one, in BIC units) and the bootstrap support, the fraction of
    /// bootstrap resamples over documents in which BIC selects K = 2.
    /// </summary>
    public static Prediction P1(IReadOnlyList<PredictionInput> subjects, IReadOnlyList<PredictionInput> controls)
    {
        var numbers = new JsonObject();
        if (subjects.Count == 0) return Null("P1", P1Statement, "no models besides random-weight controls", numbers);
        var per = new JsonObject();
        foreach (var m in subjects) per[m.Spec.Name] = P1Numbers(m.Summary);
        numbers["models"] = per;
        int k2 = subjects.Count(m => m.Summary.KSelected == 2);
        numbers["models_with_k2"] = k2;
        numbers["models_total"] = subjects.Count;
        if (controls.Count > 0)
        {
            var c = new JsonObject();
            foreach (var m in controls) c[m.Spec.Name] = P1Numbers(m.Summary);
            numbers["controls_not_counted"] = c;
        }
        return new Prediction("P1", P1Statement, k2 == subjects.Count, null, numbers);
    }

    private static JsonObject P1Numbers(AnalysisSummary s) => new() { ["k_selected"] = s.KSelected };

    // ---------------------------------------------------------------- P2

    public const string P2Statement =
        "Boundary stability by family: across the models of a family the depth fraction b/L of each boundary varies " +
        "less in the Llama family than in the Qwen family (lower coefficient of variation for both boundaries).";

    /// <summary>
    /// P2. For each family and boundary i (depth order), CV = s / m of the depth fractions b_i / L of the family's
    /// models (s the sample standard deviation, n − 1; m the mean), from each model's K = 2 fit on all documents.
    /// Interval: each resample draws every model's boundary from its own bootstrap distribution over documents
    /// (<see cref="Scales.BootstrapSummary.BoundaryCounts"/>) and recomputes the CV; 95% percentile interval
    /// (type 7). Supported when, for both boundaries, the 95% interval of CV(qwen) − CV(llama) (paired resamples)
    /// lies above 0; not supported otherwise; null when either family has fewer than 2 distinct models.
    /// Families are matched on the label's prefix ("llama…", "qwen…", case-insensitive).
    /// </summary>
    public static Prediction P2(IReadOnlyList<PredictionInput> subjects, int seed, int resamples = DefaultResamples)
    {
        var numbers = new JsonObject
        {
            ["cv_definition"] = "sample sd / mean of b_i/L over a family's distinct models (one per base)",
            ["resamples"] = resamples,
            ["confidence"] = Confidence,
            ["paper_reference"] = "v3 reports Llama 0.067-0.095, Qwen 0.465-0.726 (for comparison only)",
        };
        var families = Distinct(subjects).GroupBy(m => m.Spec.Family, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var replicates = new Dictionary<string, double[][]>(StringComparer.OrdinalIgnoreCase); // family → [boundary][resample]
        var famNumbers = new JsonObject();
        foreach (var g in families)
        {
            var members = g.ToList();
            var fo = new JsonObject { ["models"] = new JsonArray(members.Select(m => (JsonNode)m.Spec.Name).ToArray()) };
            if (members.Count < 2) { fo["cv"] = null; fo["note"] = "one distinct model: no coefficient of variation"; famNumbers[g.Key] = fo; continue; }
            var missing = members.FirstOrDefault(m => m.Summary.ForcedK2.BootstrapCounts is null);
            if (missing != null) throw new MspgtException("P2", $"model {missing.Spec.Name} has no bootstrap boundary distribution (analyze.bootstrap must be ≥ 1)");
            var point = new JsonArray();
            var ci = new JsonArray();
            var reps = new double[2][];
            for (int i = 0; i < 2; i++)
            {
                var fractions = members.Select(m => (double)m.Summary.Boundaries[i] / m.Summary.NLayers).ToArray();
                point.Add(Num(CoefficientOfVariation(fractions), "CV"));
                // Each (family, boundary) gets its own stream; the same resample index r pairs families below.
                reps[i] = BootstrapCv(members.Select(m => (m.Summary.ForcedK2.BootstrapCounts![i], m.Summary.NLayers)).ToArray(),
                    seed, StreamOf(g.Key, i), resamples);
                ci.Add(Interval(reps[i]));
                fo[$"depth_fractions_b{i + 1}"] = new JsonArray(fractions.Select(f => (JsonNode)Num(f, "depth fraction")!).ToArray());
            }
            fo["cv"] = point;
            fo["cv_ci"] = ci;
            famNumbers[g.Key] = fo;
            replicates[g.Key] = reps;
        }
        numbers["families"] = famNumbers;

        string? llama = FamilyKey(families.Select(f => f.Key), LlamaFamily);
        string? qwen = FamilyKey(families.Select(f => f.Key), QwenFamily);
        string? why = null;
        foreach (var (want, key) in new[] { (LlamaFamily, llama), (QwenFamily, qwen) })
        {
            if (key == null) { why ??= $"no {want} family among the models"; continue; }
            if (!replicates.ContainsKey(key))
                why ??= $"family \"{key}\" has {families.First(f => f.Key == key).Count()} distinct model(s); a coefficient of variation needs at least 2";
        }
        if (why != null) return Null("P2", P2Statement, why, numbers);

        var diff = new JsonArray();
        var diffCi = new JsonArray();
        bool supported = true;
        var fq = (JsonArray)((JsonObject)famNumbers[qwen!]!)["cv"]!;
        var fl = (JsonArray)((JsonObject)famNumbers[llama!]!)["cv"]!;
        for (int i = 0; i < 2; i++)
        {
            diff.Add(Num(fq[i]!.GetValue<double>() - fl[i]!.GetValue<double>(), "CV difference"));
            var d = replicates[qwen!][i].Zip(replicates[llama!][i], (q, l) => q - l).ToArray();
            var iv = Interval(d);
            diffCi.Add(iv);
            if (!(iv[0]!.GetValue<double>() > 0)) supported = false;
        }
        numbers["cv_qwen_minus_llama"] = diff;
        numbers["cv_qwen_minus_llama_ci"] = diffCi;
        return new Prediction("P2", P2Statement, supported, null, numbers);
    }

    /// <summary>Sample coefficient of variation s/m (n − 1 in s); 0 when every value is equal.</summary>
    public static double CoefficientOfVariation(IReadOnlyList<double> values)
    {
        if (values.Count < 2) throw new MspgtException("P2", "a coefficient of variation needs at least 2 values");
        double mean = values.Average();
        if (!(mean > 0)) throw new MspgtException("P2", $"mean depth fraction {mean} is not positive");
        double ss = values.Sum(v => (v - mean) * (v - mean));
        return Math.Sqrt(ss / (values.Count - 1)) / mean;
    }

    /// <summary>CV of b/L with every model's boundary b drawn from its bootstrap counts, <paramref name="resamples"/> times.</summary>
    public static double[] BootstrapCv(IReadOnlyList<(int[] Counts, int Layers)> models, int seed, ulong stream, int resamples)
    {
        var rng = SplitMix64.ForStream(seed, stream);
        var cumulative = models.Select(m =>
        {
            var c = new long[m.Counts.Length];
            long run = 0;
            for (int i = 0; i < c.Length; i++) { if (m.Counts[i] < 0) throw new MspgtException("P2", "negative bootstrap count"); run += m.Counts[i]; c[i] = run; }
            if (run == 0) throw new MspgtException("P2", "empty bootstrap boundary distribution");
            return c;
        }).ToArray();
        var result = new double[resamples];
        var draw = new double[models.Count];
        for (int r = 0; r < resamples; r++)
        {
            for (int m = 0; m < models.Count; m++)
            {
                var c = cumulative[m];
                long u = rng.NextInt(checked((int)c[^1]));
                int layer = 0;
                while (c[layer] <= u) layer++;
                draw[m] = (double)layer / models[m].Layers;
            }
            result[r] = CoefficientOfVariation(draw);
        }
        return result;
    }

    // ---------------------------------------------------------------- P3

    public const string P3Statement =
        "Brittleness by family: the same perturbation of the local segment changes the next-token distribution by " +
        "a different amount in the Qwen and Llama families (ratio of mean local-segment brittleness ≠ 1).";

    /// <summary>
    /// P3. Brittleness of a model's segment = mean over documents of KL(clean ‖ intervened) under the study's primary
    /// condition; a family's = the mean over its distinct models. Ratio = qwen / llama, per segment. Interval:
    /// documents resampled with replacement within every model (95% percentile, type 7, of the ratio). Supported
    /// when the local segment's interval excludes 1; null without intervention results for both families.
    /// </summary>
    public static Prediction P3(IReadOnlyList<PredictionInput> subjects, int seed, int resamples = DefaultResamples)
    {
        var numbers = new JsonObject { ["paper_reference"] = "v3 reports about 493x between families (for comparison only)" };
        var distinct = Distinct(subjects).ToList();
        if (distinct.All(m => m.Interventions is null)) return Null("P3", P3Statement, "interventions not run", numbers);
        var famKeys = distinct.Select(m => m.Spec.Family).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        string? llama = FamilyKey(famKeys, LlamaFamily), qwen = FamilyKey(famKeys, QwenFamily);
        if (llama == null || qwen == null) return Null("P3", P3Statement, $"needs models of both the {LlamaFamily} and {QwenFamily} families", numbers);
        var lm = distinct.Where(m => Same(m.Spec.Family, llama)).ToList();
        var qm = distinct.Where(m => Same(m.Spec.Family, qwen)).ToList();
        var lacking = lm.Concat(qm).Where(m => m.Interventions is null).Select(m => m.Spec.Name).ToList();
        if (lacking.Count > 0) return Null("P3", P3Statement, $"interventions not run for {string.Join(", ", lacking)}", numbers);
        numbers["condition"] = lm[0].Interventions!.Condition;
        var conditions = lm.Concat(qm).Select(m => m.Interventions!.Condition).Distinct().ToList();
        if (conditions.Count > 1) return Null("P3", P3Statement, $"models were perturbed under different conditions ({string.Join("; ", conditions)})", numbers);

        var segs = new JsonObject();
        bool? supported = null;
        ulong stream = 100;
        foreach (var seg in new[] { "local", "intermediate", "global" })
        {
            var lb = lm.Select(m => Brittle(m, seg)).ToList();
            var qb = qm.Select(m => Brittle(m, seg)).ToList();
            double l = lb.Average(x => x.Mean), q = qb.Average(x => x.Mean);
            var o = new JsonObject { ["llama"] = Num(l, "brittleness"), ["qwen"] = Num(q, "brittleness") };
            if (!(l > 0)) { o["ratio_qwen_over_llama"] = null; o["note"] = "llama brittleness is 0: no ratio"; segs[seg] = o; continue; }
            o["ratio_qwen_over_llama"] = Num(q / l, "ratio");
            var rng = SplitMix64.ForStream(seed, stream++);
            var ratios = new List<double>(resamples);
            for (int r = 0; r < resamples; r++)
            {
                double rl = lb.Average(x => ResampledMean(x.PerDocument, ref rng));
                double rq = qb.Average(x => ResampledMean(x.PerDocument, ref rng));
                if (rl > 0) ratios.Add(rq / rl);
            }
            if (ratios.Count < resamples / 2) { o["ratio_ci"] = null; o["note"] = "llama brittleness is 0 in most resamples"; segs[seg] = o; continue; }
            var iv = Interval(ratios.ToArray());
            o["ratio_ci"] = iv;
            if (seg == "local") supported = iv[0]!.GetValue<double>() > 1 || iv[1]!.GetValue<double>() < 1;
            segs[seg] = o;
        }
        numbers["segments"] = segs;
        numbers["llama_models"] = new JsonArray(lm.Select(m => (JsonNode)m.Spec.Name).ToArray());
        numbers["qwen_models"] = new JsonArray(qm.Select(m => (JsonNode)m.Spec.Name).ToArray());
        return supported is null
            ? Null("P3", P3Statement, "the local segment's llama brittleness is 0, so no ratio exists", numbers)
            : new Prediction("P3", P3Statement, supported, null, numbers);
    }

    private static SegmentBrittleness Brittle(PredictionInput m, string segment) =>
        m.Interventions!.Brittleness.FirstOrDefault(b => b.Segment == segment)
        ?? throw new MspgtException("P3", $"model {m.Spec.Name} has no brittleness for the {segment} segment");

    private static double ResampledMean(double[] values, ref SplitMix64 rng)
    {
        if (values.Length == 0) throw new MspgtException("P3", "a segment has no per-document brittleness values");
        double s = 0;
        for (int i = 0; i < values.Length; i++) s += values[rng.NextInt(values.Length)];
        return s / values.Length;
    }

    // ---------------------------------------------------------------- P4

    public const string P4Statement =
        "Scale-specific effects: perturbing a segment moves mostly the outcomes of its own scale (local → lexical, " +
        "intermediate → sentence, global → discourse); the dissociation matrix is diagonally dominant (> 0) in every model.";

    /// <summary>
    /// P4. Per model the diagonal dominance of the segment × metric-family dissociation matrix (mean over rows of the
    /// diagonal cell minus the mean of the row's off-diagonal cells, in |Cohen's d_z|). Supported when it is positive
    /// in every model that has it; null without intervention results.
    /// </summary>
    public static Prediction P4(IReadOnlyList<PredictionInput> subjects)
    {
        var numbers = new JsonObject();
        if (subjects.All(m => m.Interventions is null)) return Null("P4", P4Statement, "interventions not run", numbers);
        var per = new JsonObject();
        int evaluated = 0, positive = 0;
        foreach (var m in subjects)
        {
            if (m.Interventions is not { } iv) { per[m.Spec.Name] = null; continue; }
            per[m.Spec.Name] = new JsonObject
            {
                ["diagonal_dominance"] = iv.DiagonalDominance is double d ? Num(d, "diagonal dominance") : null,
                ["row_margins"] = new JsonArray(iv.RowMargins.Select(r => r is double x ? (JsonNode?)Num(x, "row margin") : null).ToArray()),
                ["row_max_fraction"] = iv.RowMaxFraction is double f ? Num(f, "row max fraction") : null,
            };
            if (iv.DiagonalDominance is double dd) { evaluated++; if (dd > 0) positive++; }
        }
        numbers["models"] = per;
        numbers["models_positive"] = positive;
        numbers["models_evaluated"] = evaluated;
        if (evaluated == 0) return Null("P4", P4Statement, "no model has a complete dissociation matrix (text outcomes need continuations > 0)", numbers);
        return new Prediction("P4", P4Statement, positive == evaluated, null, numbers);
    }

    // ---------------------------------------------------------------- P5

    public const string P5Statement =
        "Precision does not move the scales: the same network in another precision or file format keeps both " +
        "boundaries inside each other's bootstrap 95% intervals.";

    /// <summary>
    /// P5. Models with the same <see cref="StudyModelSpec.Base"/> are variants of one network; the first listed is the
    /// reference. Per variant: the boundary shift in layers and depth fraction, whether each boundary lies in the other
    /// model's 95% bootstrap interval (both ways), the total-variation distance between the two bootstrap boundary
    /// distributions, the largest change of the fused curve, and (with interventions) the change of each segment's
    /// brittleness. Supported when every variant's boundaries lie inside the reference's intervals and vice versa.
    /// </summary>
    public static Prediction P5(IReadOnlyList<PredictionInput> subjects)
    {
        var numbers = new JsonObject();
        var groups = subjects.GroupBy(m => m.Spec.Base, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        if (groups.Count == 0)
            return Null("P5", P5Statement, "no network appears in two precisions or formats (give such models the same \"base\")", numbers);
        bool supported = true;
        var pairs = new JsonArray();
        foreach (var g in groups)
        {
            var reference = g.First();
            foreach (var v in g.Skip(1))
            {
                var a = reference.Summary;
                var b = v.Summary;
                if (a.NLayers != b.NLayers)
                    throw new MspgtException("P5", $"models {reference.Spec.Name} and {v.Spec.Name} share base \"{g.Key}\" but have {a.NLayers} and {b.NLayers} layers");
                var o = new JsonObject
                {
                    ["base"] = g.Key,
                    ["reference"] = Variant(reference),
                    ["variant"] = Variant(v),
                    ["boundary_shift_layers"] = new JsonArray(b.Boundaries.Zip(a.Boundaries, (x, y) => (JsonNode)(x - y)).ToArray()),
                    ["depth_fraction_shift"] = new JsonArray(b.DepthFractions.Zip(a.DepthFractions, (x, y) => (JsonNode)Num(x - y, "shift")!).ToArray()),
                };
                bool inRef = Inside(b.Boundaries, a.BoundaryCi), inVar = Inside(a.Boundaries, b.BoundaryCi);
                o["variant_inside_reference_ci"] = inRef;
                o["reference_inside_variant_ci"] = inVar;
                if (!(inRef && inVar)) supported = false;
                if (a.ForcedK2.BootstrapCounts is { } ba && b.ForcedK2.BootstrapCounts is { } bb)
                    o["bootstrap_total_variation"] = new JsonArray(Enumerable.Range(0, 2)
                        .Select(i => (JsonNode)Num(TotalVariation(ba[i], bb[i]), "TV")!).ToArray());
                o["fused_max_abs_change"] = Num(a.Fused.Zip(b.Fused, (x, y) => Math.Abs(x - y)).Max(), "fused change");
                if (reference.Interventions is { } ia && v.Interventions is { } ib)
                {
                    var eff = new JsonObject();
                    foreach (var sb in ia.Brittleness)
                    {
                        var other = ib.Brittleness.FirstOrDefault(x => x.Segment == sb.Segment);
                        if (other is null) continue;
                        eff[sb.Segment] = new JsonObject
                        {
                            ["reference"] = Num(sb.Mean, "brittleness"),
                            ["variant"] = Num(other.Mean, "brittleness"),
                            ["relative_change"] = sb.Mean > 0 ? Num((other.Mean - sb.Mean) / sb.Mean, "relative change") : null,
                        };
                    }
                    o["brittleness"] = eff;
                    if (ia.DiagonalDominance is double da && ib.DiagonalDominance is double db) o["diagonal_dominance_change"] = Num(db - da, "dominance change");
                }
                pairs.Add(o);
            }
        }
        numbers["pairs"] = pairs;
        return new Prediction("P5", P5Statement, supported, null, numbers);
    }

    private static JsonObject Variant(PredictionInput m) => new()
    {
        ["name"] = m.Spec.Name,
        ["precision"] = m.Spec.Precision,
        ["format"] = m.Summary.Manifest.ModelFormat,
        ["boundaries"] = new JsonArray(m.Summary.Boundaries.Select(b => (JsonNode)b).ToArray()),
        ["boundary_ci"] = m.Summary.BoundaryCi is { } ci ? new JsonArray(ci.Select(c => (JsonNode)new JsonArray(c[0], c[1])).ToArray()) : null,
    };

    private static bool Inside(int[] boundaries, int[][]? ci) =>
        ci != null && boundaries.Select((b, i) => ci[i][0] <= b && b <= ci[i][1]).All(x => x);

    /// <summary>½ Σ |p − q| between two distributions given by counts over the same layers.</summary>
    public static double TotalVariation(int[] a, int[] b)
    {
        if (a.Length != b.Length) throw new MspgtException("P5", "bootstrap distributions over different layer counts");
        double sa = a.Sum(), sb = b.Sum();
        if (sa <= 0 || sb <= 0) throw new MspgtException("P5", "empty bootstrap distribution");
        double tv = 0;
        for (int i = 0; i < a.Length; i++) tv += Math.Abs(a[i] / sa - b[i] / sb);
        return tv / 2;
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The first model of every base, in study order.</summary>
    private static IEnumerable<PredictionInput> Distinct(IEnumerable<PredictionInput> models) =>
        models.GroupBy(m => m.Spec.Base, StringComparer.Ordinal).Select(g => g.First());

    /// <summary>The one family label starting with <paramref name="prefix"/> ("llama" matches "Llama-2"); null if none.</summary>
    private static string? FamilyKey(IEnumerable<string> families, string prefix)
    {
        var matches = families.Where(f => f.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (matches.Count > 1)
            throw new MspgtException("predictions", $"several family labels start with \"{prefix}\" ({string.Join(", ", matches)}); use one label per family");
        return matches.FirstOrDefault();
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static ulong StreamOf(string family, int boundary)
    {
        // A stable (not randomised per process) hash of the family label, so streams do not depend on list order.
        ulong h = 1469598103934665603UL;
        foreach (char ch in family.ToLowerInvariant()) h = unchecked((h ^ ch) * 1099511628211UL);
        return unchecked(h + (ulong)boundary);
    }

    private static JsonArray Interval(double[] replicates)
    {
        var sorted = replicates.ToArray();
        Array.Sort(sorted);
        double alpha = (1 - Confidence) / 2;
        return new JsonArray(Num(PairedStatistics.Quantile(sorted, alpha), "interval"), Num(PairedStatistics.Quantile(sorted, 1 - alpha), "interval"));
    }

    private static JsonNode? Num(double v, string what) =>
        double.IsFinite(v) ? JsonValue.Create(v) : throw new MspgtException("predictions", $"{what} is {v}");

    private static Prediction Null(string id, string statement, string reason, JsonObject numbers) =>
        new(id, statement, null, reason, numbers);

    // ---------------------------------------------------------------- P6

    public const string P6Statement =
        "Boundaries settle during training: from some checkpoint on, every student's K = 2 boundaries stay within ±1 layer of their final position.";

    /// <summary>
    /// P6, over the checkpoints of each student (models sharing <see cref="StudyModelSpec.Student"/>, ordered by step):
    /// the settling step is the earliest checkpoint from which every later checkpoint's two boundaries lie within ±1
    /// layer of the final checkpoint's. Supported when every student settles before its final checkpoint (at least
    /// its last two checkpoints agree); not evaluable without a student with two or more checkpoints.
    /// Numbers per student: steps, boundaries and depth fractions per step, the settling step and its fraction of
    /// training.
    /// </summary>
    public static Prediction P6(IReadOnlyList<PredictionInput> subjects)
    {
        var numbers = new JsonObject();
        var students = subjects.Where(m => m.Spec.Student is not null).GroupBy(m => m.Spec.Student!, StringComparer.Ordinal)
            .Where(g => g.Count() >= 2).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (students.Count == 0)
            return Null("P6", P6Statement, "no student with two or more checkpoints (give checkpoints of one training run the same \"student\")", numbers);
        bool supported = true;
        foreach (var g in students)
        {
            var ordered = g.OrderBy(m => m.Spec.Step).ToList();
            var final = ordered[^1].Summary.Boundaries;
            int settled = ordered.Count - 1;
            for (int i = ordered.Count - 1; i >= 0; i--)
            {
                var b = ordered[i].Summary.Boundaries;
                if (b.Length == final.Length && b.Zip(final).All(p => Math.Abs(p.First - p.Second) <= 1)) settled = i;
                else break;
            }
            if (settled == ordered.Count - 1) supported = false;
            int finalStep = ordered[^1].Spec.Step ?? 0;
            int settledStep = ordered[settled].Spec.Step ?? 0;
            numbers[g.Key] = new JsonObject
            {
                ["family"] = ordered[^1].Spec.Family,
                ["n_layers"] = ordered[^1].Summary.NLayers,
                ["steps"] = new JsonArray(ordered.Select(m => (JsonNode)JsonValue.Create(m.Spec.Step ?? 0)).ToArray()),
                ["boundaries"] = new JsonArray(ordered.Select(m => (JsonNode)new JsonArray(m.Summary.Boundaries.Select(x => (JsonNode)JsonValue.Create(x)).ToArray())).ToArray()),
                ["depth_fractions"] = new JsonArray(ordered.Select(m => (JsonNode)new JsonArray(m.Summary.DepthFractions.Select(x => Num(x, "depth fraction")).ToArray())).ToArray()),
                ["settled_at_step"] = settled == ordered.Count - 1 ? null : JsonValue.Create(settledStep),
                ["settled_fraction_of_training"] = settled == ordered.Count - 1 || finalStep == 0 ? null : Num(settledStep / (double)finalStep, "fraction"),
            };
        }
        return new Prediction("P6", P6Statement, supported, null, numbers);
    }

    // ---------------------------------------------------------------- P7

    public const string P7Statement =
        "Boundaries scale with depth: within a family, models of different depth put each boundary at a similar depth fraction rather than at the same layer index.";

    /// <summary>
    /// P7, per family with models of at least two depths: for each boundary i, the spread (max − min) of its depth
    /// fraction b_i/L, expressed in layers of the deepest model (spread × L_max), against the spread of its layer
    /// index b_i. Fixed fractions predict a small first number, fixed layers a small second one. Supported when the
    /// fraction spread is the smaller in most (family, boundary) pairs, not supported when the layer spread is;
    /// null on a tie or without two depths in a family.
    /// </summary>
    public static Prediction P7(IReadOnlyList<PredictionInput> subjects)
    {
        var numbers = new JsonObject();
        int fractionWins = 0, layerWins = 0;
        foreach (var fam in subjects.GroupBy(m => m.Spec.Family, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var byDepth = fam.GroupBy(m => m.Summary.NLayers).OrderBy(g => g.Key).Select(g => g.First()).ToList();
            if (byDepth.Count < 2) continue;
            int lMax = byDepth[^1].Summary.NLayers;
            var o = new JsonObject
            {
                ["models"] = new JsonArray(byDepth.Select(m => (JsonNode)JsonValue.Create(m.Spec.Name)).ToArray()),
                ["n_layers"] = new JsonArray(byDepth.Select(m => (JsonNode)JsonValue.Create(m.Summary.NLayers)).ToArray()),
            };
            var perBoundary = new JsonArray();
            for (int i = 0; i < 2; i++)
            {
                var b = byDepth.Select(m => m.Summary.Boundaries[i]).ToArray();
                var f = byDepth.Select(m => m.Summary.DepthFractions[i]).ToArray();
                double fractionSpread = (f.Max() - f.Min()) * lMax;
                double layerSpread = b.Max() - b.Min();
                if (fractionSpread < layerSpread) fractionWins++;
                else if (layerSpread < fractionSpread) layerWins++;
                perBoundary.Add(new JsonObject
                {
                    ["boundary"] = i + 1,
                    ["layers"] = new JsonArray(b.Select(x => (JsonNode)JsonValue.Create(x)).ToArray()),
                    ["depth_fractions"] = new JsonArray(f.Select(x => Num(x, "depth fraction")).ToArray()),
                    ["fraction_spread_in_layers_of_deepest"] = Num(fractionSpread, "spread"),
                    ["layer_spread"] = Num(layerSpread, "spread"),
                });
            }
            o["boundaries"] = perBoundary;
            numbers[fam.Key] = o;
        }
        if (fractionWins + layerWins == 0)
            return Null("P7", P7Statement, numbers.Count == 0 ? "no family has models of two different depths" : "fraction and layer spreads tie", numbers);
        numbers["fraction_closer"] = fractionWins;
        numbers["layer_closer"] = layerWins;
        if (fractionWins == layerWins) return Null("P7", P7Statement, "fraction and layer spreads tie", numbers);
        return new Prediction("P7", P7Statement, fractionWins > layerWins, null, numbers);
    }
}
