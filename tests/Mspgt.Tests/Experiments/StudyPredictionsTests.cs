using System.Text.Json.Nodes;
using Mspgt.Experiments;
using Mspgt.Scales;

namespace Mspgt.Tests.Experiments;

/// <summary>P1–P5 on synthetic per-model results whose answers are known in closed form.</summary>
public class StudyPredictionsTests
{
    /// <summary>A model summary with K = 2 boundaries b1, b2 on L layers; the bootstrap counts put all mass on
    /// (b1, b2) unless <paramref name="counts"/> is given; BIC(K) = bic[K].</summary>
    internal static AnalysisSummary Summary(int layers, int b1, int b2, int kSelected = 2, double[]? bic = null,
        int[][]? counts = null, int[][]? ci = null, int[]? kCounts = null, double[]? fused = null, string format = "safetensors")
    {
        bic ??= [10, 5, 1, 2, 3];
        counts ??= [OneHot(layers, b1, 100), OneHot(layers, b2, 100)];
        int resamples = counts[0].Sum();
        kCounts ??= OneHot(5, kSelected, resamples);
        ci ??= [[b1, b1], [b2, b2]];
        var settings = new AnalysisSettings();
        var manifest = new AnalysisManifest("mspgt", "0", "m", format, "sha", "tok", "corpus", null, null, [], settings, [], []);
        return new AnalysisSummary("m", "llama", layers, 8, 800, new Dictionary<string, double[]>(), fused ?? new double[layers],
            kSelected, [b1, b2], ci, [(double)b1 / layers, (double)b2 / layers],
            new Dictionary<string, int[]> { ["local"] = [0, b1 - 1], ["intermediate"] = [b1, b2 - 1], ["global"] = [b2, layers - 1] },
            "attention", [b1, b2], [b1, b2], [],
            bic.Select((b, k) => new KFit(k, 0, b, [])).ToArray(),
            new BootstrapSummary(resamples, 0, 8, 0.95, [b1, b2], ci, [(double)b1 / layers, (double)b2 / layers], counts, kCounts),
            new Dictionary<string, ProbeReport>(), [], manifest);
    }

    internal static int[] OneHot(int n, int at, int count)
    {
        var a = new int[n];
        a[at] = count;
        return a;
    }

    private static PredictionInput Model(string name, string family, AnalysisSummary s, string? @base = null, bool control = false,
        StudyInterventionOutcome? iv = null) =>
        new(new StudyModelSpec(name, "/m/" + name, family, "s", null, @base ?? name, null, control), s, iv);

    private static double D(JsonNode? n) => n!.GetValue<double>();

    [Fact]
    public void P1SupportedOnlyWhenEveryModelSelectsTwoAndControlsDoNotCount()
    {
        var a = Model("a", "llama", Summary(12, 3, 8, bic: [10, 7.5, 2, 3]));
        var b = Model("b", "qwen", Summary(12, 4, 9, kCounts: [0, 10, 60, 30, 0]));
        var ctl = Model("c", "llama", Summary(4, 1, 2, kSelected: 3), control: true);
        var p = StudyPredictions.P1([a, b], [ctl]);
        Assert.True(p.Supported);
        Assert.Equal(5.5, D(p.Numbers["models"]!["a"]!["bic_k1_minus_bic_k2"]), 12); // 7.5 − 2
        Assert.Equal(0.6, D(p.Numbers["models"]!["b"]!["bootstrap_k2_fraction"]), 12);
        Assert.Equal(3, (int)p.Numbers["controls_not_counted"]!["c"]!["k_selected"]!);
        var q = StudyPredictions.P1([a, Model("d", "qwen", Summary(12, 4, 9, kSelected: 3))], []);
        Assert.False(q.Supported);
        Assert.Equal(1, (int)q.Numbers["models_with_k2"]!);
        var n = StudyPredictions.P1([], [ctl]);
        Assert.Null(n.Supported);
        Assert.NotNull(n.Reason);
    }

    [Fact]
    public void CoefficientOfVariationMatchesHandComputation()
    {
        // 0.25, 0.30: mean 0.275, sample sd √(2·0.025²/1) = 0.0353553…, CV = 0.128565…
        Assert.Equal(Math.Sqrt(2 * 0.025 * 0.025) / 0.275, StudyPredictions.CoefficientOfVariation([0.25, 0.30]), 12);
        Assert.Equal(0, StudyPredictions.CoefficientOfVariation([0.5, 0.5, 0.5]));
        Assert.Throws<MspgtException>(() => StudyPredictions.CoefficientOfVariation([0.5]));
    }

