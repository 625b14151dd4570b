using Mspgt.Experiments;
using Mspgt.Experiments.Predictions;
using Mspgt.Interventions;
using Mspgt.Scales;
using Mspgt.Tests.Scales;
using Mspgt.Corpora;

namespace Mspgt.Tests.Experiments;

/// <summary>
/// P1–P7 on inputs whose answer is known: planted structure must pass, null data (smooth surrogates, random
/// boundaries, random-weight controls) must not.
/// </summary>
public class StudyPredictionsTests
{
    /// <summary>An analysis summary around a boundary report, the other fields filled with placeholders.</summary>
    internal static AnalysisSummary FromReport(BoundaryReport r, string format = "safetensors")
    {
        var k2 = r.ForcedK2;
        var manifest = new AnalysisManifest("mspgt", "0", "m", format, "sha", "tok", "corpus", null, null, [], new AnalysisSettings(), [], []);
        return new AnalysisSummary("m", "llama", r.NLayers, r.NDocuments, 100, new Dictionary<string, double[]>(), r.Fused,
            r.KSelected, r.Boundaries, r.BoundaryCi, r.DepthFractions, r.KTests, k2, r.Null,
            new Dictionary<string, int[]> { ["local"] = k2.Segments[0], ["intermediate"] = k2.Segments[1], ["global"] = k2.Segments[2] },
            Analysis.SegmentsFrom(r), "attention", r.Pelt.Boundaries, [], new Dictionary<string, ProbeReport>(), [], r, manifest);
    }

    /// <summary>A model analysed from a synthetic panel (see <see cref="SyntheticPanels"/>).</summary>
    internal static AnalysisSummary Analysed(PanelKind kind, int layers, int seed) =>
        FromReport(BoundaryDetector.Detect(SyntheticPanels.Names, SyntheticPanels.Make(kind, layers, seed).Documents,
            new BoundaryOptions { Seed = seed, Families = SyntheticPanels.FamilyOf, NullReplicates = 99, Bootstrap = 50 }));

    /// <summary>A summary whose two-boundary fit is (b1, b2) with the given bootstrap counts (default: all at the point).</summary>
    internal static AnalysisSummary WithBoundaries(AnalysisSummary s, int b1, int b2, int[][]? counts = null)
    {
        int L = s.NLayers;
        counts ??= [OneHot(L, b1, 100), OneHot(L, b2, 100)];
        var k2 = s.ForcedK2 with
        {
            Boundaries = [b1, b2], DepthFractions = [(double)b1 / L, (double)b2 / L],
            Segments = Segmentation.SegmentsOf([b1, b2], L), BootstrapCounts = counts, BootstrapDraws = null,
            BoundaryCi = counts.Select(c => BoundaryBootstrap.PercentileInterval(c, 0.95)).ToArray(),
        };
        // The calibrated choice follows: these boundaries stand for two selected ones.
        return s with { ForcedK2 = k2, KSelected = 2, Boundaries = k2.Boundaries, BoundaryCi = k2.BoundaryCi, DepthFractions = k2.DepthFractions };
    }

    internal static int[] OneHot(int n, int at, int count)
    {
        var a = new int[n];
        a[at] = count;
        return a;
    }

    private static PredictionInput Model(string name, string family, AnalysisSummary s, string? @base = null, bool control = false,
        StudyInterventionOutcome? iv = null, string? student = null, int? step = null) =>
        new(new StudyModelSpec(name, "/m/" + name, family, "s", null, @base ?? name, null, control, student, step), s, iv);

    private static PredictionContext Context(params PredictionInput[] models) => new(models, seed: 1, resamples: 400);

    // ---------------------------------------------------------------- P1

