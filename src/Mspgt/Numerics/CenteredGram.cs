namespace Mspgt.Numerics;

/// <summary>
/// One sample matrix X (n × d) prepared once for every estimator that reads its second moments: the column means,
/// the centred Xc, the Gram matrix of the smaller side (XcᵀXc when d ≤ n, else Xc Xcᵀ) and, on demand, its
/// eigen-decomposition. PCA, effective rank, linear CKA and the TwoNN neighbour search each used to centre X and
/// form the same Gram matrix again; built here with the very calls they made, it gives them bit-identical results
/// while the O(n·d·min(n, d)) product and the O(min(n, d)³) decomposition are paid once per representation.
/// </summary>
/// <remarks>Safe to read from several threads once built; the eigen-decomposition is computed once under a lock.</remarks>
public sealed class CenteredGram
{
    private readonly object _gate = new();
    private SymmetricEigen? _eigen, _leading;
    private double[]? _values;
    private readonly GramProduct? _product;
    private DenseMatrix? _addedSampleGram;

    public int Rows { get; }
    public int Cols { get; }
    public double[] Mean { get; }

    /// <summary>Xc, the column-centred samples; null after <see cref="DropCentered"/>.</summary>
    public DenseMatrix? Centered { get; private set; }

    /// <summary>Whether <see cref="Gram"/> is the sample Gram Xc Xcᵀ (n × n, when d &gt; n) rather than XcᵀXc (d × d).</summary>
    public bool SampleForm { get; }

    /// <summary>Xc Xcᵀ or XcᵀXc (see <see cref="SampleForm"/>), exactly symmetric.</summary>
    public DenseMatrix Gram { get; }

    /// <summary>
    /// Xc Xcᵀ (n × n): <see cref="Gram"/> itself in the sample form; in the feature form the one
    /// <see cref="AddSampleGram"/> made, else null. TwoNN reads its neighbour distances from it and linear CKA its
    /// sample-space form tr(Kx Ky), which costs O(n²) once both sides have one.
    /// </summary>
    public DenseMatrix? SampleGram => SampleForm ? Gram : _addedSampleGram;

    /// <summary>‖Xc‖²_F, the total sum of squares about the mean.</summary>
    public double TotalSquares { get; }

    /// <summary>
    /// Forms the Gram matrix of centred samples elsewhere (a GPU): Xc·Xcᵀ when <paramref name="sampleForm"/>, else
    /// XcᵀXc, exactly symmetric. Its values may differ from the CPU's by rounding (another summation order).
    /// </summary>
    public delegate DenseMatrix GramProduct(DenseMatrix centered, bool sampleForm);

    private CenteredGram(DenseMatrix x, double[]? centeredInto, GramProduct? product)
    {
        Rows = x.Rows;
        Cols = x.Cols;
        _product = product;
        Mean = LinearAlgebra.ColumnMeans(x);
        var xc = LinearAlgebra.Center(x, centeredInto);
        Centered = xc;
        TotalSquares = LinearAlgebra.FrobeniusSquared(xc);
        SampleForm = !(Cols <= Rows);
        Gram = product?.Invoke(xc, SampleForm) ?? (SampleForm ? LinearAlgebra.SampleGram(xc) : LinearAlgebra.FeatureGram(xc));
    }

    private CenteredGram(int rows, int cols, double[] mean, DenseMatrix gram, double totalSquares)
    {
        (Rows, Cols, Mean, Gram, TotalSquares) = (rows, cols, mean, gram, totalSquares);
        SampleForm = false;
    }

    /// <summary>
    /// The feature form from its parts, for samples never held together (the pooled rows of many documents, their
    /// Gram accumulated a slab at a time): no <see cref="Centered"/>, and ‖Xc‖²_F taken as the trace of XcᵀXc.
    /// </summary>
    public static CenteredGram FromFeatureGram(int rows, double[] mean, DenseMatrix gram)
    {
        if (rows < 2) throw new ArgumentException($"needs at least 2 samples, got {rows}");
        if (gram.Rows != mean.Length || gram.Cols != mean.Length || mean.Length > rows)
            throw new ArgumentException($"a {gram.Rows}x{gram.Cols} feature Gram matrix for {mean.Length} means of {rows} samples");
        double trace = 0;
        for (int j = 0; j < mean.Length; j++) trace += gram[j, j];
        return new CenteredGram(rows, mean.Length, mean, gram, trace);
    }

