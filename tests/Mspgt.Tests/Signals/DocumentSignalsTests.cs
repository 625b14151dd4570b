using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals;

public class DocumentSignalsTests
{
    /// <summary>resid_pre (T × 64 Gaussian) and resid_post = pre·A + noise, optionally with an attention-sink row 0 of 100× norm.</summary>
    private static (DenseMatrix Pre, DenseMatrix Post) Block(int T, bool sink, int seed)
    {
        var rng = new Random(seed);
        var pre = Gaussian(T, 64, rng);
        var post = Multiply(pre, Invertible(64, rng));
        var noise = Gaussian(T, 64, rng);
        for (int i = 0; i < post.Data.Length; i++) post.Data[i] += 0.5 * noise.Data[i];
        if (sink)
            foreach (var m in new[] { pre, post })
            {
                double norm = 0, mean = 0;
                for (int r = 1; r < T; r++) { double s = 0; foreach (double v in m.Row(r)) s += v * v; mean += Math.Sqrt(s) / (T - 1); }
                foreach (double v in m.Row(0)) norm += v * v;
                double scale = 100 * mean / Math.Sqrt(norm);
                for (int j = 0; j < 64; j++) m[0, j] *= scale;
            }
        return (pre, post);
    }

    private static DenseMatrix Rest(DenseMatrix m) => m.SelectRows(Enumerable.Range(1, m.Rows - 1).ToArray());

    [Fact]
    public void AnAttentionSinkRowAtPositionZeroChangesNothingWhileBosIsLeftOut()
    {
        var (pre, post) = Block(257, sink: true, seed: 1);
        var excluded = DocumentSignals.MeasureRepresentations(pre, post, new SignalSettings(), layer: 2);
        // The same block without that row at all (nothing left out) gives bit-identical values.
        var without = DocumentSignals.MeasureRepresentations(Rest(pre), Rest(post), new SignalSettings { IncludeBos = true }, layer: 2);
        Assert.Equal(without.EffectiveRank, excluded.EffectiveRank);
        Assert.Equal(without.Cka, excluded.Cka);
        Assert.Equal(without.TwoNn, excluded.TwoNn);
        Assert.Equal(without.Ksg.Nats, excluded.Ksg.Nats);
        Assert.Equal(256, excluded.Ksg.Samples);
        // Putting it back: the one 100×-norm row dominates (effective rank falls from about 60 to below 20).
        var included = DocumentSignals.MeasureRepresentations(pre, post, new SignalSettings { IncludeBos = true }, layer: 2);
        Assert.InRange(excluded.EffectiveRank, 50, 64);
        Assert.True(included.EffectiveRank < 0.35 * excluded.EffectiveRank, $"{included.EffectiveRank:F1} vs {excluded.EffectiveRank:F1}");
        Assert.NotEqual(excluded.Cka, included.Cka);
    }

    [Fact]
    public void TheMiSampleLeavesOutPositionZeroUnlessAsked()
    {
        using var m = ModelLoader.Load(TestData.Path("models", "stories260K", "stories260K.bin"));
        var tf = new Transformer(m.Config, m.Weights);
        int[] ids = m.Tokenizer!.Encode("Once upon a time there was a little girl named Lily. She liked to play in the park with her dog.", addBos: true);
        var signals = new DocumentSignals(tf, new SignalSettings());
        Assert.Equal(6, signals.MinimumTokens);   // KSG needs k + 2 = 5 rows, plus the left-out position 0
        var r = signals.Measure(ids);
        Assert.Equal(Enumerable.Range(1, ids.Length - 1), r.MiPositions);
        Assert.Equal(m.Config.Layers + 1, r.MiRows.Count);
        Assert.Equal((ids.Length - 1) * m.Config.Dim, r.MiRows[0].Length);
        Assert.Equal(ids.Length - 1, r.Ksg[0].Samples);
        // Pooled quantities are left for the corpus stage.
        Assert.True(double.IsNaN(r.Values[0, DocumentSignals.MiGaussianColumn]));
        var withBos = new DocumentSignals(tf, new SignalSettings { IncludeBos = true });
        Assert.Equal(5, withBos.MinimumTokens);
        var b = withBos.Measure(ids);
        Assert.Equal(Enumerable.Range(0, ids.Length), b.MiPositions);
        Assert.Equal(r.Positions, b.Positions);   // the probes never use position 0
        Assert.Contains("too few", Assert.Throws<MspgtException>(() => signals.Measure(ids[..5])).Message);
    }
}