    [Fact]
    public void P1PassesOnPlantedJumpsFailsOnSmoothCurvesAndIsNotIdentifiableWhenAControlPasses()
    {
        var jumpsA = Model("a", "llama", Analysed(PanelKind.TwoJumps, 16, 1));
        var jumpsB = Model("b", "qwen", Analysed(PanelKind.TwoJumps, 20, 2));
        var p1 = new P1TwoBoundaries();
        Assert.Equal(Verdict.Supported, p1.Evaluate(Context(jumpsA, jumpsB)).Supported);

        var smooth = Model("s", "qwen", Analysed(PanelKind.Smooth, 20, 3));
        var failed = p1.Evaluate(Context(jumpsA, smooth));
        Assert.Equal(Verdict.NotSupported, failed.Supported);
        Assert.Contains("s: K = ", failed.Reason);

        var control = Model("c", "llama", Analysed(PanelKind.TwoJumps, 16, 4), control: true);
        Assert.Equal(Verdict.NotIdentifiable, p1.Evaluate(Context(jumpsA, jumpsB, control)).Supported);
        var quietControl = Model("q", "llama", Analysed(PanelKind.Flat, 16, 5), control: true);
        Assert.Equal(Verdict.Supported, p1.Evaluate(Context(jumpsA, jumpsB, quietControl)).Supported);

        var shallow = p1.Evaluate(Context(Model("tiny", "llama", Analysed(PanelKind.TwoJumps, 5, 6))));
        Assert.Equal(Verdict.NotEvaluable, shallow.Supported);
        Assert.Contains("tiny: 5 layers", shallow.Reason);
    }

    // ---------------------------------------------------------------- P2

    [Fact]
    public void CoefficientOfVariationMatchesHandComputation()
    {
        Assert.Equal(Math.Sqrt(2 * 0.025 * 0.025) / 0.275, P2BoundaryStability.Cv([0.25, 0.30]), 12);
        Assert.Equal(0, P2BoundaryStability.Cv([0.5, 0.5, 0.5]));
    }

    [Fact]
    public void P2NeedsThreeModelsPerFamilyAndComparesCvsWithBootstrapIntervals()
    {
        var baseSummary = Analysed(PanelKind.TwoJumps, 20, 7);
        PredictionInput M(string n, string f, int b1, int b2) => Model(n, f, WithBoundaries(baseSummary, b1, b2));
        // Llama at the same fractions, Qwen spread widely: CV(qwen) − CV(llama) > 0 for both boundaries. (With
        // three models per family one replicate in nine draws one Qwen model three times, a CV of 0: the interval
        // then reaches 0, so passing takes four models, or documents that disagree.)
        var stable = new[] { M("l1", "llama", 5, 12), M("l2", "llama", 5, 12), M("l3", "llama", 5, 12), M("l4", "llama", 5, 12),
                             M("q1", "qwen", 3, 8), M("q2", "qwen", 8, 13), M("q3", "qwen", 12, 17), M("q4", "qwen", 5, 15) };
        var p = new P2BoundaryStability().Evaluate(Context(stable));
        Assert.Equal(Verdict.Supported, p.Supported);
        Assert.True(p.PValue < 0.05);
        // Both families equally spread: not supported.
        var equal = new[] { M("l1", "llama", 3, 8), M("l2", "llama", 8, 13), M("l3", "llama", 12, 17),
                            M("q1", "qwen", 3, 8), M("q2", "qwen", 8, 13), M("q3", "qwen", 12, 17) };
        Assert.Equal(Verdict.NotSupported, new P2BoundaryStability().Evaluate(Context(equal)).Supported);
        Assert.Equal(Verdict.NotSupported, new P2BoundaryStability().Evaluate(Context([.. stable[..3], .. stable[4..7]])).Supported);
        var two = new P2BoundaryStability().Evaluate(Context([.. stable[..3], .. stable[4..6]]));
        Assert.Equal(Verdict.NotEvaluable, two.Supported);
        Assert.Contains("at least 3", two.Reason);
    }

    // ---------------------------------------------------------------- P3

    private static StudyInterventionOutcome Brittleness(double local, double inter, double glob, int[]? widths = null, string condition = "noise α=0.5",
        double noise = 0.1, int seed = 0, DominanceTestReport? dominance = null)
    {
        widths ??= [1, 1, 1];
        var rng = new Random(seed);
        int start = 0;
        SegmentBrittleness B(string name, double mean, int width)
        {
            var perDoc = Enumerable.Range(0, 16).Select(_ => Math.Max(0, mean * (1 + noise * Synthetic.Gaussian(rng)))).ToArray();
            var b = new SegmentBrittleness(name, [start, start + width - 1], perDoc.Average(), null, perDoc);
            start += width;
            return b;
        }
        return new StudyInterventionOutcome(condition, [B("local", local, widths[0]), B("intermediate", inter, widths[1]), B("global", glob, widths[2])], null,
            ["local", "intermediate", "global"], ["lexical", "sentence", "discourse"],
            [[1.0, 0.5, 0.5], [0.2, 1.0, 0.2], [0.1, 0.1, 0.8]], [0.5, 0.8, 0.7], 0.5, 1, [], null) { DominanceTest = dominance };
    }

