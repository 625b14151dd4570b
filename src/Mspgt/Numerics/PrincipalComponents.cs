using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>
/// Principal components of a sample matrix (n samples × d features): the top eigenvectors of the sample covariance
/// (divided by n−1). Uses the d×d covariance when d ≤ n and the n×n Gram matrix otherwise, so a few samples of a
/// wide representation stay cheap. Directions whose variance is below 1e-10 of the largest are treated as absent
/// (numerical rank), so <see cref="Count"/> can be smaller than asked for.
/// </summary>
public sealed class PrincipalComponents
{
    /// <summary>Relative variance below which a direction counts as zero (float32 round-off is far below this).</summary>
    public const double RelativeRankTolerance = 1e-10;

    /// <summary>Column means of the fitted data (length d).</summary>
    public double[] Mean { get; }

    /// <summary>Unit-length principal directions as columns (d × Count), largest variance first.</summary>
    public DenseMatrix Directions { get; }

    /// <summary>Variance along each direction (sample variance, n−1), largest first.</summary>
    public double[] Variances { get; }

    /// <summary>Total variance (trace of the covariance) of the fitted data.</summary>
    public double TotalVariance { get; }

    public int Count => Variances.Length;

    private PrincipalComponents(double[] mean, DenseMatrix directions, double[] variances, double total)
    {
        Mean = mean;
        Directions = directions;
        Variances = variances;
        TotalVariance = total;
    }

    /// <summary>Fits at most <paramref name="maxComponents"/> components to <paramref name="x"/> (needs n ≥ 2).</summary>
    public static PrincipalComponents Fit(DenseMatrix x, int maxComponents, string source = "pca")
    {
        if (maxComponents < 1) throw new MspgtException(source, $"number of components must be at least 1, got {maxComponents}");
        return Fit(CenteredGram.Of(x, source), maxComponents, source);
    }

    /// <summary>Fits at most <paramref name="maxComponents"/> components from a prepared Gram matrix (which must
    /// still hold its centred samples when it is in the sample form).</summary>
    public static PrincipalComponents Fit(CenteredGram g, int maxComponents, string source = "pca")
    {
        if (maxComponents < 1) throw new MspgtException(source, $"number of components must be at least 1, got {maxComponents}");
        int n = g.Rows, d = g.Cols;
        double total = g.TotalSquares / (n - 1);
        var eig = g.LeadingEigen(maxComponents);
        var values = eig.Values;
        int k = KeptCount(values, maxComponents);
        DenseMatrix directions;
        if (!g.SampleForm) directions = eig.Vectors.LeadingColumns(k);
        else
        {
            // Xc = U S Vᵀ: the Gram matrix Xc Xcᵀ has eigenvectors U and eigenvalues S²; directions V = Xcᵀ U / S.
            var xc = g.Centered ?? throw new InvalidOperationException("the centred samples were dropped before the PCA fit");
            // Row j of Vᵀ is Σ_i u_ij · (row i of Xc) / S_j: whole rows of Xc scaled and added in order (no transposed
            // copy of Xc), each row of Vᵀ summed by one thread in one fixed order.
            var u = eig.Vectors;
            var vt = new DenseMatrix(k, d);
            Parallel.For(0, k, new ParallelOptions { MaxDegreeOfParallelism = (long)n * d * k < 1_000_000 ? 1 : Parallelism.Threads }, j =>
            {
                var row = vt.Row(j);
                for (int i = 0; i < n; i++) TensorPrimitives.MultiplyAdd(xc.Row(i), u[i, j], row, row);
                TensorPrimitives.Multiply(row, 1 / Math.Sqrt(values[j]), row);
            });
            directions = vt.Transpose();
        }
        values = values.Take(k).ToArray();
        if (values.Length == 0) throw new MspgtException(source, "all samples are identical (zero variance)");
        TensorPrimitives.Divide(values, n - 1, values);
        return new PrincipalComponents(g.Mean, directions, values, total);
    }

    private static int KeptCount(double[] descending, int max)
    {
        if (descending.Length == 0 || !(descending[0] > 0)) return 0;
        double floor = descending[0] * RelativeRankTolerance;
        int k = 0;
        while (k < descending.Length && k < max && descending[k] > floor) k++;
        return k;
    }

    /// <summary>
    /// Scores (n × Count): the centered samples expressed along the directions. With <paramref name="whiten"/> each
    /// score column is divided by its standard deviation, so on the fitted data every column has variance 1 and the
    /// columns are uncorrelated.
    /// </summary>
    public DenseMatrix Project(DenseMatrix x, bool whiten)
    {
        if (x.Cols != Mean.Length)
            throw new MspgtException("pca", $"samples have {x.Cols} features, the components were fitted on {Mean.Length}");
        var xc = x.Clone();
        for (int i = 0; i < xc.Rows; i++) TensorPrimitives.Subtract(xc.Row(i), Mean, xc.Row(i));
        return ProjectCentered(xc, whiten);
    }

    /// <summary>
    /// <see cref="Project"/> of samples already centred on <see cref="Mean"/> (the fit's own
    /// <see cref="CenteredGram.Centered"/>, the very values Project would subtract its way to), without a copy.
    /// </summary>
    public DenseMatrix ProjectCentered(DenseMatrix xc, bool whiten)
    {
        if (xc.Cols != Mean.Length)
            throw new MspgtException("pca", $"samples have {xc.Cols} features, the components were fitted on {Mean.Length}");
        var scores = LinearAlgebra.Multiply(xc, Directions);
        if (whiten)
        {
            var inv = Variances.Select(v => 1 / Math.Sqrt(v)).ToArray();
            for (int i = 0; i < scores.Rows; i++) TensorPrimitives.Multiply(scores.Row(i), inv, scores.Row(i));
        }
        return scores;
    }
}
