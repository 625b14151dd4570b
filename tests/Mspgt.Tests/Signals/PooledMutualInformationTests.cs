using Mspgt.Numerics;
using Mspgt.Signals;
using Mspgt.Signals.Estimators;
using Mspgt.Tests.Numerics;

namespace Mspgt.Tests.Signals;

[Collection(ParallelismCollection.Name)]
public sealed class PooledMutualInformationTests : IDisposable
{
    public void Dispose() => Parallelism.Set(null);

    // 1, 2 and 3 threads fit the 4 representations in windows of 1, 2 and 3 (the last window then holds 1 or 2).
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void StreamedFromTheSampleStoreItGivesTheWholeMatrixEstimateBitForBit(int threads)
    {
        Parallelism.Set(threads);
        // 5 documents of different sizes (the Gram slabs of 512 rows then cross document boundaries), 3 blocks of a
        // residual-like chain of 12 dimensions with a mean far from 0; the rows live in an on-disk sample store.
        var rng = new Random(11);
        int[] sizes = [130, 240, 97, 300, 180];
        const int dims = 12, layers = 3, components = 4;
        var reps = sizes.Select(n =>
        {
            var chain = new float[layers + 1][];
            chain[0] = Enumerable.Range(0, n * dims).Select(_ => (float)(rng.NextDouble() * 2 + 5)).ToArray();
            for (int r = 1; r <= layers; r++)
                chain[r] = chain[r - 1].Select(v => (float)(0.8 * v + 0.5 * (rng.NextDouble() - 0.5))).ToArray();
            return chain;
        }).ToArray();
        using var store = SampleStore.OnDisk();
        var docs = Stored(store, sizes, reps, layers);

        var blocks = PooledMutualInformation.Fill(docs, layers, dims, components);

        var estimator = new PooledGaussianMutualInformation { Components = components };
        List<DenseMatrix> Groups(int r) => sizes.Select((n, d) => DenseMatrix.FromFloats(reps[d][r], n, dims)).ToList();
        for (int l = 0; l < layers; l++)
        {
            var whole = estimator.Estimate(Groups(l), Groups(l + 1));
            Assert.Equal(BitConverter.DoubleToInt64Bits(whole.Nats), BitConverter.DoubleToInt64Bits(blocks[l].Nats));
            Assert.Equal(BitConverter.DoubleToInt64Bits(whole.StandardError), BitConverter.DoubleToInt64Bits(blocks[l].StandardError));
            for (int d = 0; d < sizes.Length; d++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(whole.PseudoValues[d]),
                    BitConverter.DoubleToInt64Bits(docs[d].Values[l, DocumentSignals.MiGaussianColumn]));
            Assert.True(whole.Nats > 0.5);   // strongly dependent neighbours: not a vacuous comparison
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]   // windows {0, 1}, {2, 3}, {4}: both failures in one window
    [InlineData(4)]
    public void TheFirstRepresentationWithANonFiniteValueIsTheOneReportedWhateverTheWindow(int threads)
    {
        // Representations 2 and 3 of document 1 both hold a NaN: representation 2 is named, as the serial loop met it.
        Parallelism.Set(threads);
        int[] sizes = [40, 50, 60];
        const int dims = 6, layers = 4;
        var rng = new Random(5);
        var reps = sizes.Select(n => Enumerable.Range(0, layers + 1)
            .Select(_ => Enumerable.Range(0, n * dims).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray()).ToArray();
        reps[1][2][7] = float.NaN;
        reps[1][3][1] = float.NaN;
        using var store = SampleStore.OnDisk();
        var e = Assert.Throws<MspgtException>(() => PooledMutualInformation.Fill(Stored(store, sizes, reps, layers), layers, dims, 2));
        Assert.Equal("mi_gaussian", e.Source);
        Assert.Contains("document 1's sampled row 1 of representation 2 has a NaN", e.Message);
    }

    private static List<DocumentMeasurement> Stored(SampleStore store, int[] sizes, float[][][] reps, int layers) =>
        sizes.Select((n, d) =>
        {
            var rows = store.NewRows(layers + 1);
            for (int r = 0; r <= layers; r++) rows.Put(r, reps[d][r]);
            return new DocumentMeasurement
            {
                Values = new double[layers, DocumentSignals.PerDocumentSignals.Length],
                Positions = [], Pooled = [], MiPositions = new int[n], MiRows = rows, Ksg = [],
            };
        }).ToList();
}