    [Fact]
    public void P3NeedsTheWholeIntervalOutsideTheEquivalenceMargin()
    {
        var s = Analysed(PanelKind.TwoJumps, 12, 8);
        var far = new P3FamilyBrittleness().Evaluate(Context(Model("l", "llama", s, iv: Brittleness(1, 1, 1)), Model("q", "qwen", s, iv: Brittleness(10, 1, 1))));
        Assert.Equal(Verdict.Supported, far.Supported);
        Assert.True(far.Interval![0] > 2);
        // 1.3× is inside the margin: no practical difference, however small the interval.
        var near = new P3FamilyBrittleness().Evaluate(Context(Model("l", "llama", s, iv: Brittleness(1, 1, 1)), Model("q", "qwen", s, iv: Brittleness(1.3, 1, 1))));
        Assert.Equal(Verdict.NotSupported, near.Supported);
        Assert.Contains("equivalent within the margin", near.Reason);
        // Per block: a local segment of 4 blocks with 4× the total is the same brittleness per block.
        var wide = new P3FamilyBrittleness().Evaluate(Context(Model("l", "llama", s, iv: Brittleness(1, 1, 1)),
            Model("q", "qwen", s, iv: Brittleness(4, 1, 1, widths: [4, 1, 1]))));
        Assert.Equal(Verdict.NotSupported, wide.Supported);
        Assert.InRange(wide.Interval![0], 0.5, 1.0);
        Assert.Equal(Verdict.NotEvaluable, new P3FamilyBrittleness().Evaluate(Context(Model("l", "llama", s, iv: Brittleness(1, 1, 1)))).Supported);
    }

    // ---------------------------------------------------------------- P4

    [Fact]
    public void P4NeedsEveryModelAboveItsPermutationNull()
    {
        var s = Analysed(PanelKind.TwoJumps, 12, 9);
        DominanceTestReport D(double p) => new() { DiagonalDominance = 0.4, Ci = [0.1, 0.7], NullMean = 0, PValue = p, Permutations = 1000 };
        var both = new P4Dissociation().Evaluate(Context(Model("a", "llama", s, iv: Brittleness(1, 1, 1, dominance: D(0.01))),
            Model("b", "qwen", s, iv: Brittleness(1, 1, 1, dominance: D(0.03)))));
        Assert.Equal(Verdict.Supported, both.Supported);
        Assert.Equal(0.03, both.PValue);
        var one = new P4Dissociation().Evaluate(Context(Model("a", "llama", s, iv: Brittleness(1, 1, 1, dominance: D(0.01))),
            Model("b", "qwen", s, iv: Brittleness(1, 1, 1, dominance: D(0.3)))));
        Assert.Equal(Verdict.NotSupported, one.Supported);
        Assert.Contains("b (p 0.3)", one.Reason);
        Assert.Equal(Verdict.NotEvaluable, new P4Dissociation().Evaluate(Context(Model("a", "llama", s, iv: Brittleness(1, 1, 1)))).Supported);
    }

    // ---------------------------------------------------------------- P5

    [Fact]
    public void P5IsAnEquivalenceTestWithAOneLayerMargin()
    {
        var s = Analysed(PanelKind.TwoJumps, 16, 10);
        var reference = Model("bin", "llama", WithBoundaries(s, 5, 11), @base: "n");
        var same = new P5PrecisionEquivalence().Evaluate(Context(reference, Model("gguf", "llama", WithBoundaries(s, 5, 11), @base: "n")));
        Assert.Equal(Verdict.Supported, same.Supported);
        Assert.Equal(0, same.PValue);
        var oneOff = new P5PrecisionEquivalence().Evaluate(Context(reference, Model("gguf", "llama", WithBoundaries(s, 6, 11), @base: "n")));
        Assert.Equal(Verdict.Supported, oneOff.Supported);
        var moved = new P5PrecisionEquivalence().Evaluate(Context(reference, Model("gguf", "llama", WithBoundaries(s, 8, 11), @base: "n")));
        Assert.Equal(Verdict.NotSupported, moved.Supported);
        // A variant whose boundary is spread over 4 layers cannot be shown equivalent within one layer.
        int[] spread = new int[16];
        spread[3] = spread[4] = spread[5] = spread[6] = spread[7] = 20;
        var vague = new P5PrecisionEquivalence().Evaluate(Context(reference, Model("gguf", "llama", WithBoundaries(s, 5, 11, [spread, OneHot(16, 11, 100)]), @base: "n")));
        Assert.Equal(Verdict.NotSupported, vague.Supported);
        Assert.Equal(Verdict.NotEvaluable, new P5PrecisionEquivalence().Evaluate(Context(reference)).Supported);
    }

