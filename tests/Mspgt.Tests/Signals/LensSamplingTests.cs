using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Tests.Signals;

/// <summary>
/// The logit lens on a sample of positions: sized so the lens costs at most half the forward pass, and its lens_kl and
/// lens_entropy within the stated standard error (sd/√n·√(1 − n/T), sd over every position) of the exact values
/// that --exact-lens gives, on documents where the sample is a fraction of the positions.
/// </summary>
public class LensSamplingTests
{
    // A vocabulary large against the model (as real models' 150k against dim 896): the lens budget binds.
    private static ModelConfig Config() => new()
    {
        Architecture = Architecture.Llama, Dim = 64, Layers = 3, Heads = 4, KvHeads = 2, HeadDim = 16,
        Ffn = 128, Vocab = 4000, MaxSeq = 256, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    [Fact]
    public void TheSampleCostsAtMostTheForwardPassAndExactReadsEveryPosition()
    {
        var c = Config();
        var s = new SignalSettings();
        int n = DocumentSignals.LensSampleSize(c, 150, s);
        // This vocabulary is so large against the model that even the fewest positions exceed the budget.
        Assert.Equal(DocumentSignals.MinimumLensPositions, n);
        // The 110M shape at 256 tokens: the budget binds between the floor and the cap.
        var big = Mspgt.Loading.SyntheticModel.Preset("110m");
        int nb = DocumentSignals.LensSampleSize(big, 256, s);
        Assert.InRange(nb, DocumentSignals.MinimumLensPositions + 1, s.LensPositions - 1);
        foreach (var (cfg, tokens, positions) in new[] { (big, 256, nb), (big, 256, nb + 1) })
        {
            double q = cfg.Heads * cfg.HeadDim, kv = cfg.KvHeads * cfg.HeadDim;
            double forward = tokens * cfg.Layers * (cfg.Dim * (2 * q + 2 * kv) + 3.0 * cfg.Dim * cfg.Ffn);
            double lens = positions * (cfg.Layers + 1.0) * cfg.Vocab * cfg.Dim;
            Assert.Equal(positions == nb, lens <= DocumentSignals.LensShareOfForward * forward);
        }
        Assert.Equal(150, DocumentSignals.LensSampleSize(c, 150, s with { ExactLens = true }));
        Assert.Equal(6, DocumentSignals.LensSampleSize(c, 6, s));   // shorter than the floor: every position
        Assert.Equal(DocumentSignals.MinimumLensPositions, DocumentSignals.LensSampleSize(c, 10, s));
    }

    [Fact]
    public void SampledLensIsWithinItsStandardErrorOfTheExactOne()
    {
        using var m = SyntheticModel.Build(Config(), seed: 5);
        var tf = new Transformer(m.Config, m.Weights);
        var lens = new LogitLens(m.Config, m.Weights);
        int L = m.Config.Layers, d = m.Config.Dim, V = m.Config.Vocab, T = 150;
        int kl = Array.IndexOf(DocumentSignals.PerDocumentSignals, SignalNames.LensKl);
        int ent = Array.IndexOf(DocumentSignals.PerDocumentSignals, SignalNames.LensEntropy);
        int n = DocumentSignals.LensSampleSize(m.Config, T, new SignalSettings());
        Assert.True(n < T / 2, $"sample {n} of {T}");
        int differ = 0;
        for (int seed = 0; seed < 4; seed++)
        {
            var rng = new Random(100 + seed);
            var ids = Enumerable.Range(0, T).Select(_ => rng.Next(V)).ToArray();
            var sampled = new DocumentSignals(tf, new SignalSettings { Seed = seed }).Measure(ids).Values;
            var exact = new DocumentSignals(tf, new SignalSettings { Seed = seed, ExactLens = true }).Measure(ids).Values;
            // Per-position values over every position, for the spread the standard error is stated in.
            var points = Enumerable.Range(0, L).Select(HookPoint.ResidPost).ToArray();
            var (_, cache) = tf.RunWithCache(ids, points, new Hooks(), LogitRows.None);
            var final = lens.LogProbs(cache[points[L - 1]].Data, T);
            for (int l = 0; l < L; l++)
            {
                var (klRows, entRows) = LogitLens.CompareRows(final, lens.LogProbs(cache[points[l]].Data, T), T, V);
                Assert.Equal(klRows.Average(), exact[l, kl], 9);
                Assert.Equal(entRows.Average(), exact[l, ent], 9);
                foreach (var (col, rows) in new[] { (kl, klRows), (ent, entRows) })
                {
                    double mean = rows.Average(), sd = Math.Sqrt(rows.Sum(v => (v - mean) * (v - mean)) / (T - 1));
                    double se = sd / Math.Sqrt(n) * Math.Sqrt(1 - (double)n / T);
                    Assert.True(Math.Abs(sampled[l, col] - exact[l, col]) <= 4 * se + 1e-12,
                        $"seed {seed} layer {l} column {col}: sampled {sampled[l, col]} exact {exact[l, col]} se {se}");
                    if (sampled[l, col] != exact[l, col]) differ++;
                }
            }
        }
        Assert.True(differ > 0, "the sample never differed from the exact values: it was not a sample");
    }

    /// <summary>
    /// The one-pass lens over vocabulary slices (running max, rescaled sums) equals the per-layer log-softmax and
    /// KL/entropy of <see cref="LogitLens.Compare"/>, whether the vocabulary is one slice or many (512 or 500 entries:
    /// 8 or 9 slices, the max moving between them), and is 0 KL for the final layer against itself.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(512)]
    [InlineData(500)]   // not a multiple of the vector width: every slice ends in the scalar tail
    public void OnePassLensEqualsThePerLayerLogSoftmax(int slice)
    {
        using var m = SyntheticModel.Build(Config(), seed: 9);
        var tf = new Transformer(m.Config, m.Weights);
        var lens = new LogitLens(m.Config, m.Weights);
        int L = m.Config.Layers, V = m.Config.Vocab, T = 40;
        var rng = new Random(3);
        var ids = Enumerable.Range(0, T).Select(_ => rng.Next(V)).ToArray();
        var points = Enumerable.Range(0, L).Select(HookPoint.ResidPost).ToArray();
        var (_, cache) = tf.RunWithCache(ids, points, new Hooks(), LogitRows.None);
        var rows = points.Select(p => cache[p].Data).ToArray();
        var onePass = lens.MeasureLayers(rows, T, slice);
        var final = lens.LogProbs(rows[L - 1], T);
        for (int l = 0; l < L; l++)
        {
            var (kl, ent) = LogitLens.Compare(final, lens.LogProbs(rows[l], T), T, V);
            Assert.Equal(kl, onePass[l].Kl, 9);
            Assert.Equal(ent, onePass[l].Entropy, 9);
        }
        Assert.Equal(0, onePass[L - 1].Kl);
        Assert.True(onePass[0].Kl > 0.01, $"layer 0 KL {onePass[0].Kl}");
    }

    [Fact]
    public void AnalyzeTakesTheMostPositionsFromTheCommandLine()
    {
        // stories260K's 512-token vocabulary leaves the budget far above 9: the cap decides, and the summary says so.
        string[] args = ["analyze", "-q", "--model", Mspgt.Tests.TestData.Path("models", "stories260K", "stories260K.bin"),
            "--corpus", Mspgt.Tests.TestData.Path("corpora", "tinystories-sample", "stories.jsonl"), "--max-tokens", "64",
            "--bootstrap", "10", "--null-replicates", "20", "--json"];
        string Note(params string[] extra)
        {
            var (code, output, err) = Mspgt.Tests.Cli.CliHarness.Run([.. args, .. extra]);
            Assert.True(code == 0, err);
            using var doc = System.Text.Json.JsonDocument.Parse(output);
            return doc.RootElement.GetProperty("manifest").GetProperty("sampling").GetProperty("lens_kl,lens_entropy").GetString()!;
        }
        Assert.StartsWith("sampled: 9 evenly spaced positions per document", Note("--lens-positions", "9"));
        Assert.Contains("(at most 9,", Note("--lens-positions", "9"));
        Assert.Contains("(at most 64,", Note());
    }
}
