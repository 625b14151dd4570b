using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

/// <summary>
/// Work made once per representation instead of once per use (KSG scores, PCA scores of the fit's own centred
/// samples, the CKA matrix's per-layer forms) gives the values of the per-use computation, bit for bit.
/// </summary>
public class PreparedOnceTests
{
    [Theory]
    [InlineData(120, 300)]
    [InlineData(200, 24)]
    public void KsgFromScoresIsTheEstimateFromRows(int n, int d)
    {
        var rng = new Random(n + d);
        var x = Gaussian(n, d, rng);
        var y = Gaussian(n, d, rng);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = 0.7 * x.Data[i] + 0.3 * y.Data[i];
        var ksg = new KsgMutualInformation { Seed = 5 };
        var (gx, gy) = (CenteredGram.Of(x), CenteredGram.Of(y));
        var (fx, fy) = (PrincipalComponents.Fit(gx, ksg.Components), PrincipalComponents.Fit(gy, ksg.Components));
        var zx = fx.ProjectCentered(gx.Centered!, whiten: true);
        var zy = fy.ProjectCentered(gy.Centered!, whiten: true);
        Assert.Equal(fx.Project(x, whiten: true).Data, zx.Data);
        var before = (double[])zx.Data.Clone();
        var fromScores = ksg.EstimateFromScores(zx, zy);
        Assert.Equal(ksg.Estimate(x, y), fromScores);
        Assert.Equal(ksg.Estimate(x, y, fx, fy), fromScores);
        Assert.Equal(before, zx.Data);   // the shared scores are left as they were
        Assert.Throws<MspgtException>(() => ksg.EstimateFromScores(zx, zy.SelectRows([0, 1, 2])));
    }

    [Fact]
    public void LayerMatrixGivesEveryPairsValueInEitherFormAndReadsEachLayerOnce()
    {
        var rng = new Random(7);
        // 20 samples: widths above 20 keep the sample Gram, the others Xcᵀ; the pairs mix both forms.
        int[] widths = [30, 10, 10, 40, 12];
        var layers = widths.Select(w => Gaussian(20, w, rng)).ToList();
        for (int l = 1; l < layers.Count; l++)
            for (int i = 0; i < 20; i++)
                for (int j = 0; j < Math.Min(widths[l], widths[l - 1]); j++) layers[l][i, j] += layers[l - 1][i, j];
        int reads = 0;
        var m = LinearCka.LayerMatrix(layers.Count, l => { reads++; return layers[l]; });
        Assert.Equal(layers.Count, reads);
        for (int i = 0; i < layers.Count; i++)
            for (int j = 0; j < layers.Count; j++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(i == j ? 1 : LinearCka.Compute(layers[Math.Min(i, j)], layers[Math.Max(i, j)])),
                    BitConverter.DoubleToInt64Bits(m[i, j]));   // each pair is computed once, the earlier layer first
        // One layer per block (every later layer made again, its storage reused across widths only where sizes agree).
        var single = LinearCka.LayerMatrix(layers.Count, l => layers[l], budgetBytes: 1);
        Assert.Equal(m.Data.Select(BitConverter.DoubleToInt64Bits), single.Data.Select(BitConverter.DoubleToInt64Bits));
        // One width throughout (the analysis's pooled layers): each layer keeps only its own form.
        var same = Enumerable.Range(0, 4).Select(_ => Gaussian(30, 16, rng)).ToList();
        var ms = LinearCka.LayerMatrix(same);
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(LinearCka.Compute(same[i], same[j])), BitConverter.DoubleToInt64Bits(ms[i, j]));
    }

    [Theory]
    [InlineData(40, 16)]   // feature form: Xcᵀ kept, made again without its Gram
    [InlineData(12, 16)]   // sample form: Gram and Xc kept
    public void LayerMatrixInBlocksGivesTheOneBlockValuesAndRereadsLaterLayers(int samples, int width)
    {
        var rng = new Random(samples);
        var layers = Enumerable.Range(0, 7).Select(_ => Gaussian(samples, width, rng)).ToList();
        for (int l = 1; l < layers.Count; l++)
            for (int k = 0; k < layers[l].Data.Length; k++) layers[l].Data[k] += 0.8 * layers[l - 1].Data[k];
        var whole = LinearCka.LayerMatrix(layers);
        int reads = 0;
        long layerBytes = 8L * samples * width + (samples < width ? 8L * samples * samples : 0);   // Xcᵀ, or Xc and its Gram
        var blocked = LinearCka.LayerMatrix(layers.Count, l => { reads++; return layers[l]; }, budgetBytes: 2 * layerBytes);
        Assert.Equal(whole.Data.Select(BitConverter.DoubleToInt64Bits), blocked.Data.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(7 + 5 + 3 + 1, reads);   // blocks of 2: each block's layers, then every later layer again
        // The loader may fill one buffer every time: no layer keeps the matrix it was made from.
        var buffer = new DenseMatrix(samples, width);
        var reused = LinearCka.LayerMatrix(layers.Count, l => { layers[l].Data.CopyTo(buffer.Data, 0); return buffer; },
            budgetBytes: 2 * layerBytes);
        Assert.Equal(whole.Data.Select(BitConverter.DoubleToInt64Bits), reused.Data.Select(BitConverter.DoubleToInt64Bits));
    }
}
