using BenchmarkDotNet.Attributes;

namespace Mspgt.Bench;

/// <summary>
/// analyze's scale probes at the 0.5B shape: 4 or 64 documents (the default analysis) × 64 sampled rows of 256 pooled
/// dimensions, 24 blocks; per block 5 cross-fitted local and intermediate ridge probes and the global one.
/// </summary>
[MemoryDiagnoser]
public class ScaleProbesBenchmarks
{
    private const int Rows = 64, Dims = 256, Layers = 24, Tokens = 256;

    /// <summary>4: a small analysis (its probes fit in the dual form, fewer rows than features); 64: the default.</summary>
    [Params(4, 64)]
    public int Documents { get; set; } = 64;
    private List<int[]> _ids = null!, _positions = null!;
    private List<IReadOnlyList<float[]>> _pooled = null!;
    private bool[] _enders = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        // Token ids with a heavy head (as text has), so the local probe finds its 32 frequent classes.
        _ids = Enumerable.Range(0, Documents).Select(_ => Enumerable.Range(0, Tokens).Select(_ => (int)(500 * Math.Pow(rng.NextDouble(), 3))).ToArray()).ToList();
        _positions = Enumerable.Range(0, Documents).Select(_ => Enumerable.Range(0, Rows).Select(i => i * (Tokens / Rows)).ToArray()).ToList();
        _pooled = Enumerable.Range(0, Documents).Select(d => (IReadOnlyList<float[]>)Enumerable.Range(0, Layers + 1)
            .Select(l => BenchData.RandomFloats(Rows * Dims, d * 100 + l)).ToArray()).ToList();
        _enders = Enumerable.Range(0, 500).Select(i => i % 17 == 0).ToArray();
    }

    [Benchmark(Description = "documents x 64 rows x 256 dims, 24 blocks")]
    public object Evaluate() => new Signals.ScaleProbes().Evaluate(_ids, _positions, _pooled, Layers, Dims, _enders);
}