    [Fact]
    public void P2ComparesFamilyCvsWithIntervalsFromTheBootstrapDistributions()
    {
        // Llama: b1 at 3/12 and 3/12 → CV 0; b2 at 6/12, 7/12. Qwen: b1 at 2/10 and 6/10, b2 at 4/10 and 8/10.
        var l1 = Model("l1", "llama", Summary(12, 3, 6));
        var l2 = Model("l2", "Llama-2", Summary(12, 3, 7)); // a second label of the same family would be ambiguous …
        var models = new List<PredictionInput> { l1, l2 with { Spec = l2.Spec with { Family = "llama" } },
            Model("q1", "qwen", Summary(10, 2, 4)), Model("q2", "qwen", Summary(10, 6, 8)) };
        var p = StudyPredictions.P2(models, seed: 1, resamples: 200);
        Assert.True(p.Supported, p.Numbers.ToJsonString());
        var llama = p.Numbers["families"]!["llama"]!;
        var qwen = p.Numbers["families"]!["qwen"]!;
        Assert.Equal(0, D(llama["cv"]![0]));
        Assert.Equal(StudyPredictions.CoefficientOfVariation([6 / 12.0, 7 / 12.0]), D(llama["cv"]![1]), 12);
        Assert.Equal(StudyPredictions.CoefficientOfVariation([0.2, 0.6]), D(qwen["cv"]![0]), 12);
        // Bootstrap mass sits on the point boundaries, so every resample equals the point value.
        Assert.Equal(D(qwen["cv"]![0]), D(qwen["cv_ci"]![0]![0]), 12);
        Assert.Equal(D(qwen["cv"]![0]), D(qwen["cv_ci"]![0]![1]), 12);
        Assert.Equal(D(qwen["cv"]![1]) - D(llama["cv"]![1]), D(p.Numbers["cv_qwen_minus_llama"]![1]), 12);

        // Swap the labels: now Llama is the unstable family.
        var swapped = models.Select(m => m with { Spec = m.Spec with { Family = m.Spec.Family == "qwen" ? "llama" : "qwen" } }).ToList();
        Assert.False(StudyPredictions.P2(swapped, 1, 200).Supported);

        // … and two labels starting with "llama" are refused rather than silently merged or split.
        Assert.Throws<MspgtException>(() => StudyPredictions.P2([l1, l2, .. models.Skip(2)], 1, 200));
    }

    [Fact]
    public void P2IsNotEvaluableWithOneDistinctModelPerFamily()
    {
        // Two llama entries that are the same network (same base) count once.
        var models = new List<PredictionInput>
        {
            Model("a", "llama", Summary(12, 3, 6), @base: "x"), Model("a-q8", "llama", Summary(12, 4, 7), @base: "x"),
            Model("q1", "qwen", Summary(10, 2, 4)), Model("q2", "qwen", Summary(10, 6, 8)),
        };
        var p = StudyPredictions.P2(models, 0, 100);
        Assert.Null(p.Supported);
        Assert.Contains("\"llama\" has 1 distinct model", p.Reason);
        Assert.Null(p.Numbers["families"]!["llama"]!["cv"]);
        Assert.NotNull(p.Numbers["families"]!["qwen"]!["cv"]);
    }

    [Fact]
    public void BootstrapCvDrawsBoundariesFromTheirCountDistributions()
    {
        // Model A: b = 2 or 4 (of 10 layers) with probability ½ each; model B fixed at 3/10.
        // CV of (0.2, 0.3) = 0.0707…/0.25, CV of (0.4, 0.3) = 0.0707…/0.35: about half the resamples each.
        int[] a = new int[10]; a[2] = 50; a[4] = 50;
        var reps = StudyPredictions.BootstrapCv([(a, 10), (OneHot(10, 3, 7), 10)], seed: 5, stream: 9, resamples: 4000);
        double low = StudyPredictions.CoefficientOfVariation([0.2, 0.3]), high = StudyPredictions.CoefficientOfVariation([0.4, 0.3]);
        Assert.All(reps, r => Assert.True(Math.Abs(r - low) < 1e-12 || Math.Abs(r - high) < 1e-12, $"{r}"));
        double fracLow = reps.Count(r => Math.Abs(r - low) < 1e-12) / 4000.0;
        Assert.InRange(fracLow, 0.46, 0.54); // binomial sd 0.008
        Assert.Equal(reps, StudyPredictions.BootstrapCv([(a, 10), (OneHot(10, 3, 7), 10)], 5, 9, 4000)); // seeded
    }

    private static StudyInterventionOutcome Outcome(double local, double inter, double glob, double? dominance = 0.3, string condition = "noise α=0.5")
    {
        SegmentBrittleness B(string s, double v) => new(s, [0, 0], v, [v, v], [v, v, v, v]);
        return new StudyInterventionOutcome(condition, [B("local", local), B("intermediate", inter), B("global", glob)], null,
            ["local", "intermediate", "global"], ["lexical", "sentence", "discourse"],
            [[1.0, 0.5, 0.5], [0.2, 1.0, 0.2], [0.1, 0.1, 0.8]], [0.5, 0.8, 0.7], dominance, 1, [], null);
    }

