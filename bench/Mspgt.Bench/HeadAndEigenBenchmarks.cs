using BenchmarkDotNet.Attributes;
using Mspgt.Checkpoints;
using Mspgt.Interventions.Outcomes;
using Mspgt.Numerics;

namespace Mspgt.Bench;

/// <summary>
/// The leading-vector eigen-decomposition each representation gets in the signals (the centred Gram matrix of a
/// 896-wide representation of one document, 8 vectors for KSG's PCA) against eigenvalues alone: the difference is QL's
/// recorded rotations and the back-transformation. Documents of 256, 512 and 1,024 tokens: 255 × 255 and 511 × 511
/// sample Grams, and the 896 × 896 feature Gram of 1,023 rows, where the tridiagonalisation runs in panels.
/// </summary>
public class LeadingEigenBenchmarks
{
    private DenseMatrix _gram = null!;

    [Params(256, 512, 1024)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int n = Tokens - 1;
        var f = BenchData.RandomFloats(n * 896);
        _gram = CenteredGram.Of(DenseMatrix.FromFloats(f, n, 896)).Gram;
    }

    [Benchmark(Baseline = true, Description = "eigenvalues")]
    public double[] Values() => LinearAlgebra.SymmetricEigenvalues(_gram);

    [Benchmark(Description = "eigenvalues + 8 leading vectors")]
    public SymmetricEigen Leading() => LinearAlgebra.SymmetricEigen(_gram, 8);
}

/// <summary>
/// One intervene comparison of 64 positions on the Qwen2.5-0.5B head (151,936 × 896, BF16 or Q8_0): against kept clean logits
/// (38 MB held per document) and with the clean logits remade from the clean final-norm rows next to the intervened
/// ones (229 KB held): what not keeping them costs per comparison.
/// </summary>
public class HeadComparisonBenchmarks
{
    private const int T = 64, Dim = 896, Vocab = 151_936;
    private WeightMatrix _head = null!;
    private float[] _cleanNormed = null!, _normed = null!, _clean = null!;
    private HeadDivergence.CleanRows _summary = null!;
    private int[] _targets = null!;

    [Params(TensorType.BF16, TensorType.Q8_0)]
    public TensorType Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _head = BenchData.RandomWeights(Type, Vocab, Dim);
        _cleanNormed = BenchData.RandomFloats(T * Dim, 3);
        _normed = _cleanNormed.Select((v, i) => v + 0.1f * MathF.Sin(i)).ToArray();
        var full = new float[T * Vocab];
        MatMul.Multiply(_cleanNormed, T, _head, full);
        _clean = full.AsSpan(0, (T - 1) * Vocab).ToArray();
        _targets = Enumerable.Range(0, T - 1).Select(i => i * 977 % Vocab).ToArray();
        _summary = HeadDivergence.SummariseClean(_cleanNormed, T, _head, T - 1, _targets);
    }

    [Benchmark(Baseline = true, Description = "against kept clean logits")]
    public object Kept() => HeadDivergence.MeasureRows(_clean, _normed, T, _head, T - 1, _targets);

    [Benchmark(Description = "clean logits remade from the norm rows")]
    public object FromNorm() => HeadDivergence.MeasureRows(_cleanNormed, _summary, _normed, T, _head, T - 1, _targets);
}

/// <summary>
/// analyze's layer × layer CKA matrix at the 0.5B shape: 25 representations of 256 pooled dimensions, 64 rows a
/// document (4, 16 and 32 documents), each read when the matrix reaches it (as analyze reads them from its sample
/// store), within the default 32 MB. All three take the sample form, in bands of Gram rows: one band at 256 rows,
/// 5 at 1,024, 16 at 2,048 (before 2026-12-07 whole Grams in blocks of 3 layers at 1,024 rows and of 1 at 2,048,
/// every later layer's Gram made again per block: 117 and 325 Grams of 8.4 and 33.5 MB instead of 25 made once).
/// </summary>
[MemoryDiagnoser]
public class CkaLayerMatrixBenchmarks
{
    private const int Layers = 25, Dims = 256;
    private List<DenseMatrix> _layers = null!;

    [Params(256, 1024, 2048)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup() => _layers = Enumerable.Range(0, Layers)
        .Select(l => DenseMatrix.FromFloats(BenchData.RandomFloats(Rows * Dims, l + 1), Rows, Dims)).ToList();

    [Benchmark(Description = "25 layers x 256 dims")]
    public DenseMatrix LayerMatrix() => Signals.Estimators.LinearCka.LayerMatrix(Layers, l => _layers[l]);
}
