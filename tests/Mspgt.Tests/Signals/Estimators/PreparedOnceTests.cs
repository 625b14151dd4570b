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
        // 20 samples: layer 0's 4 features put the matrix in the feature form; widths above 20 keep the sample Gram
        // there, the others Xcᵀ; the pairs mix both forms.
        int[] widths = [4, 30, 10, 40, 12];
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
        // One layer per block (every later layer made again, its storage reused across widths only where sizes agree;
        // at this budget the sample form would cost less, so the feature form is asked for).
        var single = LinearCka.InForm(false, layers.Count, l => layers[l], budgetBytes: 1);
        Assert.Equal(m.Data.Select(BitConverter.DoubleToInt64Bits), single.Data.Select(BitConverter.DoubleToInt64Bits));
        // One width throughout (the analysis's pooled layers): the feature form where n is large against d (bit for
        // bit the pair's value), the sample form over the whole matrix below that (tr(Kx Ky) summed row by row instead
        // of ‖XcᵀYc‖²: the same value to rounding).
        foreach (int n in new[] { 60, 20 })
        {
            Assert.Equal(n == 20, LinearCka.SampleFormCheaper(4, n, 16));
            var same = Enumerable.Range(0, 4).Select(_ => Gaussian(n, 16, rng)).ToList();
            var ms = LinearCka.LayerMatrix(same);
            for (int i = 0; i < 4; i++)
                for (int j = i + 1; j < 4; j++)
                {
                    double pair = LinearCka.Compute(same[i], same[j]);
                    if (n == 60) Assert.Equal(BitConverter.DoubleToInt64Bits(pair), BitConverter.DoubleToInt64Bits(ms[i, j]));
                    else Assert.Equal(pair, ms[i, j], 1e-13);
                }
        }
    }

    [Fact]
    public void TheLayerMatrixTakesTheSampleFormWhereItsWholeArithmeticIsSmaller()
    {
        // 25 layers of 256 features (the 0.5B shape's pooled representations, 64 rows a document): 4, 16 and 32
        // documents take the sample form, 64 documents' 4,096 rows the feature form, where the default budget's bands
        // (32 rows at first) would make every layer 72 times.
        Assert.True(LinearCka.SampleFormCheaper(25, 256, 256));
        Assert.True(LinearCka.SampleFormCheaper(25, 1024, 256));
        Assert.True(LinearCka.SampleFormCheaper(25, 2048, 256));
        Assert.False(LinearCka.SampleFormCheaper(25, 3072, 256));   // 48 documents: measured 2.5-3.0 s against 2.35-2.44
        Assert.False(LinearCka.SampleFormCheaper(25, 4096, 256));
        // Bands start at 32 rows and grow as their rows shorten: at 4,096 rows about half of 4,096 / 32.
        var starts = LinearCka.BandStarts(25, 4096, LinearCka.DefaultBudget);
        Assert.Equal(32, starts[1]);
        Assert.True(starts[^1] - starts[^2] > 32 && starts.Length - 1 < 80, string.Join(",", starts));
        Assert.All(starts.SkipLast(1), r0 => Assert.Equal(0, r0 % 32));
        Assert.Equal([0, 1024], LinearCka.BandStarts(25, 1024, 1L << 30));   // all rows in one band
        // 2,048 rows drawn from a store of 65,536 (a subsample): each band makes the whole store's rows again.
        Assert.False(LinearCka.SampleFormCheaper(25, 2048, 256, gathered: 65_536));
        // Few rows against many features: the sample form even for one pair.
        Assert.True(LinearCka.SampleFormCheaper(2, 100, 256));
        Assert.False(LinearCka.SampleFormCheaper(2, 4096, 64));
    }

    [Theory]
    [InlineData(120, 16)]
    [InlineData(200, 24)]
    public void LayerMatrixInBlocksGivesTheOneBlockValuesAndRereadsLaterLayers(int samples, int width)
    {
        // The feature form (Xcᵀ kept, made again without its Gram) in blocks of 2 layers.
        var rng = new Random(samples);
        var layers = Enumerable.Range(0, 7).Select(_ => Gaussian(samples, width, rng)).ToList();
        for (int l = 1; l < layers.Count; l++)
            for (int k = 0; k < layers[l].Data.Length; k++) layers[l].Data[k] += 0.8 * layers[l - 1].Data[k];
        Assert.False(LinearCka.SampleFormCheaper(7, samples, width));
        var whole = LinearCka.LayerMatrix(layers);
        int reads = 0;
        long layerBytes = 8L * samples * width;   // Xcᵀ
        var blocked = LinearCka.InForm(false, layers.Count, l => { reads++; return layers[l]; }, budgetBytes: 2 * layerBytes);
        Assert.Equal(whole.Data.Select(BitConverter.DoubleToInt64Bits), blocked.Data.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(7 + 5 + 3 + 1, reads);   // blocks of 2: each block's layers, then every later layer again
        // The loader may fill one buffer every time: no layer keeps the matrix it was made from.
        var buffer = new DenseMatrix(samples, width);
        var reused = LinearCka.InForm(false, layers.Count, l => { layers[l].Data.CopyTo(buffer.Data, 0); return buffer; },
            budgetBytes: 2 * layerBytes);
        Assert.Equal(whole.Data.Select(BitConverter.DoubleToInt64Bits), reused.Data.Select(BitConverter.DoubleToInt64Bits));
    }
}
