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
/// <see cref="LayerMatrix"/> costs O(L²·n·d²) for L layers in the feature form, O(L·n²·d) in the sample form: pass
/// maxSamples to bound it.
/// </summary>
public static partial class LinearCka
{
    /// <summary>The name errors carry.</summary>
    private const string Source = "cka";

    /// <summary>Fewest samples accepted: 2 (one centred sample has no spread).</summary>
    public const int MinimumSamples = 2;

    /// <summary>Linear CKA between X (n × dx) and Y (n × dy).</summary>
    public static double Compute(DenseMatrix x, DenseMatrix y)
    {
        SampleChecks.RequirePaired(x, y, Source);
        SampleChecks.Require(x, Source, MinimumSamples);
        SampleChecks.Require(y, Source, MinimumSamples);
        var a = Reduced.Of(x, 0);
        var b = Reduced.Of(y, 1);
        return Math.Clamp(a.Cross(b) / (a.SelfNorm * b.SelfNorm), 0, 1);
    }

    /// <summary>Linear CKA from two prepared Gram matrices of the same samples (each must still hold its centred
    /// samples unless both are in the sample form): the same value as <see cref="Compute(DenseMatrix, DenseMatrix)"/>.</summary>
    public static double Compute(CenteredGram x, CenteredGram y)
    {
        if (x.Rows != y.Rows)
            throw new MspgtException(Source, $"the two representations must hold the same samples, got {x.Rows} and {y.Rows} rows");
        var a = Reduced.Of(x, 0);
        var b = Reduced.Of(y, 1);
        return Math.Clamp(a.Cross(b) / (a.SelfNorm * b.SelfNorm), 0, 1);
    }

    /// <summary>
    /// One representation as CKA reads it: ‖XcᵀXc‖_F and the form its cross products read, the sample Gram Xc Xcᵀ
    /// (the <see cref="CenteredGram"/>'s own when it is in the sample form: ‖XcᵀXc‖_F = ‖Xc Xcᵀ‖_F, same non-zero
    /// eigenvalues) or Xcᵀ, each made once from Xc when first needed.
    /// </summary>
    private sealed class Reduced
    {
        private DenseMatrix? _centered, _transposed, _sampleGram;
        public int Rows { get; private init; }
        public int Cols { get; private init; }
        public double SelfNorm { get; private init; }

        /// <summary>The Xcᵀ array of a feature-form layer, for a caller done with this layer to reuse (null otherwise).</summary>
        public double[]? Storage => _sampleGram == null ? _transposed?.Data : null;

        /// <summary>Bytes this layer holds while kept.</summary>
        public long Bytes => 8L * ((_centered?.Data.Length ?? 0) + (_transposed?.Data.Length ?? 0) + (_sampleGram?.Data.Length ?? 0));

        public static Reduced Of(DenseMatrix x, int index) => Of(CenteredGram.Of(x, Source), index);

        /// <summary>
        /// A layer in the feature form (d ≤ n) as the layer matrix keeps it: Xcᵀ made straight from X (no centred copy
        /// beside it) and its norm from XcᵀXc = Xcᵀ·(Xcᵀ)ᵀ formed in <paramref name="scratch"/> (d × d), the same
        /// values <see cref="CenteredGram"/> gives, bit for bit; <paramref name="knownNorm"/> &gt; 0 skips that product.
        /// </summary>
        public static Reduced FeatureForm(DenseMatrix x, int index, double knownNorm, double[] scratch, double[]? into = null)
        {
            var t = LinearAlgebra.CenteredTranspose(x, into);
            double norm = knownNorm > 0 ? knownNorm : Math.Sqrt(LinearAlgebra.FrobeniusSquared(LinearAlgebra.MultiplyTransposed(t, t, scratch)));
            if (!(norm > 0))
                throw new MspgtException(Source, $"representation {index} has zero variance (all samples identical)");
            return new Reduced { Rows = x.Rows, Cols = x.Cols, SelfNorm = norm, _transposed = t };
        }

        /// <summary>From a prepared Gram matrix (which must still hold its centred samples unless every pair it
        /// enters is in the sample form).</summary>
        public static Reduced Of(CenteredGram g, int index)
        {
            double norm = Math.Sqrt(LinearAlgebra.FrobeniusSquared(g.Gram));
            if (!(norm > 0))
                throw new MspgtException(Source, $"representation {index} has zero variance (all samples identical)");
            return new Reduced { Rows = g.Rows, Cols = g.Cols, SelfNorm = norm, _centered = g.Centered, _sampleGram = g.SampleGram };
        }

        /// <summary>
        /// For a layer kept across many pairs: a feature-form layer keeps Xcᵀ alone (Xc is its exact transpose); a
        /// sample-form layer keeps Xc beside its Gram, since a pair in the feature form needs it.
        /// </summary>
        public Reduced KeepOneForm()
        {
            if (_sampleGram == null && _centered != null) (_transposed, _centered) = (_transposed ?? _centered.Transpose(), null);
            return this;
        }

        private DenseMatrix Centered => _centered ?? _transposed?.Transpose() ?? throw new InvalidOperationException("the centred samples were dropped but CKA needs them");
        private DenseMatrix SampleGram => _sampleGram ??= LinearAlgebra.SampleGram(Centered);
        private DenseMatrix Transposed => _transposed ??= Centered.Transpose();

        /// <summary>‖YcᵀXc‖²_F, by whichever form is cheaper for this pair; <paramref name="scratch"/>, when its size
        /// fits, holds the feature form's dx × dy product.</summary>
        public double Cross(Reduced other, double[]? scratch = null)
        {
            int n = Rows;
            // Sample Grams already made (the sample form, or one added for TwoNN) make this pair O(n²).
            bool both = _sampleGram != null && other._sampleGram != null;
            if (both || (long)n * n < (long)Cols * other.Cols)
                return TensorPrimitives.Dot<double>(SampleGram.Data, other.SampleGram.Data);   // tr(Kx Ky), both symmetric
            // XcᵀYc = Xcᵀ·(Ycᵀ)ᵀ, as TransposeMultiply(Xc, Yc) forms it.
            long size = (long)Cols * other.Cols;
            return LinearAlgebra.FrobeniusSquared(
                LinearAlgebra.MultiplyTransposed(Transposed, other.Transposed, scratch?.Length == size ? scratch : null));
        }
    }
}
