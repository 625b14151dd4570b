using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>
/// Linear centered kernel alignment (Kornblith et al. 2019) between two representations of the same n samples:
/// CKA(X, Y) = ‖YcᵀXc‖²_F / (‖XcᵀXc‖_F ‖YcᵀYc‖_F), with Xc, Yc column-centered. Dimensionless, in [0, 1];
/// 1 for identical representations; invariant to orthogonal transforms and isotropic scaling of either side.
/// The feature-space form costs O(n·dx·dy), so large n is cheap; when n² &lt; dx·dy the equivalent sample-space
/// form tr(Kx Ky) with K = Xc Xcᵀ is used instead. Note: for independent isotropic data CKA is about
/// √(dx·dy)/n, not 0, so it is near 0 only when n ≫ d; compare values computed with the same n.
/// <see cref="LayerMatrix"/> costs O(L²·n·d²) for L layers: pass maxSamples to bound it.
/// </summary>
public static class LinearCka
{
    /// <summary>Fewest samples accepted: 2 (one centred sample has no spread).</summary>
    public const int MinimumSamples = 2;

    /// <summary>Linear CKA between X (n × dx) and Y (n × dy).</summary>
    public static double Compute(DenseMatrix x, DenseMatrix y)
    {
        const string source = "cka";
        SampleChecks.RequirePaired(x, y, source);
        SampleChecks.Require(x, source, MinimumSamples);
        SampleChecks.Require(y, source, MinimumSamples);
        var a = Prepared.Of(x, 0);
        var b = Prepared.Of(y, 1);
        return Math.Clamp(a.Cross(b) / (a.SelfNorm * b.SelfNorm), 0, 1);
    }

    /// <summary>Linear CKA from two prepared Gram matrices of the same samples (each must still hold its centred
    /// samples unless both are in the sample form): the same value as <see cref="Compute(DenseMatrix, DenseMatrix)"/>.</summary>
    public static double Compute(CenteredGram x, CenteredGram y)
    {
        if (x.Rows != y.Rows)
            throw new MspgtException("cka", $"the two representations must hold the same samples, got {x.Rows} and {y.Rows} rows");
        var a = Prepared.Of(x, 0);
        var b = Prepared.Of(y, 1);
        return Math.Clamp(a.Cross(b) / (a.SelfNorm * b.SelfNorm), 0, 1);
    }

    /// <summary>
    /// The symmetric layer × layer CKA matrix for representations of the same samples (one matrix per layer, all
    /// with the same rows), with 1 on the diagonal. With <paramref name="maxSamples"/> &gt; 0 and more samples than
    /// that, one seeded uniform subset of rows (the same for every layer) is used; 0 uses all rows.
    /// </summary>
    public static DenseMatrix LayerMatrix(IReadOnlyList<DenseMatrix> layers, int maxSamples = 0, int seed = 0) =>
        LayerMatrix(layers.Count, l => layers[l], maxSamples, seed);

    /// <summary>
    /// <see cref="LayerMatrix(IReadOnlyList{DenseMatrix}, int, int)"/> with each layer's matrix made by
    /// <paramref name="layer"/> when it is reached (read from a sample store, say) and let go once reduced to what its
    /// pairs need: Xcᵀ, or the sample Gram Xc Xcᵀ where n² &lt; d², and its norm. Memory holds those (one n × d
    /// array's worth per layer), not every layer's rows, centred copy and Gram matrix at once. Values are those of
    /// <see cref="Compute(DenseMatrix, DenseMatrix)"/> for each pair, bit for bit.
    /// </summary>
    public static DenseMatrix LayerMatrix(int count, Func<int, DenseMatrix> layer, int maxSamples = 0, int seed = 0)
    {
        const string source = "cka";
        if (count == 0) throw new MspgtException(source, "no layer representations given");
        var reduced = new Reduced[count];
        int n = 0;
        int[]? rows = null;
        for (int l = 0; l < count; l++)
        {
            var x = layer(l);
            if (l == 0) (n, rows) = (x.Rows, SeededSampling.Subset(x.Rows, maxSamples, seed));
            if (x.Rows != n) throw new MspgtException(source, $"layer {l} has {x.Rows} samples but layer 0 has {n}");
            SampleChecks.Require(x, source, 2);
            reduced[l] = Reduced.Of(rows!.Length == n ? x : x.SelectRows(rows), l);
        }
        // Layers of one width need only the form each kept; mixed widths may pair a layer in the other form.
        if (reduced.All(r => r.Cols == reduced[0].Cols)) foreach (var r in reduced) r.DropCentered();

        var m = new DenseMatrix(count, count);
        var scratch = new double[(long)reduced[0].Cols * reduced[0].Cols];   // one pair's XcᵀYc, reused
        for (int i = 0; i < count; i++)
        {
            m[i, i] = 1;
            for (int j = i + 1; j < count; j++)
            {
                double v = Math.Clamp(reduced[i].Cross(reduced[j], scratch) / (reduced[i].SelfNorm * reduced[j].SelfNorm), 0, 1);
                m[i, j] = v;
                m[j, i] = v;
            }
        }
        return m;
    }

