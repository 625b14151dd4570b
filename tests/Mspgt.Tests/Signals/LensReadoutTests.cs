using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Tests.Signals;

/// <summary>The lens kept as float logits with a log-sum-exp per row gives bit for bit what the float64
/// log-probability arrays gave (analyze's lens_kl and lens_entropy did not move when it stopped holding them).</summary>
public class LensReadoutTests
{
    [Fact]
    public void FloatLogitsGiveTheLogProbabilityArraysResultsExactly()
    {
        var c = new ModelConfig
        {
            Architecture = Architecture.Llama, Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16,
            Ffn = 128, Vocab = 3000, MaxSeq = 64, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
        };
        using var m = SyntheticModel.Build(c, seed: 3);
        var tf = new Transformer(m.Config, m.Weights);
        var lens = new LogitLens(m.Config, m.Weights);
        var ids = Enumerable.Range(0, 20).Select(i => (i * 37 + 5) % c.Vocab).ToArray();
        var points = new[] { HookPoint.ResidPost(0), HookPoint.ResidPost(1) };
        var (_, cache) = tf.RunWithCache(ids, points, new Hooks(), LogitRows.None);
        var (early, late) = (cache[points[0]].Data, cache[points[1]].Data);

        var (klOld, entOld) = LogitLens.CompareRows(lens.LogProbs(late, 20), lens.LogProbs(early, 20), 20, c.Vocab);
        var final = lens.Read(late, 20);
        var (klNew, entNew) = LogitLens.CompareRows(final, lens.Read(early, 20));
        Assert.Equal(klOld, klNew);
        Assert.Equal(entOld, entNew);
        Assert.True(klNew.All(k => k > 0));
        var (kl, ent) = lens.CompareLayer(final, early, new float[20 * c.Vocab]);
        Assert.Equal(klOld.Sum() / 20, kl);
        Assert.Equal(entOld.Sum() / 20, ent);
    }
}
