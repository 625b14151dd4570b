using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>
/// One-vs-rest ridge classifier in closed form. Features are standardised on the training split; each class gets a
/// ±1 target column and W minimises ‖Xs W + 1bᵀ − Y‖² + α‖W‖² (bias b not penalised; it equals the target means
/// because Xs is centered). Solved as (XsᵀXs + αI)W = XsᵀYc when d ≤ n, else W = Xsᵀ(XsXsᵀ + αI)⁻¹Yc.
/// Prediction is the class with the largest score.
/// </summary>
public sealed class RidgeProbe : IClassificationProbe
{
    private const string Source = "ridge-probe";

    /// <summary>Penalty α on the unnormalised sum of squares (default 1.0, the scikit-learn RidgeClassifier default).</summary>
    public double Alpha { get; init; } = 1.0;

    private FeatureScaling? _scaling;
    private DenseMatrix? _weights;   // d × C

    /// <summary>The fitted d × C weights (tests).</summary>
    internal DenseMatrix? Weights => _weights;
    private double[]? _bias;
    private int[]? _classes;

    public void Fit(DenseMatrix x, ReadOnlySpan<int> labels) => Fit(x, null, labels);

    /// <summary>
    /// <see cref="Fit(DenseMatrix, ReadOnlySpan{int})"/> on the listed rows of x (null: all), without copying them out:
    /// the fit of x.SelectRows(rows), bit for bit. In the primal form XsᵀXs and XsᵀYc are formed from standardised
    /// rows made a slab at a time (<see cref="LinearAlgebra.SlabProducts"/>), so a fit holds no copy of its rows.
    /// </summary>
    public void Fit(DenseMatrix x, int[]? rows, ReadOnlySpan<int> labels) => Fit(x, rows, labels, null);

    /// <summary><see cref="Fit(DenseMatrix, int[], ReadOnlySpan{int})"/> with its large arrays (the standardised rows of
    /// the dual form, the Gram matrix) taken from <paramref name="scratch"/>: the same operations in the same order on
    /// reused storage, so the same fit bit for bit.</summary>
    internal void Fit(DenseMatrix x, int[]? rows, ReadOnlySpan<int> labels, ProbeScratch? scratch)
    {
        if (!(Alpha > 0) || !double.IsFinite(Alpha)) throw new MspgtException(Source, $"alpha must be positive, got {Alpha}");
        var (classes, index) = ProbeLabels.Encode(x, labels, Source, rows);
        int n = rows?.Length ?? x.Rows, d = x.Cols, c = classes.Length;
        var scaling = FeatureScaling.Fit(x, rows);
        // Targets ±1 (+1 for the sample's class); bias = their column means. Each column sums to an integer, exactly,
        // whatever the order, so count-based means are those of the n × c target matrix, which is never built.
        var counts = new int[c];
        foreach (int k in index) counts[k]++;
        var bias = new double[c];
        for (int k = 0; k < c; k++) bias[k] = (double)(2 * counts[k] - n) / n;
        // Sample i's centred target for class k, as LinearAlgebra.Center of the ±1 matrix would make it.
        double Centred(int i, int k) => (index[i] == k ? 1 : -1) - bias[k];

        DenseMatrix w;
        if (d <= n)
        {
            // Xs and Yc a slab of samples at a time, transposed, straight from x's rows: neither is ever whole.
            var (a, xty) = LinearAlgebra.SlabProducts(n, d, c, (t0, tl, xs, ys) =>
            {
                scaling.ApplyTransposed(x, rows, t0, tl, xs);
                for (int t = 0; t < tl; t++)
                    for (int k = 0; k < c; k++) ys[k * tl + t] = Centred(t0 + t, k);
            }, scratch?.Take(ProbeScratch.Gram, d * d));
            for (int i = 0; i < d; i++) a[i, i] += Alpha;
            w = LinearAlgebra.CholeskySolve(LinearAlgebra.CholeskyInPlace(a, Source), xty!);   // a is not needed again
        }
        else
        {
            var xs = scaling.Apply(x, Source, rows, scratch?.Take(ProbeScratch.TrainRows, n * d));
            var yc = new DenseMatrix(n, c);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < c; j++) yc[i, j] = Centred(i, j);
            var k = LinearAlgebra.MultiplyTransposed(xs, xs, scratch?.Take(ProbeScratch.Gram, n * n));   // the sample Gram
            for (int i = 0; i < n; i++) k[i, i] += Alpha;
            var dual = LinearAlgebra.CholeskySolve(LinearAlgebra.CholeskyInPlace(k, Source), yc);
            w = LinearAlgebra.TransposeMultiply(xs, dual);
        }
        _scaling = scaling;
        _weights = w;
        _bias = bias;
        _classes = classes;
    }

    public int[] Predict(DenseMatrix x) => Predict(x, null);

    /// <summary><see cref="Predict(DenseMatrix)"/> of the listed rows of x (null: all): that of x.SelectRows(rows), bit
    /// for bit, without a standardised copy of them all (see <see cref="Scores"/>).</summary>
    public int[] Predict(DenseMatrix x, int[]? rows) => ProbeLabels.ArgMax(Scores(x, rows), _classes!);

    /// <summary>Rows standardised per block of <see cref="Predict(DenseMatrix, int[])"/>: one row-dot panel, 64 KB at 256
    /// features, below the large-object threshold (blocks of two panels, 128 KB, landed on the large-object heap and
    /// brought full collections).</summary>
    private const int ScoreBlock = LinearAlgebra.RowPanel;

    /// <summary>
    /// The class scores (rows × classes) of the listed rows of x (null: all): XsW + 1bᵀ. The rows are standardised and
    /// multiplied <see cref="ScoreBlock"/> at a time, whole row-dot panels, so each row's scores are summed exactly as in
    /// the product of the whole standardised copy (bit for bit) while a block of rows, not all of them (1.7 MB per fit
    /// at 64 documents), is ever standardised. As fast as the whole copy was (ScaleProbesBenchmarks, 2026-12-07).
    /// </summary>
    internal DenseMatrix Scores(DenseMatrix x, int[]? rows)
    {
        if (_scaling is null || _weights is null || _bias is null || _classes is null)
            throw new InvalidOperationException("RidgeProbe.Predict called before Fit");
        if (rows == null) LinearAlgebra.RequireFinite(x, Source);
        else LinearAlgebra.RequireFinite(x, rows, Source);
        int m = rows?.Length ?? x.Rows, d = x.Cols, c = _weights.Cols;
        _scaling.RequireWidth(x, Source);
        var wt = _weights.Transpose();   // what Multiply(xs, W) multiplies by: xs·(Wᵀ)ᵀ
        var scores = new DenseMatrix(m, c);
        double[]? whole = null;
        for (int i0 = 0; i0 < m; i0 += ScoreBlock)
        {
            int len = Math.Min(ScoreBlock, m - i0);
            int[] part = rows == null ? Enumerable.Range(i0, len).ToArray() : rows[i0..(i0 + len)];
            var buffer = len == ScoreBlock ? whole ??= new double[ScoreBlock * d] : new double[len * d];
            var block = LinearAlgebra.MultiplyTransposed(_scaling.Apply(x, Source, part, buffer), wt);
            for (int i = 0; i < len; i++)
            {
                var dst = scores.Row(i0 + i);
                block.Row(i).CopyTo(dst);
                for (int k = 0; k < c; k++) dst[k] += _bias[k];
            }
        }
        return scores;
    }

    public double Accuracy(DenseMatrix x, ReadOnlySpan<int> labels) => ProbeLabels.Accuracy(Predict(x), labels, Source);
}
