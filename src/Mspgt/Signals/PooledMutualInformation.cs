using Mspgt.Numerics;
using Mspgt.Signals.Estimators;

namespace Mspgt.Signals;

/// <summary>The pooled Gaussian MI of one block: the estimate on all documents' tokens and its jackknife standard error.</summary>
public sealed record PooledMiBlock(double Nats, double StandardError, int ComponentsX, int ComponentsY, int Samples);

/// <summary>
/// The corpus-level stage of mi_gaussian: once every document is measured, each block's I(resid_pre; resid_post) is
/// estimated on the tokens pooled over documents (<see cref="PooledGaussianMutualInformation"/>, principal components
/// fitted per representation on the pooled tokens and shared by the two blocks that read it), and each document
/// receives its jackknife pseudo-value, so the document bootstrap sees the between-document spread. mi_delta is then
/// the first difference over blocks of each document's pseudo-values.
/// </summary>
public static class PooledMutualInformation
{
    private const string Source = "mi_gaussian";

    /// <summary>Fills the mi_gaussian and mi_delta columns of every document's values; returns one entry per block.</summary>
    public static PooledMiBlock[] Fill(IReadOnlyList<DocumentMeasurement> docs, int layers, int dims, int pcaDims)
    {
        int D = docs.Count;
        var sizes = docs.Select(m => m.MiPositions.Length).ToArray();
        var estimator = new PooledGaussianMutualInformation { Components = pcaDims };
        int k = estimator.ComponentsFor(sizes);
        if (k < 1)
            throw new MspgtException(Source, $"{sizes.Sum()} sampled tokens in {D} documents are too few: leaving out the largest document must leave at least 4");

        var scores = new List<DenseMatrix>[layers + 1];
        Parallel.For(0, layers + 1, Mspgt.Numerics.Parallelism.Options, r =>
        {
            // Each document's rows are read once (from the sample store) into the pooled matrix.
            var all = new DenseMatrix(sizes.Sum(), dims);
            int row = 0;
            for (int d = 0; d < D; d++)
            {
                var rows = docs[d].MiRows[r];
                for (int i = 0; i < rows.Length; i++) all.Data[row * dims + i] = rows[i];
                row += sizes[d];
            }
            // Centred in place (the pooled rows are not read again), and each document's scores projected from its
            // own block of the centred matrix: the values Project would subtract its way to, without two more copies.
            var g = CenteredGram.Of(all, Source, centeredInto: all.Data);
            var pca = PrincipalComponents.Fit(g, k, Source);
            var own = new List<DenseMatrix>(D);
            row = 0;
            for (int d = 0; d < D; d++)
            {
                own.Add(pca.ProjectCentered(new DenseMatrix(sizes[d], dims, all.Data.AsSpan(row * dims, sizes[d] * dims).ToArray()), whiten: true));
                row += sizes[d];
            }
            Garbage.Sweep();   // this representation's pooled matrix and its transpose (tens of MB at 64 documents)
            scores[r] = own;
        });

        var blocks = new PooledMiBlock[layers];
        Parallel.For(0, layers, Mspgt.Numerics.Parallelism.Options, l =>
        {
            var r = estimator.EstimateFromScores(scores[l], scores[l + 1]);
            for (int d = 0; d < D; d++) docs[d].Values[l, DocumentSignals.MiGaussianColumn] = r.PseudoValues[d];
            blocks[l] = new PooledMiBlock(r.Nats, r.StandardError, r.ComponentsX, r.ComponentsY, r.Samples);
        });
        foreach (var m in docs)
            for (int l = 0; l < layers; l++)
                m.Values[l, DocumentSignals.MiDeltaColumn] = l == 0 ? 0
                    : m.Values[l, DocumentSignals.MiGaussianColumn] - m.Values[l - 1, DocumentSignals.MiGaussianColumn];
        return blocks;
    }
}