    [Fact]
    public void P3RatioOfFamilyBrittlenessWithIntervals()
    {
        var models = new List<PredictionInput>
        {
            Model("l1", "llama", Summary(12, 3, 6), iv: Outcome(1, 2, 4)), Model("l2", "llama", Summary(12, 3, 6), iv: Outcome(3, 2, 4)),
            Model("q1", "qwen", Summary(12, 3, 6), iv: Outcome(6, 2, 1)),
        };
        var p = StudyPredictions.P3(models, 0, 200);
        Assert.True(p.Supported);
        var local = p.Numbers["segments"]!["local"]!;
        Assert.Equal(2, D(local["llama"]), 12); // mean of 1 and 3
        Assert.Equal(3, D(local["ratio_qwen_over_llama"]), 12);
        Assert.Equal(3, D(local["ratio_ci"]![0]), 12); // constant per-document values: no spread
        Assert.Equal(1, D(p.Numbers["segments"]!["intermediate"]!["ratio_qwen_over_llama"]), 12);

        var equal = models.Select(m => m with { Interventions = Outcome(2, 2, 2) }).ToList();
        Assert.False(StudyPredictions.P3(equal, 0, 200).Supported); // ratio exactly 1: interval contains 1

        var none = models.Select(m => m with { Interventions = null }).ToList();
        var n = StudyPredictions.P3(none, 0, 200);
        Assert.Null(n.Supported);
        Assert.Equal("interventions not run", n.Reason);
        Assert.Null(StudyPredictions.P3([models[0], models[1]], 0, 200).Supported); // no qwen family
    }

    [Fact]
    public void P4NeedsPositiveDiagonalDominanceInEveryModel()
    {
        var a = Model("a", "llama", Summary(12, 3, 6), iv: Outcome(1, 1, 1, dominance: 0.4));
        var b = Model("b", "qwen", Summary(12, 3, 6), iv: Outcome(1, 1, 1, dominance: 0.1));
        Assert.True(StudyPredictions.P4([a, b]).Supported);
        var p = StudyPredictions.P4([a, b with { Interventions = Outcome(1, 1, 1, dominance: -0.2) }]);
        Assert.False(p.Supported);
        Assert.Equal(1, (int)p.Numbers["models_positive"]!);
        Assert.Null(StudyPredictions.P4([a with { Interventions = null }]).Supported);
        Assert.Null(StudyPredictions.P4([a with { Interventions = Outcome(1, 1, 1, dominance: null) }]).Supported);
    }

    [Fact]
    public void P5ComparesVariantsOfOneNetwork()
    {
        var f32 = Model("m-f32", "llama", Summary(10, 3, 7, ci: [[2, 4], [6, 8]], fused: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), @base: "m");
        var q8 = Model("m-q8", "llama", Summary(10, 4, 7, ci: [[3, 5], [7, 7]], fused: [0, 1, 2, 3.5, 4, 5, 6, 7, 8, 9],
            counts: [[0, 0, 0, 0, 60, 40, 0, 0, 0, 0], OneHot(10, 7, 100)]), @base: "m");
        var p = StudyPredictions.P5([f32, q8, Model("other", "qwen", Summary(10, 2, 5))]);
        Assert.True(p.Supported, p.Numbers.ToJsonString());
        var pair = p.Numbers["pairs"]![0]!;
        Assert.Equal("[1,0]", pair["boundary_shift_layers"]!.ToJsonString());
        Assert.Equal(0.1, D(pair["depth_fraction_shift"]![0]), 12);
        Assert.Equal(1.0, D(pair["bootstrap_total_variation"]![0]), 12); // all mass at 3 vs none at 3
        Assert.Equal(0.0, D(pair["bootstrap_total_variation"]![1]), 12);
        Assert.Equal(0.5, D(pair["fused_max_abs_change"]), 12);

        // b1 = 6 lies outside the reference's [2, 4]: not supported.
        var moved = q8 with { Summary = Summary(10, 6, 8, ci: [[5, 6], [8, 8]]) };
        Assert.False(StudyPredictions.P5([f32, moved]).Supported);
        Assert.Null(StudyPredictions.P5([f32, q8 with { Spec = q8.Spec with { Base = "n" } }]).Supported);
        Assert.Equal(0.25, StudyPredictions.TotalVariation([1, 1, 2], [2, 1, 1]), 12); // ½(|¼−½| + 0 + |½−¼|)
    }