    // ---------------------------------------------------------------- P6, P7

    [Fact]
    public void P6AgreementThatRandomBoundariesGiveForFreeIsNotSettling()
    {
        var s4 = Analysed(PanelKind.TwoJumps, 4, 11);
        var s12 = Analysed(PanelKind.TwoJumps, 12, 12);
        PredictionInput C(AnalysisSummary s, string student, int step, int b1, int b2) => Model($"{student}-{step}", "llama", WithBoundaries(s, b1, b2), student: student, step: step);
        // At 4 layers every split agrees within one layer: perfect agreement proves nothing.
        var shallow = new P6Settling().Evaluate(Context(C(s4, "t", 50, 1, 2), C(s4, "t", 100, 1, 3), C(s4, "t", 150, 2, 3)));
        Assert.Equal(Verdict.NotSupported, shallow.Supported);
        Assert.True(shallow.PValue > 0.5);
        // Deep students whose last four checkpoints agree: random boundaries rarely do that.
        var inputs = new List<PredictionInput>();
        foreach (var st in new[] { "a", "b" })
        {
            inputs.Add(C(s12, st, 10, 2, 9));
            for (int step = 20; step <= 60; step += 10) inputs.Add(C(s12, st, step, 4, 8));
        }
        var settled = new P6Settling().Evaluate(Context([.. inputs]));
        Assert.Equal(Verdict.Supported, settled.Supported);
        Assert.Equal(8, (int)settled.Numbers["settled_run_total"]!);
        Assert.Equal(20, (int)settled.Numbers["a"]!["settled_at_step"]!);
    }

    [Fact]
    public void P7FractionsVersusLayersAgainstRandomBoundaries()
    {
        PredictionInput M(int layers, int b1, int b2, int seed) => Model($"m{layers}", "llama", WithBoundaries(Analysed(PanelKind.TwoJumps, layers, seed), b1, b2));
        var fractions = new P7DepthScaling().Evaluate(Context(M(12, 3, 8, 13), M(24, 6, 16, 14), M(36, 9, 24, 15)));
        Assert.True(fractions.Supported == Verdict.Supported, $"{fractions.Reason}");
        var layers = new P7DepthScaling().Evaluate(Context(M(12, 3, 8, 13), M(24, 3, 8, 14), M(36, 3, 8, 15)));
        Assert.Equal(Verdict.NotSupported, layers.Supported);
        Assert.Contains("fixed layers", layers.Reason);
        Assert.Equal(Verdict.NotEvaluable, new P7DepthScaling().Evaluate(Context(M(12, 3, 8, 13))).Supported);
    }

    // ---------------------------------------------------------------- null data