    /// <summary>
    /// One layer of <see cref="LayerMatrix(int, Func{int, DenseMatrix}, int, int)"/>: ‖XcᵀXc‖_F and the form its
    /// cross products read (the sample Gram Xc Xcᵀ when its <see cref="CenteredGram"/> is in the sample form, else
    /// Xcᵀ), computed as <see cref="Prepared"/> and <see cref="LinearAlgebra.TransposeMultiply"/> compute them.
    /// </summary>
    private sealed class Reduced
    {
        private DenseMatrix? _centered, _transposed, _sampleGram;
        public int Rows { get; private init; }
        public int Cols { get; private init; }
        public double SelfNorm { get; private init; }

        public static Reduced Of(DenseMatrix x, int index)
        {
            var g = CenteredGram.Of(x, source: "cka");
            double norm = Math.Sqrt(LinearAlgebra.FrobeniusSquared(g.Gram));
            if (!(norm > 0))
                throw new MspgtException("cka", $"representation {index} has zero variance (all samples identical)");
            var r = new Reduced { Rows = g.Rows, Cols = g.Cols, SelfNorm = norm };
            // A sample-form layer keeps Xc beside its Gram (a pair in the feature form needs it); a feature-form layer
            // keeps Xcᵀ alone, Xc being its exact transpose.
            if (g.SampleForm) (r._sampleGram, r._centered) = (g.Gram, g.Centered);
            else r._transposed = g.Centered!.Transpose();
            return r;
        }

        public void DropCentered() => _centered = null;

        private DenseMatrix Centered => _centered ?? _transposed?.Transpose() ?? throw new InvalidOperationException("CKA pairs a layer in a form it did not keep");
        private DenseMatrix SampleGram => _sampleGram ??= LinearAlgebra.SampleGram(Centered);
        private DenseMatrix Transposed => _transposed ??= Centered.Transpose();

        /// <summary>‖YcᵀXc‖²_F, by whichever form is cheaper (the rule of <see cref="Prepared.Cross"/>).</summary>
        public double Cross(Reduced other, double[] scratch)
        {
            int n = Rows;
            if ((long)n * n < (long)Cols * other.Cols)
                return TensorPrimitives.Dot<double>(SampleGram.Data, other.SampleGram.Data);
            // XcᵀYc = Xcᵀ·(Ycᵀ)ᵀ, as TransposeMultiply(Xc, Yc) forms it.
            long size = (long)Cols * other.Cols;
            return LinearAlgebra.FrobeniusSquared(size == scratch.Length
                ? LinearAlgebra.MultiplyTransposed(Transposed, other.Transposed, scratch)
                : LinearAlgebra.MultiplyTransposed(Transposed, other.Transposed));
        }
    }

    /// <summary>A centered representation with its ‖XcᵀXc‖_F and, when n² is small, its sample Gram matrix
    /// (the <see cref="CenteredGram"/> of the representation: ‖XcᵀXc‖_F = ‖Xc Xcᵀ‖_F, same non-zero eigenvalues).</summary>
    private sealed class Prepared
    {
        public required CenteredGram G { get; init; }
        public required double SelfNorm { get; init; }

        public static Prepared Of(DenseMatrix x, int index) => Of(CenteredGram.Of(x, "cka"), index);

        public static Prepared Of(CenteredGram g, int index)
        {
            double norm = Math.Sqrt(LinearAlgebra.FrobeniusSquared(g.Gram));
            if (!(norm > 0))
                throw new MspgtException("cka", $"representation {index} has zero variance (all samples identical)");
            return new Prepared { G = g, SelfNorm = norm };
        }

        private DenseMatrix SampleGram => G.SampleForm ? G.Gram : LinearAlgebra.SampleGram(Centered);

        private DenseMatrix Centered => G.Centered ?? throw new InvalidOperationException("the centred samples were dropped but CKA needs them");

        /// <summary>‖YcᵀXc‖²_F, by whichever form is cheaper.</summary>
        public double Cross(Prepared other)
        {
            int n = G.Rows;
            if ((long)n * n < (long)G.Cols * other.G.Cols)
                return TensorPrimitives.Dot<double>(SampleGram.Data, other.SampleGram.Data);   // tr(Kx Ky), both symmetric
            return LinearAlgebra.FrobeniusSquared(LinearAlgebra.TransposeMultiply(Centered, other.Centered));
        }
    }
}