    [Fact]
    public void EvaluateKeepsControlsOutAndIsDeterministic()
    {
        var models = new List<PredictionInput>
        {
            Model("l1", "llama", Summary(12, 3, 6)), Model("l2", "llama", Summary(12, 3, 7)),
            Model("q1", "qwen", Summary(10, 2, 4)), Model("q2", "qwen", Summary(10, 6, 8)),
            Model("ctl", "qwen", Summary(10, 5, 6, kSelected: 3), control: true),
        };
        var a = StudyPredictions.Evaluate(models, 3, 100);
        Assert.Equal(["P1", "P2", "P3", "P4", "P5", "P6", "P7"], a.Select(p => p.Id));
        Assert.True(a[0].Supported); // the control's K = 3 does not count
        Assert.Equal(["l1", "l2"], ((JsonArray)a[1].Numbers["families"]!["llama"]!["models"]!).Select(x => x!.GetValue<string>()));
        Assert.Equal(["q1", "q2"], ((JsonArray)a[1].Numbers["families"]!["qwen"]!["models"]!).Select(x => x!.GetValue<string>()));
        var b = StudyPredictions.Evaluate(models, 3, 100);
        Assert.Equal(Mspgt.Reporting.JsonOutput.Serialize(a), Mspgt.Reporting.JsonOutput.Serialize(b));
    }

    private static PredictionInput Checkpoint(string student, int step, string family, AnalysisSummary s) =>
        new(new StudyModelSpec($"{student}-{step}", "/m/" + student + step, family, "s", null, $"{student}-{step}", null, false, student, step), s, null);

    [Fact]
    public void P6FindsTheStepFromWhichBoundariesStayWithinOneLayer()
    {
        // a: 3 → 2 moves by 1 from the final (settled at step 100), then stays; b: final moved by 3 (never settles).
        var a = new[] { Checkpoint("a", 0, "llama", Summary(8, 6, 7)), Checkpoint("a", 100, "llama", Summary(8, 3, 5)),
                        Checkpoint("a", 200, "llama", Summary(8, 2, 5)), Checkpoint("a", 300, "llama", Summary(8, 2, 6)) };
        var p = StudyPredictions.P6(a);
        Assert.True(p.Supported);
        Assert.Equal(100, p.Numbers["a"]!["settled_at_step"]!.GetValue<int>());
        Assert.Equal(1.0 / 3, D(p.Numbers["a"]!["settled_fraction_of_training"]), 12);
        var b = new[] { Checkpoint("b", 0, "qwen", Summary(8, 2, 5)), Checkpoint("b", 100, "qwen", Summary(8, 5, 7)) };
        var q = StudyPredictions.P6([.. a, .. b]);
        Assert.False(q.Supported);
        Assert.Null(q.Numbers["b"]!["settled_at_step"]);
        Assert.Null(StudyPredictions.P6([Model("x", "llama", Summary(8, 2, 5))]).Supported);
    }

    [Fact]
    public void P7ComparesFractionSpreadWithLayerSpread()
    {
        // Fixed fractions: 4 layers → b = (1, 3); 8 layers → (2, 6): fraction spread 0, layer spread 1 and 3.
        var p = StudyPredictions.P7([Model("l4", "llama", Summary(4, 1, 3)), Model("l8", "llama", Summary(8, 2, 6))]);
        Assert.True(p.Supported);
        Assert.Equal(0.0, D(p.Numbers["llama"]!["boundaries"]![0]!["fraction_spread_in_layers_of_deepest"]), 12);
        Assert.Equal(3.0, D(p.Numbers["llama"]!["boundaries"]![1]!["layer_spread"]), 12);
        // Fixed layers: (1, 3) at 4 and 8 layers: layer spread 0, fraction spread (0.25 − 0.125)·8 = 1 and 3.
        var q = StudyPredictions.P7([Model("q4", "qwen", Summary(4, 1, 3)), Model("q8", "qwen", Summary(8, 1, 3))]);
        Assert.False(q.Supported);
        Assert.Null(StudyPredictions.P7([Model("x", "llama", Summary(8, 2, 5))]).Supported);
    }

    [Fact]
    public void OnlyTheLatestCheckpointOfAStudentEntersTheOtherPredictions()
    {
        var early = Checkpoint("s", 10, "llama", Summary(8, 2, 5, kSelected: 3));
        var late = Checkpoint("s", 20, "llama", Summary(8, 2, 5, kSelected: 2));
        var preds = StudyPredictions.Evaluate([early, late], seed: 1, resamples: 20);
        Assert.True(preds.Single(x => x.Id == "P1").Supported);
        Assert.Equal(["P1", "P2", "P3", "P4", "P5", "P6", "P7"], preds.Select(x => x.Id));
    }
}
