using Mspgt.Experiments;
using Mspgt.Interventions;
using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Reporting;
using Mspgt.Corpora;
using Mspgt.Files;

namespace Mspgt.Tests.Interventions;

/// <summary>The whole experiment on stories260K with a tiny corpus and tiny settings.</summary>
public class InterventionExperimentTests
{
    private static InterventionResult Run(int threads, long? cleanLogitsBudget = null)
    {
        using var m = ModelLoader.Load(TestData.Path("models", "stories260K", "stories260K.bin"));
        var tok = m.Tokenizer!;
        var corpus = Corpus.FromFile(TestData.Path("corpora", "tinystories-sample", "stories.jsonl"), tok, maxTokens: 20);
        var settings = new InterventionSettings
        {
            Segments = LayerSegments.Parse("local=0-1,intermediate=2-3,global=4-4", 5),
            Interventions = InterventionSpec.Expand(["noise", "resample", "skip"], ["both"], [0, 0.5]),
            Controls = 2,
            Continuations = 1,
            GenTokens = 6,
            PromptTokens = 8,
            BootstrapResamples = 200,
            PermutationResamples = 200,
            Seed = 5,
            Threads = threads,
            CleanLogitsBudget = cleanLogitsBudget,
        };
        var inputs = new InterventionInputs("stories260K.bin", m.Path, null, tok.Description, corpus.Description, corpus.Sha256);
        return InterventionExperiment.Run(new Transformer(m.Config, m.Weights), tok, corpus.Documents.Take(3).ToList(), settings, inputs);
    }

    private static readonly Lazy<InterventionResult> One = new(() => Run(1));

    [Fact]
    public void ResultsAreDeterministicAndIndependentOfThreads()
    {
        var a = One.Value;
        var b = Run(2);
        Assert.Equal(JsonOutput.Serialize(a.Report), JsonOutput.Serialize(b.Report));
        Assert.Equal(a.Rows, b.Rows);
    }

    [Fact]
    public void KeptCleanLogitsGiveTheResultsOfCleanLogitsRemadeFromTheNorm()
    {
        var a = One.Value;
        var b = Run(2, cleanLogitsBudget: long.MaxValue); // clean logits kept whole (the default remakes them from the final-norm rows, set aside on disk)
        Assert.Equal(JsonOutput.Serialize(a.Report), JsonOutput.Serialize(b.Report));
        Assert.Equal(a.Rows, b.Rows);
    }

    [Fact]
    public void NoopAndZeroNoiseChangeNothing()
    {
        var r = One.Value.Report;
        Assert.Equal(0.0, r.Manifest.NoopMaxAbsEffect);
        var zeroNoise = r.Effects.Where(e => e.Intervention == "noise" && e.Alpha == 0).ToList();
        var noop = r.Effects.Where(e => e.Segment == "none").ToList();
        Assert.Equal(OutcomeMetrics.All.Count, noop.Count);
        // Six generated tokens rarely make two sentences, so coherence may be undefined; nothing else may be.
        Assert.All(zeroNoise.Concat(noop).Where(e => e.N == 0), e => Assert.Equal(OutcomeMetrics.Coherence, e.Metric));
        Assert.All(zeroNoise.Concat(noop).Where(e => e.N > 0), e =>
        {
            Assert.Equal(0.0, e.Effect);
            // The test against 0 is given only where it can fail: not for metrics of fixed sign.
            Assert.Equal(e.SignConstrained ? null : 1.0, e.PVsZero);
        });
        // Nothing changed, so the segment matches its controls exactly: contrast 0, p 1.
        Assert.All(zeroNoise.Where(e => e.VsControls is { N: > 0 }), e =>
        {
            Assert.Equal(0.0, e.VsControls!.Mean);
            Assert.Equal(1.0, e.VsControls.P);
        });
        Assert.Contains(r.Effects, e => e.Intervention == "skip" && e.Metric == OutcomeMetrics.BrittlenessKl && e.Effect > 0.1);
    }

