using Mspgt.Numerics;
using Mspgt.Signals;
using Mspgt.Signals.Estimators;

namespace Mspgt.Tests.Signals;

public class PooledMutualInformationTests
{
    [Fact]
    public void StreamedFromTheSampleStoreItGivesTheWholeMatrixEstimateBitForBit()
    {
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
        var docs = sizes.Select((n, d) =>
        {
            var rows = store.NewRows(layers + 1);
            for (int r = 0; r <= layers; r++) rows.Put(r, reps[d][r]);
            return new DocumentMeasurement
            {
                Values = new double[layers, DocumentSignals.PerDocumentSignals.Length],
                Positions = [], Pooled = [], MiPositions = new int[n], MiRows = rows, Ksg = [],
            };
        }).ToList();

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
}