    /// <summary>Centres <paramref name="x"/> and forms its Gram matrix (needs 2 or more finite samples of 1 or more features).</summary>
    /// <param name="centeredInto">Storage for <see cref="Centered"/> (length Rows·Cols), for a caller that reuses it
    /// once <see cref="DropCentered"/> has let it go; null allocates.</param>
    /// <param name="product">Where the Gram product runs; null: here, by <see cref="LinearAlgebra"/>.</param>
    public static CenteredGram Of(DenseMatrix x, string source = "gram", double[]? centeredInto = null, GramProduct? product = null)
    {
        if (x.Rows < 2) throw new MspgtException(source, $"needs at least 2 samples, got {x.Rows}");
        if (x.Cols < 1) throw new MspgtException(source, "samples have no features");
        LinearAlgebra.RequireFinite(x, source);
        return new CenteredGram(x, centeredInto, product);
    }

    /// <summary>Eigenvalues and eigenvectors of <see cref="Gram"/> (largest first), computed on first use.</summary>
    public SymmetricEigen Eigen
    {
        get
        {
            lock (_gate) return _eigen ??= LinearAlgebra.SymmetricEigen(Gram);
        }
    }

    /// <summary>
    /// Every eigenvalue of <see cref="Gram"/> and the eigenvectors of the <paramref name="count"/> largest
    /// (<see cref="LinearAlgebra.SymmetricEigen(DenseMatrix, int)"/>), computed on first use; a later call for fewer
    /// returns the same object (its leading columns do not depend on how many were computed). PCA asks for this.
    /// </summary>
    public SymmetricEigen LeadingEigen(int count)
    {
        count = Math.Clamp(count, 0, Gram.Rows);
        lock (_gate)
        {
            if (_leading == null || _leading.Vectors.Cols < count) _leading = LinearAlgebra.SymmetricEigen(Gram, count);
            return _leading;
        }
    }

    /// <summary>Eigenvalues of <see cref="Gram"/>, largest first: the same numbers <see cref="Eigen"/> holds
    /// (accumulating eigenvectors does not touch them), without the vectors' cost when those were not asked for.</summary>
    public double[] Eigenvalues
    {
        get
        {
            lock (_gate) return _eigen?.Values ?? _leading?.Values ?? (_values ??= LinearAlgebra.SymmetricEigenvalues(Gram));
        }
    }

    /// <summary>
    /// In the feature form, also forms <see cref="SampleGram"/> Xc Xcᵀ from <see cref="Centered"/> (where
    /// <see cref="Gram"/> was formed), for a representation that TwoNN and linear CKA both read: TwoNN would otherwise
    /// form every n × n dot product itself (n²·d multiply-adds, twice this symmetric product's n²·d/2) and CKA the
    /// cross product XcᵀYc for each pair (n·d²). Nothing happens in the sample form, where <see cref="Gram"/> is it.
    /// </summary>
    public void AddSampleGram()
    {
        if (SampleForm || _addedSampleGram != null) return;
        var xc = Centered ?? throw new InvalidOperationException("the centred samples were dropped before the sample Gram matrix was formed");
        _addedSampleGram = _product?.Invoke(xc, true) ?? LinearAlgebra.SampleGram(xc);
    }

    /// <summary>Frees <see cref="Centered"/> when the Gram matrices alone serve what is left to compute (once
    /// <see cref="SampleGram"/> exists: CKA and neighbour distances read only Xc Xcᵀ).</summary>
    public void DropCentered()
    {
        if (SampleGram != null) Centered = null;
    }
}