    [Fact]
    public void EffectsAreThePairedStatisticsOfTheTableRows()
    {
        var (report, rows) = (One.Value.Report, One.Value.Rows);
        double?[] PerDoc(string segment, string? controlFor, int? draw, InterventionEffect e) =>
            rows.Where(x => x.Row.Continuation is null && x.Row.Segment == segment && x.ControlFor == controlFor && x.Draw == draw
                            && x.Row.Intervention == e.Intervention && x.Row.Component == e.Component && x.Row.Alpha == e.Alpha)
                .GroupBy(x => x.Row.Document).OrderBy(g => g.Key)
                .Select(g => g.FirstOrDefault(x => x.Row.Metric == e.Metric)?.Row.Effect).ToArray();
        foreach (var e in report.Effects.Where(e => e.Segment is not "random"))
        {
            var d = PerDoc(e.Segment, null, null, e).Where(v => v is not null).Select(v => v!.Value).ToArray();
            Assert.Equal(e.N, d.Length);
            if (d.Length == 0) continue;
            var want = PairedStatistics.AnalyzeDifferences(d, 5, 200, 200);
            Assert.Equal(want.Interval.Mean, e.Effect);
            Assert.Equal([want.Interval.Low, want.Interval.High], e.Ci!);
            Assert.Equal(e.SignConstrained ? null : want.Permutation.PValue, e.PVsZero);
            Assert.Equal(e.Metric is OutcomeMetrics.BrittlenessKl or OutcomeMetrics.Top1Agreement, e.SignConstrained);
            Assert.Equal(want.CohensDz, e.CohensD);
            if (e.Metric is OutcomeMetrics.BrittlenessKl or OutcomeMetrics.DeltaNll)
                Assert.Equal(e.Effect!.Value / e.Width, e.EffectPerBlock!.Value, 15);
            else Assert.Null(e.EffectPerBlock);

            // The contrast, recomputed from the table: per document, segment − mean over its control windows.
            if (e.Segment == "none") { Assert.Null(e.VsControls); continue; }
            var windows = report.Manifest.ControlDraws.Single(x => x.Segment == e.Segment).Layers.Length;
            var controls = Enumerable.Range(0, windows).Select(j => (IReadOnlyList<double?>)PerDoc("random", e.Segment, j, e)).ToArray();
            var c = ControlContrast.Compare(PerDoc(e.Segment, null, null, e), controls, 5, 200, 200);
            var vs = e.VsControls!;
            Assert.Equal(windows, vs.Windows);
            Assert.Equal(c.Differences.Length, vs.N);
            Assert.Equal(c.Paired?.Interval.Mean, vs.Mean);
            Assert.Equal(c.Paired?.Permutation.PValue, vs.P);
            Assert.Equal(c.ControlEffects, vs.ControlEffects);
            Assert.Equal(c.Exceedance?.ExceedanceP, vs.Exceedance?.P);
            if (e.Metric == OutcomeMetrics.BrittlenessKl && vs.Mean is double mean) Assert.Equal(mean / e.Width, vs.MeanPerBlock!.Value, 15);
        }
    }

    [Fact]
    public void HolmIsOverExactlyTheConfirmatoryRows()
    {
        var report = One.Value.Report;
        // Declared: named segment × every condition that perturbs (noise α = 0 is the clean model) × brittleness_kl.
        var declared = report.Effects.Where(e => e.Segment is "local" or "intermediate" or "global" && e.Metric == OutcomeMetrics.BrittlenessKl
                                                 && !(e.Intervention == "noise" && e.Alpha == 0)).ToList();
        Assert.Equal(3 * 3, declared.Count); // noise 0.5, resample both, skip
        Assert.Equal(declared, report.Effects.Where(e => e.Confirmatory));
        Assert.All(report.Effects.Where(e => !e.Confirmatory), e => Assert.Null(e.PHolm));
        var family = declared.Where(e => e.VsControls?.P is not null).ToList();
        Assert.Equal(family.Count, report.Manifest.HolmFamilySize);
        Assert.Equal(HolmBonferroni.Adjust(family.Select(e => e.VsControls!.P!.Value).ToArray()), family.Select(e => e.PHolm!.Value));
    }

