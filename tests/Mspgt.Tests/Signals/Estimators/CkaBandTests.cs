using System.Numerics.Tensors;
using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using Mspgt.Tests.Numerics;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

/// <summary>
/// The layer × layer CKA matrix in the sample form, made a band of Gram rows at a time so that no layer's whole n × n
/// Gram is held: its values are those of the whole Grams summed row by row, bit for bit, whatever the band height
/// (the memory budget) and the thread count; and they are CKA's to rounding.
/// </summary>
[Collection(ParallelismCollection.Name)]
public sealed class CkaBandTests : IDisposable
{
    public void Dispose() => Parallelism.Set(null);

    private static List<DenseMatrix> Chain(int layers, int n, int d, int seed)
    {
        var rng = new Random(seed);
        var chain = Enumerable.Range(0, layers).Select(_ => Gaussian(n, d, rng)).ToList();
        for (int l = 1; l < layers; l++)
            for (int k = 0; k < chain[l].Data.Length; k++) chain[l].Data[k] += 0.8 * chain[l - 1].Data[k];
        return chain;
    }

    // The definition the bands must reproduce: each layer's whole centred sample Gram K, and per pair the sum over
    // rows i, in order, of Ka[i,i]·Kb[i,i] + 2·Σ_{j>i} Ka[i,j]·Kb[i,j] (= tr(Ka Kb)).
    private static DenseMatrix FromWholeGrams(IReadOnlyList<DenseMatrix> layers)
    {
        var grams = layers.Select(x => LinearAlgebra.SampleGram(LinearAlgebra.Center(x))).ToArray();
        int n = layers[0].Rows, L = layers.Count;
        double Sum(int a, int b)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += grams[a][i, i] * grams[b][i, i] + 2 * TensorPrimitives.Dot<double>(grams[a].Row(i)[(i + 1)..], grams[b].Row(i)[(i + 1)..]);
            return s;
        }
        var m = new DenseMatrix(L, L);
        for (int a = 0; a < L; a++)
            for (int b = a; b < L; b++)
                m[a, b] = m[b, a] = a == b ? 1 : Math.Clamp(Sum(a, b) / (Math.Sqrt(Sum(a, a)) * Math.Sqrt(Sum(b, b))), 0, 1);
        return m;
    }

    private static long[] Bits(DenseMatrix m) => m.Data.Select(BitConverter.DoubleToInt64Bits).ToArray();

    [Theory]
    [InlineData(40, 16)]     // the sample form by cost, one band
    [InlineData(100, 16)]    // at the small budget below, bands of 32, 32 and 36 rows
    [InlineData(70, 90)]     // wider than n
    public void BandsGiveTheWholeGramsSumsBitForBit(int n, int d)
    {
        var layers = Chain(7, n, d, n + d);
        var expected = Bits(FromWholeGrams(layers));
        int reads = 0;
        var oneBand = LinearCka.InForm(true, 7, l => { reads++; return layers[l]; });
        Assert.Equal(7, reads);
        Assert.Equal(expected, Bits(oneBand));
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++)
                Assert.Equal(i == j ? 1 : LinearCka.Compute(layers[i], layers[j]), oneBand[i, j], 1e-12);   // CKA, to rounding

        // Bands of 32 rows and more: every layer made again per band, into one buffer the loader fills each time.
        long budget = 8L * 32 * n * 7;
        var starts = LinearCka.BandStarts(7, n, budget);
        Assert.Equal(32, starts[1]);
        Assert.True(starts.Length >= 3);
        reads = 0;
        var buffer = new DenseMatrix(n, d);
        var banded = LinearCka.InForm(true, 7, l => { reads++; layers[l].Data.CopyTo(buffer.Data, 0); return buffer; }, budgetBytes: budget);
        Assert.Equal(7 * (starts.Length - 1), reads);
        Assert.Equal(expected, Bits(banded));

        foreach (int threads in new[] { 1, 3 })
        {
            Parallelism.Set(threads);
            Assert.Equal(expected, Bits(LinearCka.InForm(true, 7, l => layers[l])));
            Assert.Equal(expected, Bits(LinearCka.InForm(true, 7, l => layers[l], budgetBytes: budget)));
        }
    }

    [Fact]
    public void ASubsetOfRowsIsTheBandsOfTheSubset()
    {
        var layers = Chain(5, 300, 60, 9);
        var m = LinearCka.LayerMatrix(layers, maxSamples: 90, seed: 4);
        var rows = SeededSampling.Subset(300, 90, 4);
        Assert.True(LinearCka.SampleFormCheaper(5, 90, 60, gathered: 300));
        Assert.Equal(Bits(FromWholeGrams(layers.Select(x => x.SelectRows(rows)).ToList())), Bits(m));
    }

    [Theory]
    [InlineData(40, 16)]    // the sample form
    [InlineData(600, 20)]   // the feature form
    public void TheCheaperFormIsTakenByDefault(int n, int d)
    {
        // Where the sample form costs less, the matrix is the bands' bit for bit; where it does not, each pair's
        // feature-form value bit for bit; either way CKA to rounding.
        var layers = Chain(6, n, d, 17);
        var m = LinearCka.LayerMatrix(layers);
        Assert.Equal(n == 40, LinearCka.SampleFormCheaper(6, n, d));
        var expected = LinearCka.SampleFormCheaper(6, n, d) ? FromWholeGrams(layers) : LinearCka.InForm(false, 6, l => layers[l]);
        Assert.Equal(Bits(expected), Bits(m));
        for (int i = 0; i < 6; i++)
            for (int j = i + 1; j < 6; j++) Assert.Equal(LinearCka.Compute(layers[i], layers[j]), m[i, j], 1e-12);
    }

    [Fact]
    public void BadLayersAreNamed()
    {
        var rng = new Random(3);
        // 10 samples of 30 features: the sample form.
        Assert.Throws<MspgtException>(() => LinearCka.LayerMatrix(new[] { Gaussian(10, 30, rng), Gaussian(12, 30, rng) }));
        var flat = new DenseMatrix(10, 30);
        var e = Assert.Throws<MspgtException>(() => LinearCka.LayerMatrix(new[] { Gaussian(10, 30, rng), flat }));
        Assert.Contains("representation 1 has zero variance", e.Message);
        var nan = Gaussian(10, 30, rng);
        nan[4, 7] = double.NaN;
        Assert.Throws<MspgtException>(() => LinearCka.LayerMatrix(new[] { Gaussian(10, 30, rng), nan }));
    }
}