    [Fact]
    public void NullDataSupportsNoPrediction()
    {
        // Models with no scale structure: smooth surrogates and flat noise, random boundaries for the depth and
        // training questions, equal brittleness, unstructured dissociation, and a random-weight control. No
        // prediction may come out supported, in any of several seeds.
        for (int seed = 0; seed < 6; seed++)
        {
            var rng = new Random(seed);
            var models = new List<PredictionInput>();
            int i = 0;
            foreach (var (family, layers) in new[] { ("llama", 12), ("llama", 16), ("llama", 24), ("qwen", 12), ("qwen", 20), ("qwen", 28) })
            {
                var kind = i % 2 == 0 ? PanelKind.Smooth : PanelKind.Flat;
                var s = Analysed(kind, layers, 1000 * seed + i);
                var dominance = new DominanceTestReport { DiagonalDominance = 0.05, Ci = [-0.2, 0.3], NullMean = 0.02, PValue = 0.2 + 0.1 * rng.NextDouble(), Permutations = 1000 };
                var iv = Brittleness(1, 1, 1, seed: 100 * seed + i, dominance: dominance);
                models.Add(Model($"{family}-{layers}", family, s, iv: iv));
                i++;
            }
            // The same network twice with unrelated boundaries (a mislabelled pair) and a student with random checkpoints.
            var variant = Analysed(PanelKind.Flat, 12, 50 + seed);
            models.Add(Model("llama-12-gguf", "llama", WithBoundaries(variant, 2 + rng.Next(3), 7 + rng.Next(3)), @base: "llama-12",
                iv: Brittleness(1, 1, 1, seed: seed)));
            for (int step = 1; step <= 3; step++)
            {
                var ckpt = Analysed(PanelKind.Flat, 8, 70 + 10 * seed + step);
                int b1 = 2 + rng.Next(2), b2 = b1 + 2 + rng.Next(2);
                models.Add(Model($"student-{step}", "qwen", WithBoundaries(ckpt, b1, b2), student: "student", step: 50 * step));
            }
            models.Add(Model("control", "llama", Analysed(PanelKind.Flat, 12, 90 + seed), control: true));
            var predictions = StudyPredictions.Evaluate(models, seed, resamples: 400);
            Assert.Equal(7, predictions.Count);
            Assert.All(predictions, p => Assert.True(p.Supported != Verdict.Supported, $"seed {seed}: {p.Id} supported on null data ({p.Reason})"));
            Assert.All(predictions, p => Assert.False(string.IsNullOrEmpty(p.Threshold) || string.IsNullOrEmpty(p.Null)));
        }
    }

    [Fact]
    public void VerdictsSerialiseAsTheStudyJsonContractSays()
    {
        string J(Verdict v) => System.Text.Json.JsonSerializer.Serialize(v);
        Assert.Equal("true", J(Verdict.Supported));
        Assert.Equal("false", J(Verdict.NotSupported));
        Assert.Equal("\"not evaluable\"", J(Verdict.NotEvaluable));
        Assert.Equal("\"not identifiable\"", J(Verdict.NotIdentifiable));
        Assert.Equal(Verdict.NotIdentifiable, System.Text.Json.JsonSerializer.Deserialize<Verdict>("\"not identifiable\""));
    }
}

/// <summary>
/// The whole chain on random-weight networks: real text through 12-layer Llamas whose weights were never trained,
/// analysed as a study would, must not make the theory's predictions come out supported. A random network still has
/// depth trends (norms grow, attention spreads), so this is the null the boundary test must survive in practice.
/// </summary>
public class RandomWeightPredictionTests
{
    [Fact]
    public void RandomWeightModelsSupportNoPrediction()
    {
        using var teacher = Mspgt.Loading.ModelLoader.Load(TestData.Path("models", "stories260K", "stories260K.bin"));
        var tok = teacher.Tokenizer!;
        var corpus = Corpus.FromFile(TestData.Path("corpora", "tinystories-sample", "stories.jsonl"), tok, 128);
        var settings = new AnalysisSettings { MaxTokens = 128, Bootstrap = 50, NullReplicates = 99, Seed = 0 };
        var config = Mspgt.Loading.SyntheticModel.Preset("15m") with { Layers = 12, Dim = 64, Heads = 4, KvHeads = 4, HeadDim = 16, Ffn = 172, Vocab = tok.VocabSize, MaxSeq = 256 };
        var inputs = new List<PredictionInput>();
        foreach (var (name, family, seed, control) in new[] { ("random-llama", "llama", 1, false), ("random-qwen", "qwen", 2, false), ("random-control", "llama", 3, true) })
        {
            using var m = Mspgt.Loading.SyntheticModel.Build(config, seed);
            m.Tokenizer = tok;
            var summary = Analysis.Run(m, corpus, settings).Summary;
            inputs.Add(new PredictionInput(new StudyModelSpec(name, "/m/" + name, family, "12L", null, name, null, control), summary, null));
        }
        var predictions = StudyPredictions.Evaluate(inputs, seed: 0, resamples: 400);
        Assert.All(predictions, p => Assert.True(p.Supported != Verdict.Supported, $"{p.Id} supported on random-weight models ({p.Reason})"));
        Assert.Contains(predictions[0].Supported, new[] { Verdict.NotSupported, Verdict.NotIdentifiable });
    }
}
