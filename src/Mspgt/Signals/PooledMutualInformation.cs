using System.Runtime.ExceptionServices;
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

        int n = sizes.Sum();
        var blocks = new PooledMiBlock[layers];
        // The representations are fitted and projected a window at a time, one per thread (each fit's eigen-
        // decomposition runs on one thread; serially, the second core waited through 25 of them), and each block
        // estimated, in order, as soon as both its sides are projected: a window's scores are held, not all 25.
        // Every representation's values are computed exactly as alone, so nothing depends on the window.
        int window = Math.Max(1, Parallelism.Threads);
        var scores = new List<DenseMatrix>?[layers + 1];
        var failures = new ExceptionDispatchInfo?[layers + 1];
        for (int r0 = 0; r0 <= layers; r0 += window)
        {
            int r1 = Math.Min(layers + 1, r0 + window);
            Parallel.For(r0, r1, Parallelism.Options, r =>
            {
                try { scores[r] = Scores(r); }
                catch (MspgtException e) { failures[r] = ExceptionDispatchInfo.Capture(e); }
            });
            for (int r = r0; r < r1; r++)
            {
                failures[r]?.Throw();   // the first representation that failed, as the serial loop met it
                // Block r − 1 reads representations r − 1 and r.
                if (r == 0) continue;
                var e = estimator.EstimateFromScores(scores[r - 1]!, scores[r]!);
                for (int d = 0; d < D; d++) docs[d].Values[r - 1, DocumentSignals.MiGaussianColumn] = e.PseudoValues[d];
                blocks[r - 1] = new PooledMiBlock(e.Nats, e.StandardError, e.ComponentsX, e.ComponentsY, e.Samples);
                scores[r - 1] = null;
            }
            Garbage.Sweep();   // the window's Grams, eigen-decompositions and product buffers (large objects)
        }

        // One representation's whitened principal-component scores per document. Its pooled rows (16,384 × 256 at 64
        // documents of the 0.5B shape, 32 MB as float64) are never held together: the column means in one pass over
        // the documents' stored rows, the Gram matrix of the centred rows a slab of 512 at a time in a second, and each
        // document's scores from its own centred rows in a third. Reads come from the sample store (the page cache,
        // for a few documents memory); every value is the one the whole pooled matrix would give (CenteredGram, PCA,
        // projection), bit for bit.
        List<DenseMatrix> Scores(int r)
        {
            var read = new float[sizes.Max() * dims];
            float[] Read(int d)
            {
                SampleRows.CopyTo(docs[d].MiRows, r, read.AsSpan(0, sizes[d] * dims));
                return read;
            }
            var mean = new double[dims];
            for (int d = 0; d < D; d++)
            {
                var rows = Read(d);
                for (int i = 0; i < sizes[d]; i++)
                    for (int j = 0; j < dims; j++)
                    {
                        double v = rows[i * dims + j];
                        if (!double.IsFinite(v))
                            throw new MspgtException(Source, $"document {d}'s sampled row {i} of representation {r} has a NaN or infinite value at column {j}");
                        mean[j] += v;   // LinearAlgebra.ColumnMeans: rows added in order, then divided
                    }
            }
            for (int j = 0; j < dims; j++) mean[j] /= n;

            int doc = 0, within = 0;   // the next pooled row: row `within` of document `doc`
            var current = Read(0);
            var gram = LinearAlgebra.FeatureGram(n, dims, (t0, tl, dst) =>
            {
                for (int t = 0; t < tl; t++)
                {
                    if (within == sizes[doc]) { doc++; within = 0; current = Read(doc); }
                    for (int j = 0; j < dims; j++) dst[j * tl + t] = current[within * dims + j] - mean[j];
                    within++;
                }
            });
            var pca = PrincipalComponents.Fit(CenteredGram.FromFeatureGram(n, mean, gram), k, Source);
            var own = new List<DenseMatrix>(D);
            var rowsOf = new Dictionary<int, double[]>();   // a document's centred rows, one buffer per size
            for (int d = 0; d < D; d++)
            {
                var rows = Read(d);
                if (!rowsOf.TryGetValue(sizes[d], out var xc)) rowsOf[sizes[d]] = xc = new double[sizes[d] * dims];
                for (int i = 0; i < sizes[d]; i++)
                    for (int j = 0; j < dims; j++) xc[i * dims + j] = rows[i * dims + j] - mean[j];
                own.Add(pca.ProjectCentered(new DenseMatrix(sizes[d], dims, xc), whiten: true));
            }
            return own;
        }

        foreach (var m in docs)
            for (int l = 0; l < layers; l++)
                m.Values[l, DocumentSignals.MiDeltaColumn] = l == 0 ? 0
                    : m.Values[l, DocumentSignals.MiGaussianColumn] - m.Values[l - 1, DocumentSignals.MiGaussianColumn];
        return blocks;
    }
}
