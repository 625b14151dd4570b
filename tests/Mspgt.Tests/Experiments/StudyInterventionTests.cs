using System.Text.Json;
using System.Text.RegularExpressions;
using Mspgt.Experiments;
using Mspgt.Experiments.Predictions;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Tests.Experiments;

/// <summary>A study with its intervention step, on the two tiny fixtures labelled as a llama and a qwen family.</summary>
public class StudyInterventionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-study-iv").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void InterventionsFeedP3P4TheReportAndTheParquetAndAreCached()
    {
        string file = Path.Combine(_dir, "iv.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new
        {
            output = "out",
            corpus = new { path = TestData.Path("corpora", "tinystories-sample", "stories.jsonl") },
            analyze = new { bootstrap = 10, max_tokens = 40 },
            intervene = new { interventions = new[] { "noise" }, alpha = new[] { 0.5, 1.0 }, controls = 2, continuations = 1, gen_tokens = 6,
                prompt_tokens = 12, bootstrap = 100, permutations = 100 },
            models = new object[]
            {
                new { name = "tl", path = TestData.Path("fixtures", "tiny-llama"), tokenizer = TestData.Path("fixtures", "tiny-llama.f32.gguf"), family = "llama", size = "tiny" },
                new { name = "tq", path = TestData.Path("fixtures", "tiny-qwen3"), tokenizer = TestData.Path("fixtures", "tiny-qwen3.f32.gguf"), family = "qwen", size = "tiny" },
            },
        }));
        var def = StudyFile.Load(file);
        var log = new List<string>();
        var r = StudyRunner.Run(def, new StudyOptions { Log = log.Add, PredictionResamples = 100 });
        StudyReport.Write(r);
        Assert.Equal(2, log.Count(l => l.Contains(": interventions into ")));
        foreach (var m in r.Models)
        {
            var iv = m.Interventions!;
            Assert.Equal("noise α=0.5", iv.Condition);
            Assert.Equal(["local", "intermediate", "global"], iv.Brittleness.Select(b => b.Segment).OrderBy(s => s == "local" ? 0 : s == "intermediate" ? 1 : 2));
            foreach (var b in iv.Brittleness)
            {
                Assert.Equal(5, b.PerDocument.Length);
                Assert.Equal(b.Mean, b.PerDocument.Average(), 10); // the effect is the mean of the per-document KLs
                Assert.True(b.Mean > 0);
                Assert.Equal(b.Layers, m.Summary.Segments[b.Segment]);
                // Per block = ÷ width, for the mean and for every document.
                Assert.Equal(b.Mean / b.Width, b.MeanPerBlock!.Value, 12);
                Assert.Equal(b.PerDocument.Select(x => x / b.Width), b.PerDocumentPerBlock!);
                var vs = b.VsControls!;
                Assert.Equal(vs.ControlWindows.Length, vs.ControlEffects.Length);
                Assert.All(vs.ControlWindows, w => Assert.True(w[1] < b.Layers[0] || w[0] > b.Layers[1]));
                if (vs.ControlWindows.Length == 0) Assert.True(vs.Mean is null && vs.Note is not null);
                else
                {
                    // The contrast is the per-document difference with the windows' mean, so its mean is the
                    // segment's mean minus the mean of the windows' means (every KL is defined).
                    Assert.Equal(b.Mean - vs.ControlEffects.Average(x => x!.Value), vs.Mean!.Value, 10);
                    Assert.InRange(vs.P!.Value, 0, 1);
                    Assert.NotNull(vs.PHolm);
                }
            }
            Assert.True(iv.DominanceTest is not null || iv.DominanceTestNote is not null);
            Assert.Equal(3, iv.DoseResponse.Count);
            Assert.All(iv.DoseResponse, c => Assert.Equal([0.5, 1.0], c.Alphas));
            Assert.Equal(3, iv.Dissociation.Length);
        }
        var p3 = r.Predictions.Single(p => p.Id == "P3");
        Assert.NotEqual(Verdict.NotEvaluable, p3.Supported);
        double ratio = p3.Numbers["segments"]!["local"]!["ratio_qwen_over_llama"]!.GetValue<double>();
        static double PerBlock(SegmentBrittleness b) => b.PerDocument.Average() / b.Width;
        double expected = PerBlock(r.Models[1].Interventions!.Brittleness.Single(b => b.Segment == "local"))
                          / PerBlock(r.Models[0].Interventions!.Brittleness.Single(b => b.Segment == "local"));
        Assert.Equal(expected, ratio, 12);
        var p4 = r.Predictions.Single(p => p.Id == "P4");
        Assert.True(p4.Supported != Verdict.NotEvaluable || p4.Reason.Contains("complete"), p4.Reason);

        var t = ParquetTable.Read(Path.Combine(def.Output, "interventions.parquet"));
        Assert.Equal(["qwen", "llama"], t.Strings("family").Distinct().OrderDescending());
        Assert.Contains("brittleness_kl", t.Strings("metric"));
        // Control windows keep their blocks and draw; named segments have null draws; document-level rows null continuations.
        var (segment, draw, controlFor) = (t.Strings("segment"), t.NullableInts("draw"), t.NullableStrings("control_for"));
        for (int i = 0; i < t.RowCount; i++)
        {
            Assert.Equal(segment[i] == "random", draw[i] is not null);
            Assert.Equal(segment[i] == "random", controlFor[i] is not null);
            Assert.True(t.Ints("first_layer")[i] <= t.Ints("last_layer")[i]);
        }
        Assert.Contains(t.NullableInts("continuation"), c => c is null);

        string html = File.ReadAllText(Path.Combine(def.Output, "report.html"));
        // depth + per model: one small panel per signal, CKA, dissociation, dose.
        var grids = Regex.Matches(html, "<div class=\"grid\">(.*?)</div>", RegexOptions.Singleline);
        Assert.Equal(2, grids.Count);
        int panels = grids.Sum(g => Regex.Matches(g.Groups[1].Value, "<svg").Count);
        Assert.True(panels >= 2 * 5, $"{panels} signal panels");
        Assert.Equal(1 + 2 * 3 + panels, Regex.Matches(html, "<svg").Count);
        Assert.Contains("brittleness against noise strength", html);

        // A re-run reads the interventions back and gives the same study.json.
        string before = File.ReadAllText(Path.Combine(def.Output, "study.json"));
        log.Clear();
        var again = StudyRunner.Run(def, new StudyOptions { Log = log.Add, PredictionResamples = 100, Now = () => DateTimeOffset.Parse(r.Summary.Manifest.Date, System.Globalization.CultureInfo.InvariantCulture) });
        StudyReport.Write(again);
        Assert.Equal(2, log.Count(l => l.Contains(": interventions read from ")));
        Assert.Equal(before, File.ReadAllText(Path.Combine(def.Output, "study.json")));
    }
}