    [Fact]
    public void ControlsAndDissociationAreReported()
    {
        var r = One.Value.Report;
        // 5 blocks: local 0-1 has two non-overlapping windows of width 2 (2-3, 3-4), intermediate 2-3 one (0-1),
        // global 4 four (0, 1, 2, 3), of which two are drawn.
        Assert.Equal([2, 1, 4], r.Manifest.ControlDraws.Select(d => d.Candidates));
        Assert.Equal([[2, 3], [3, 4]], r.Manifest.ControlDraws[0].Layers);
        Assert.Equal([[0, 1]], r.Manifest.ControlDraws[1].Layers);
        Assert.Equal([1.0 / 3, 0.5, 1.0 / 3], r.Manifest.ControlDraws.Select(d => d.ExceedancePFloor!.Value));
        Assert.NotNull(r.Manifest.ControlDraws[1].Note); // fewer windows than asked for
        foreach (var d in r.Manifest.ControlDraws)
        {
            var seg = r.Manifest.Segments[d.Segment];
            Assert.Equal(Math.Min(2, d.Candidates), d.Layers.Length);
            Assert.All(d.Layers, w => Assert.Equal(d.Width, w[1] - w[0] + 1));
            Assert.All(d.Layers, w => Assert.True(w[1] < seg[0] || w[0] > seg[1], $"{d.Segment}: window {w[0]}-{w[1]} overlaps"));
        }
        var named = r.Effects.Where(e => e.Segment is "local" or "intermediate" or "global" && e.N > 0).ToList();
        Assert.All(named, e => Assert.Equal(r.Manifest.ControlDraws.Single(d => d.Segment == e.Segment).Layers.Length, e.VsControls!.Windows));
        var random = r.Effects.Where(e => e.Segment == "random").ToList();
        Assert.Equal(named.Count(e => e.Metric == OutcomeMetrics.BrittlenessKl), random.Count(e => e.Metric == OutcomeMetrics.BrittlenessKl));
        Assert.All(random, e => Assert.Contains(e.ControlFor, LayerSegments.Names));

        var d0 = r.Dissociation!;
        Assert.Equal(["local", "intermediate", "global"], d0.Rows);
        Assert.Equal(["lexical", "sentence", "discourse"], d0.Columns);
        Assert.Equal("noise", d0.Intervention);
        Assert.Equal(0.5, d0.Alpha); // α closest to 0.5 is the primary condition
        Assert.Equal(4, d0.ByCondition!.Count);
        // The top-level matrix is rebuilt from the table's Cohen's d values.
        var m = DissociationMatrix.Build(named.Where(e => e.Intervention == "noise" && e.Alpha == 0.5)
            .Select(e => new SegmentMetricEffect(LayerSegments.ScaleOf(e.Segment)!.Value, e.Metric, e.CohensD)));
        Assert.Equal(m.DiagonalDominance, d0.DiagonalDominance);
        // The test, where it exists, is of that same score; α = 0 changes nothing, so it has no defined d_z to test.
        Assert.All(d0.ByCondition, x => Assert.True(x.DominanceTest is not null || x.DominanceTestNote is not null));
        Assert.All(d0.ByCondition.Where(x => x.DominanceTest is not null), x => Assert.Equal(x.DiagonalDominance, x.DominanceTest!.DiagonalDominance));
        Assert.All(d0.ByCondition.Where(x => x.DominanceTest is not null), x => Assert.InRange(x.DominanceTest!.PValue, 1.0 / 201, 1));
    }

    [Fact]
    public void ASegmentWithoutControlWindowsHasNullComparisons()
    {
        // Blocks 0-2 of 5: no window of width 3 avoids them.
        using var m = ModelLoader.Load(TestData.Path("models", "stories260K", "stories260K.bin"));
        var tok = m.Tokenizer!;
        var corpus = Corpus.FromFile(TestData.Path("corpora", "tinystories-sample", "stories.jsonl"), tok, maxTokens: 12);
        var settings = new InterventionSettings
        {
            Segments = LayerSegments.Parse("local=0-2,intermediate=3-3,global=4-4", 5),
            Interventions = InterventionSpec.Expand(["skip"], ["both"], [0.5]),
            Continuations = 0,
            BootstrapResamples = 50,
            PermutationResamples = 50,
        };
        var inputs = new InterventionInputs("stories260K.bin", m.Path, null, tok.Description, corpus.Description, corpus.Sha256);
        var r = InterventionExperiment.Run(new Transformer(m.Config, m.Weights), tok, corpus.Documents.Take(3).ToList(), settings, inputs).Report;
        var local = r.Manifest.ControlDraws[0];
        Assert.Equal((0, 0), (local.Candidates, local.Layers.Length));
        Assert.Null(local.ExceedancePFloor);
        Assert.Contains("no window", local.Note);
        var kl = r.Effects.Single(e => e.Segment == "local" && e.Metric == OutcomeMetrics.BrittlenessKl);
        Assert.True(kl.Effect > 0);
        Assert.Equal(0, kl.VsControls!.Windows);
        Assert.Null(kl.VsControls.P);
        Assert.Null(kl.PHolm);
        Assert.True(kl.Confirmatory); // declared, but without a p it is not in the Holm family
        Assert.Equal(2, r.Manifest.HolmFamilySize);
        Assert.DoesNotContain(r.Effects, e => e.ControlFor == "local");
        // Without continuations there are no text outcomes: the dissociation test says why it is absent.
        Assert.Null(r.Dissociation!.DominanceTest);
        Assert.NotNull(r.Dissociation.DominanceTestNote);
        // The width-1 segments have four windows each (every other block): all are used, as fewer than 19 exist.
        Assert.Equal([4, 4], r.Manifest.ControlDraws.Skip(1).Select(d => d.Layers.Length));
    }
}
