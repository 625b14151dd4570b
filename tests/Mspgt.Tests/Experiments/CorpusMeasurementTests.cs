using System.Text.Json;
using Mspgt.Cli.Commands;
using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;
using Mspgt.Corpora;

namespace Mspgt.Tests.Experiments;

/// <summary>The measuring stage of analyze: skipped documents, per-document values of every signal, saturation.</summary>
public class CorpusMeasurementTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-measure").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");

    private string CorpusFile(params string[] texts)
    {
        string path = Path.Combine(_dir, $"c{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, texts.Select(t => JsonSerializer.Serialize(new { text = t })));
        return path;
    }

    private static string[] Stories3()
    {
        var lines = File.ReadAllLines(TestData.Path("corpora", "tinystories-sample", "stories.jsonl"));
        return lines.Take(3).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToArray();
    }

    [Fact]
    public void TheDefaultQwenCorpusWithItsShortDocumentNoLongerCrashes()
    {
        // `mspgt analyze --model ../shared/models/stories-qwen3-12L` died on document 19 of the default sampled
        // corpus (33 tokens: too few for a per-document 16+16 Gaussian MI). Documents 0–19 of that corpus (document i
        // is sampled with seed i, so they are the same) through the library with the default settings.
        using var m = ModelLoader.Load(TestData.Path("models", "stories-qwen3-12L"));
        var corpus = Corpus.Sample(new Transformer(m.Config, m.Weights), m.Tokenizer, 20, 256, seed: 0);
        Assert.Equal(33, corpus.Documents[19].Ids.Length);
        var r = Analysis.Run(m, corpus, new AnalysisSettings { Documents = 20, Bootstrap = 20 });
        var s = r.Summary;
        Assert.Equal(20, s.NDocuments);
        Assert.All(s.Manifest.SkippedDocuments.Values, n => Assert.Equal(0, n));
        Assert.Equal(SkippedDocument.Reasons.Order(StringComparer.Ordinal), s.Manifest.SkippedDocuments.Keys.Order(StringComparer.Ordinal));

        // Every fused signal varies per document (probes included), so the document bootstrap sees all of them.
        foreach (var name in s.Manifest.FusedSignals)
        {
            var rows = r.Rows.Where(x => x.Signal == name).ToList();
            bool varies = Enumerable.Range(0, s.NLayers).Any(l => rows.Where(x => x.Layer == l).Select(x => x.Value).Distinct().Count() > 1);
            Assert.True(varies, $"{name} is the same for every document at every block");
        }
        // mi_gaussian's mean over documents is the jackknife estimate, close to the pooled estimate.
        var pooled = s.MiGaussianPooled!;
        for (int l = 0; l < s.NLayers; l++)
        {
            Assert.InRange(s.Signals[SignalNames.MiGaussian][l] - pooled.Estimate[l], -5 * pooled.StandardError[l] - 0.05, 5 * pooled.StandardError[l] + 0.05);
            Assert.Equal(16, pooled.ComponentsX[l]);
        }
        Assert.Equal(corpus.Documents.Sum(d => d.Ids.Length - 1), pooled.PooledTokens);
        var sat = s.Saturation[SignalNames.MiKsg];
        Assert.Equal(s.NLayers, sat.Ceiling.Length);
        Assert.All(sat.SaturatedDocuments, n => Assert.InRange(n, 0, 20));
        Assert.Contains("lower bound", sat.Note);
        Assert.Equal(5, s.Probes[SignalNames.ProbeLocal].Folds);
    }

    [Fact]
    public void ShortDocumentsAreSkippedAndCountedPerReason()
    {
        using var m = ModelLoader.Load(Stories);
        var tok = m.Tokenizer!;
        string tiny = "Hi", small = "The dog.";
        int tTiny = tok.Encode(tiny, true).Length, tSmall = tok.Encode(small, true).Length;
        Assert.True(tTiny < tSmall && tSmall == 5, $"{tTiny}, {tSmall}");   // 6 needed: KSG's 5 rows plus position 0
        var corpus = Corpus.FromFile(CorpusFile([.. Stories3(), tiny, small]), tok, 256);
        var r = Analysis.Run(m, corpus, new AnalysisSettings { MinDocumentTokens = tSmall, Bootstrap = 10 });
        var man = r.Summary.Manifest;
        Assert.Equal(3, r.Summary.NDocuments);
        Assert.Equal(1, man.SkippedDocuments[SkippedDocument.TooShort]);
        Assert.Equal(1, man.SkippedDocuments[SkippedDocument.TooFewForEstimators]);
        Assert.Equal(0, man.SkippedDocuments[SkippedDocument.MeasurementFailed]);
        Assert.Equal([3, 4], man.SkippedDocumentList.Select(d => d.Index));
        Assert.Contains("need 6", man.SkippedDocumentList[1].Detail);
        // Putting BOS back lowers the requirement to 5 rows: the 5-token document is measured.
        var withBos = Analysis.Run(m, corpus, new AnalysisSettings { MinDocumentTokens = tSmall, Bootstrap = 10, IncludeBos = true });
        Assert.Equal(4, withBos.Summary.NDocuments);
        Assert.Equal(0, withBos.Summary.Manifest.SkippedDocuments[SkippedDocument.TooFewForEstimators]);
    }

    /// <summary>
    /// On the CPU a document is measured inside its forward pass: one whose measurement fails there ("a a a …", one
    /// token 40 times: every embedding row after BOS the same, so block 0's input has no variance, found when the
    /// first window is measured, inside the pass) is skipped as measurement_failed, and the documents after it are
    /// measured exactly as in a corpus without it (the pass's kept buffers and the samples are left as a fresh run
    /// would find them).
    /// </summary>
    [Fact]
    public void ADocumentWhoseMeasurementFailsInsideThePassIsSkippedAndLeavesTheOthersAsTheyWere()
    {
        using var m = ModelLoader.Load(Stories);
        var tok = m.Tokenizer!;
        string repeated = string.Join(" ", Enumerable.Repeat("a", 40));
        var ids = tok.Encode(repeated, true);
        Assert.Single(ids.Skip(1).Distinct());   // after BOS, one token 40 times
        var stories = Stories3();
        var withIt = Analysis.Run(m, Corpus.FromFile(CorpusFile(stories[0], repeated, stories[1], stories[2]), tok, 256), new AnalysisSettings { Bootstrap = 10 });
        var without = Analysis.Run(m, Corpus.FromFile(CorpusFile(stories[0], stories[1], stories[2]), tok, 256), new AnalysisSettings { Bootstrap = 10 });
        var man = withIt.Summary.Manifest;
        Assert.Equal(3, withIt.Summary.NDocuments);
        Assert.Equal(1, man.SkippedDocuments[SkippedDocument.MeasurementFailed]);
        Assert.Equal([1], man.SkippedDocumentList.Select(d => d.Index));
        Assert.Equal(without.Summary.Signals.Keys.Order(), withIt.Summary.Signals.Keys.Order());
        foreach (var (name, values) in without.Summary.Signals) Assert.Equal(values, withIt.Summary.Signals[name]);
    }

    [Fact]
    public void FewerThanTwoUsableDocumentsIsAOneLineError()
    {
        using var m = ModelLoader.Load(Stories);
        var corpus = Corpus.FromFile(CorpusFile(Stories3()[0], "Hi.", "No."), m.Tokenizer!, 256);
        var e = Assert.Throws<MspgtException>(() => Analysis.Run(m, corpus, new AnalysisSettings { MinDocumentTokens = 2 }));
        Assert.Contains("only 1 usable document(s) of 3 (2 too_few_tokens_for_estimators)", e.Message);
        Assert.DoesNotContain('\n', e.ToErrorLine());
    }

    [Fact]
    public void FailuresInsideAParallelLoopAreUnwrapped()
    {
        var a = new MspgtException("two-nn", "b: dimension undefined");
        var b = new MspgtException("ksg-mi", "z: too few");
        Assert.Same(a, MspgtException.Behind(a));
        // Whatever order the threads finished in, the same one is reported.
        Assert.Same(b, MspgtException.Behind(new AggregateException(a, b)));
        Assert.Same(b, MspgtException.Behind(new AggregateException(b, new AggregateException(a))));
        // A bug is not a measurement failure: it must surface.
        Assert.Null(MspgtException.Behind(new AggregateException(a, new InvalidOperationException())));
        Assert.Null(MspgtException.Behind(new IndexOutOfRangeException()));
    }

    [Fact]
    public void TheConsoleMarksSaturatedLayersAsLowerBounds()
    {
        var sat = new Dictionary<string, SaturationReport> { [SignalNames.MiKsg] = new([4.29, 4.29], [0, 3], 10, "note") };
        Assert.Equal("4.1", AnalyzeCommand.FormatValue(sat, SignalNames.MiKsg, 0, 4.1));
        Assert.Equal("≥ 4.21 (saturated)", AnalyzeCommand.FormatValue(sat, SignalNames.MiKsg, 1, 4.2111));
        Assert.Equal("4.21", AnalyzeCommand.FormatValue(sat, SignalNames.MiGaussian, 1, 4.2111));
    }
}
