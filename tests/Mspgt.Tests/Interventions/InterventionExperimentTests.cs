using Mspgt.Checkpoints;
using Mspgt.Experiments;
using Mspgt.Interventions;
using Mspgt.Interventions.Outcomes;
using Mspgt.Interventions.Statistics;
using Mspgt.Models;
using Mspgt.Reporting;

namespace Mspgt.Tests.Interventions;

/// <summary>The whole experiment on stories260K with a tiny corpus and tiny settings.</summary>
public class InterventionExperimentTests
{
    private static InterventionResult Run(int threads, int seed = 0)
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
            Seed = seed,
            Threads = threads,
        };
        var inputs = new InterventionInputs("stories260K.bin", m.Path, null, tok.Description, corpus.Description, corpus.Sha256);
        return InterventionExperiment.Run(new Transformer(m), tok, corpus.Documents.Take(3).ToList(), settings, inputs);
    }

    private static readonly Lazy<InterventionResult> One = new(() => Run(1));

    [Fact]
    public void ResultsAreDeterministicAndIndependentOfThreads()
    {
        var a = One.Value;
        var b = Run(2);
        Assert.Equal(JsonOutput.Serialize(a.Report), JsonOutput.Serialize(b.Report));
        Assert.Equal(a.Rows, b.Rows);
        Assert.NotEqual(JsonOutput.Serialize(a.Report), JsonOutput.Serialize(Run(1, seed: 1).Report));
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
            Assert.Equal(1.0, e.P);
        });
        Assert.Contains(r.Effects, e => e.Intervention == "skip" && e.Metric == OutcomeMetrics.BrittlenessKl && e.Effect > 0.1);
    }

    [Fact]
    public void EffectsAreThePairedStatisticsOfTheTableRows()
    {
        var (report, rows) = (One.Value.Report, One.Value.Rows);
        foreach (var e in report.Effects.Where(e => e.Segment is not "random"))
        {
            var d = rows.Where(x => x.Row.Continuation == -1 && x.ControlFor == "" && x.Row.Segment == e.Segment && x.Row.Intervention == e.Intervention
                                    && x.Row.Component == e.Component && x.Row.Alpha == (e.Alpha ?? 0) && x.Row.Metric == e.Metric)
                .Select(x => x.Row.Value).ToArray();
            Assert.Equal(e.N, d.Length);
            if (d.Length == 0) continue;
            var want = PairedStatistics.AnalyzeDifferences(d, 0, 200, 200);
            Assert.Equal(want.Interval.Mean, e.Effect);
            Assert.Equal([want.Interval.Low, want.Interval.High], e.Ci!);
            Assert.Equal(want.Permutation.PValue, e.P);
            Assert.Equal(want.CohensDz, e.CohensD);
        }
        // Holm across the whole table.
        var tested = report.Effects.Where(e => e.P is not null).ToList();
        Assert.Equal(HolmBonferroni.Adjust(tested.Select(e => e.P!.Value).ToArray()), tested.Select(e => e.PHolm!.Value));
    }

    [Fact]
    public void ControlsAndDissociationAreReported()
    {
        var r = One.Value.Report;
        Assert.All(r.Manifest.ControlDraws, d => Assert.Equal(2, d.Layers.Length));
        Assert.All(r.Manifest.ControlDraws, d => Assert.All(d.Layers, w => Assert.Equal(d.Width, w[1] - w[0] + 1)));
        var named = r.Effects.Where(e => e.Segment is "local" or "intermediate" or "global" && e.N > 0).ToList();
        Assert.All(named, e => Assert.Equal(2, e.VsRandomControl!.Draws));
        var random = r.Effects.Where(e => e.Segment == "random").ToList();
        Assert.Equal(named.Count(e => e.Metric == OutcomeMetrics.BrittlenessKl), random.Count(e => e.Metric == OutcomeMetrics.BrittlenessKl));
        Assert.All(random, e => Assert.Contains(e.ControlFor, LayerSegments.Names));

        var d = r.Dissociation!;
        Assert.Equal(["local", "intermediate", "global"], d.Rows);
        Assert.Equal(["lexical", "sentence", "discourse"], d.Columns);
        Assert.Equal("noise", d.Intervention);
        Assert.Equal(0.5, d.Alpha); // α closest to 0.5 is the primary condition
        Assert.Equal(4, d.ByCondition!.Count);
        // The top-level matrix is rebuilt from the table's Cohen's d values.
        var m = DissociationMatrix.Build(named.Where(e => e.Intervention == "noise" && e.Alpha == 0.5)
            .Select(e => new SegmentMetricEffect(LayerSegments.ScaleOf(e.Segment)!.Value, e.Metric, e.CohensD)));
        Assert.Equal(m.DiagonalDominance, d.DiagonalDominance);
    }
}
