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
        var a = Reduced.Of(x, 0);
        var b = Reduced.Of(y, 1);
        return Math.Clamp(a.Cross(b) / (a.SelfNorm * b.SelfNorm), 0, 1);
    }

    /// <summary>Linear CKA from two prepared Gram matrices of the same samples (each must still hold its centred
    /// samples unless both are in the sample form): the same value as <see cref="Compute(DenseMatrix, DenseMatrix)"/>.</summary>
    public static double Compute(CenteredGram x, CenteredGram y)
    {
        if (x.Rows != y.Rows)
            throw new MspgtException("cka", $"the two representations must hold the same samples, got {x.Rows} and {y.Rows} rows");
        var a = Reduced.Of(x, 0);
        var b = Reduced.Of(y, 1);
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
    /// <paramref name="layer"/> when it is needed (read from a sample store, say; the matrix is read before the next
    /// call and never kept, so the caller may fill one buffer every time) and reduced to what its pairs read:
    /// Xcᵀ, or the sample Gram Xc Xcᵀ (with Xc) where n &lt; d, and its norm. The layers go in blocks that fit
    /// <paramref name="budgetBytes"/>: a block's layers are kept while every later layer is made again, paired with
    /// them and let go (its norm, the costly part, is kept from the first time). One block when they all fit, as for
    /// a few documents; at 4,096 rows of 256 dimensions (64 documents) a layer is 8.4 MB and 25 of them would be 210 MB,
    /// while the default 32 MB keeps 3 (the pair products, 4,096 × 256² each, cost far more than the reloads).
    /// Values are those of <see cref="Compute(DenseMatrix, DenseMatrix)"/> for each pair, bit for bit.
    /// </summary>
    public static DenseMatrix LayerMatrix(int count, Func<int, DenseMatrix> layer, int maxSamples = 0, int seed = 0,
        long budgetBytes = 32L << 20)
    {
        const string source = "cka";
        if (count == 0) throw new MspgtException(source, "no layer representations given");
        var norms = new double[count];
        int n = 0;
        int[]? rows = null;
        // Xcᵀ arrays of layers let go (a finished block's, each later layer's), reused by the next layer of the same
        // size: the matrix then holds at most a block and one layer of them, and leaves no large garbage behind.
        var free = new List<double[]>();
        Reduced Load(int l)
        {
            var x = layer(l);
            if (l == 0 && rows == null) (n, rows) = (x.Rows, SeededSampling.Subset(x.Rows, maxSamples, seed));
            if (x.Rows != n) throw new MspgtException(source, $"layer {l} has {x.Rows} samples but layer 0 has {n}");
            SampleChecks.Require(x, source, 2);
            if (rows!.Length != n) x = x.SelectRows(rows);
            Reduced r;
            if (x.Cols > x.Rows) r = Reduced.Of(x, l).KeepOneForm();
            else if (SampleFormCheaper(count, x.Rows, x.Cols)) r = Reduced.Of(x, l).PreferSampleForm();
            else
            {
                int at = free.FindIndex(a => a.Length == (long)x.Rows * x.Cols);
                double[]? into = at < 0 ? null : free[at];
                if (at >= 0) free.RemoveAt(at);
                r = Reduced.FeatureForm(x, l, norms[l], Scratch(x.Cols), into);
            }
            norms[l] = r.SelfNorm;
            return r;
        }
        void LetGo(Reduced r)
        {
            if (r.Storage is { } a) free.Add(a);
        }

        var m = new DenseMatrix(count, count);
        double[]? scratch = null;
        // One d × d product buffer, reused by every layer's self product and every pair's XcᵀYc (when widths agree).
        double[] Scratch(int d) => scratch?.Length == (long)d * d ? scratch : scratch = new double[(long)d * d];
        double Pair(Reduced a, Reduced b) => Math.Clamp(a.Cross(b, Scratch(a.Cols)) / (a.SelfNorm * b.SelfNorm), 0, 1);
        for (int i0 = 0; i0 < count;)
        {
            var block = new List<Reduced> { Load(i0) };
            long held = block[0].Bytes;
            while (i0 + block.Count < count && held + block[0].Bytes <= budgetBytes)
            {
                block.Add(Load(i0 + block.Count));
                held += block[^1].Bytes;
            }
            for (int a = 0; a < block.Count; a++)
            {
                m[i0 + a, i0 + a] = 1;
                for (int b = a + 1; b < block.Count; b++) m[i0 + a, i0 + b] = m[i0 + b, i0 + a] = Pair(block[a], block[b]);
            }
            for (int j = i0 + block.Count; j < count; j++)
            {
                var later = Load(j);
                for (int a = 0; a < block.Count; a++) m[i0 + a, j] = m[j, i0 + a] = Pair(block[a], later);
                LetGo(later);
            }
            block.ForEach(LetGo);
            i0 += block.Count;
        }
        return m;
    }

    /// <summary>
    /// Whether the sample form costs less over a whole layer matrix of <paramref name="layers"/> layers of n samples of
    /// d features: one n × n Gram per layer (n²d) and a dot of two per pair (n²), against d × d products per pair
    /// (n·d²). A single pair (<see cref="Compute(DenseMatrix, DenseMatrix)"/>) takes the sample form only when
    /// n &lt; d; over 25 layers of 256 features it pays from n ≈ 3,000 down (4 documents' 256 pooled rows: about a
    /// tenth of the arithmetic), while 64 documents' 4,096 rows stay in the feature form.
    /// </summary>
    internal static bool SampleFormCheaper(int layers, int n, int d)
    {
        double pairs = layers * (layers - 1) / 2.0;
        return layers * (double)n * n * d + pairs * n * n < pairs * n * (double)d * d;
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

        public static Reduced Of(DenseMatrix x, int index) => Of(CenteredGram.Of(x, "cka"), index);

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
                throw new MspgtException("cka", $"representation {index} has zero variance (all samples identical)");
            return new Reduced { Rows = x.Rows, Cols = x.Cols, SelfNorm = norm, _transposed = t };
        }

        /// <summary>From a prepared Gram matrix (which must still hold its centred samples unless every pair it
        /// enters is in the sample form).</summary>
        public static Reduced Of(CenteredGram g, int index)
        {
            double norm = Math.Sqrt(LinearAlgebra.FrobeniusSquared(g.Gram));
            if (!(norm > 0))
                throw new MspgtException("cka", $"representation {index} has zero variance (all samples identical)");
            return new Reduced { Rows = g.Rows, Cols = g.Cols, SelfNorm = norm, _centered = g.Centered, _sampleGram = g.SampleForm ? g.Gram : null };
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

        /// <summary>
        /// For a layer of the matrix where the sample form is cheaper over all its pairs (see
        /// <see cref="SampleFormCheaper"/>): its n × n Gram made now and every pair with another such layer taken as
        /// tr(Kx Ky); Xc stays for pairs with layers that are not.
        /// </summary>
        public Reduced PreferSampleForm()
        {
            _ = SampleGram;
            _prefersSample = true;
            return this;
        }

        private bool _prefersSample;

        private DenseMatrix Centered => _centered ?? _transposed?.Transpose() ?? throw new InvalidOperationException("the centred samples were dropped but CKA needs them");
        private DenseMatrix SampleGram => _sampleGram ??= LinearAlgebra.SampleGram(Centered);
        private DenseMatrix Transposed => _transposed ??= Centered.Transpose();

        /// <summary>‖YcᵀXc‖²_F, by whichever form is cheaper for this pair; <paramref name="scratch"/>, when its size
        /// fits, holds the feature form's dx × dy product.</summary>
        public double Cross(Reduced other, double[]? scratch = null)
        {
            int n = Rows;
            if ((_prefersSample && other._prefersSample) || (long)n * n < (long)Cols * other.Cols)
                return TensorPrimitives.Dot<double>(SampleGram.Data, other.SampleGram.Data);   // tr(Kx Ky), both symmetric
            // XcᵀYc = Xcᵀ·(Ycᵀ)ᵀ, as TransposeMultiply(Xc, Yc) forms it.
            long size = (long)Cols * other.Cols;
            return LinearAlgebra.FrobeniusSquared(
                LinearAlgebra.MultiplyTransposed(Transposed, other.Transposed, scratch?.Length == size ? scratch : null));
        }
    }
}
