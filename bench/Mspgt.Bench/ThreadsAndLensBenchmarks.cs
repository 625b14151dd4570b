using BenchmarkDotNet.Attributes;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals;

namespace Mspgt.Bench;

/// <summary>
/// The prefill GEMM (256 tokens × the 110M shape's 2048×768 gate matrix, F32) at 1, 2 and all threads through
/// <see cref="Parallelism"/>, as `-t N` sets it.
/// </summary>
public class ThreadedGemmBenchmarks
{
    private WeightMatrix _w = null!;
    private float[] _x = null!, _y = null!;
    private const int Tokens = 256, Rows = 2048, Cols = 768;

    /// <summary>0 = all cores.</summary>
    [Params(1, 2, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var v = new float[Rows * Cols];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() - 0.5);
        _w = WeightMatrix.FromFloats("w", Rows, Cols, v);
        _x = Enumerable.Range(0, Tokens * Cols).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        _y = new float[Tokens * Rows];
        Parallelism.Set(Threads);
    }

    [GlobalCleanup]
    public void Cleanup() => Parallelism.Set(null);

    [Benchmark]
    public void Gemm() => MatMul.Multiply(_x, Tokens, _w, _y);
}

/// <summary>
/// A layer's q, k and v projections of the 110M shape (3 × 768×768, F32, 256 tokens) at 1, 2 and all threads: three
/// calls, each packing the activations and running its own parallel loop, against one call over the three weights
/// (one packing, one loop over all their items). The outputs are bit-identical (MatMulTests).
/// </summary>
public class SharedActivationsBenchmarks
{
    private WeightMatrix[] _w = null!;
    private float[] _x = null!;
    private float[][] _y = null!;
    private const int Tokens = 256, Dim = 768;

    /// <summary>0 = all cores.</summary>
    [Params(1, 2, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _w = Enumerable.Range(0, 3).Select(i => WeightMatrix.FromFloats($"w{i}", Dim, Dim,
            Enumerable.Range(0, Dim * Dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray())).ToArray();
        _x = Enumerable.Range(0, Tokens * Dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        _y = Enumerable.Range(0, 3).Select(_ => new float[Tokens * Dim]).ToArray();
        Parallelism.Set(Threads);
    }

    [GlobalCleanup]
    public void Cleanup() => Parallelism.Set(null);

    [Benchmark(Baseline = true, Description = "q, k, v: three calls")]
    public void Separate()
    {
        for (int i = 0; i < 3; i++) MatMul.Multiply(_x, Tokens, _w[i], _y[i]);
    }

    [Benchmark(Description = "q, k, v: one call")]
    public void Shared() => MatMul.Multiply(_x, Tokens, _w, _y);
}

/// <summary>
/// One document's per-document signals (256 tokens) on a random model whose vocabulary (32000) is large against its
/// width (256), as real models' is: the sampled logit lens against --exact-lens, and the forward pass alone.
/// </summary>
public class LensSamplingBenchmarks
{
    private LoadedModel _model = null!;
    private Transformer _tf = null!;
    private int[] _ids = null!;
    private DocumentSignals _sampled = null!, _exact = null!;

    [GlobalSetup]
    public void Setup()
    {
        var c = SyntheticModel.Preset("15m") with { Dim = 256, Layers = 6, Heads = 8, KvHeads = 8, HeadDim = 32, Ffn = 768, MaxSeq = 256 };
        _model = SyntheticModel.Build(c, seed: 1);
        _tf = new Transformer(_model.Config, _model.Weights);
        var rng = new Random(1);
        _ids = Enumerable.Range(0, 256).Select(_ => rng.Next(c.Vocab)).ToArray();
        _sampled = new DocumentSignals(_tf, new SignalSettings());
        _exact = new DocumentSignals(_tf, new SignalSettings { ExactLens = true });
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Baseline = true)]
    public float[] ForwardOnly() => _tf.Forward(_ids);

    [Benchmark]
    public DocumentMeasurement SignalsSampledLens() => _sampled.Measure(_ids);

    [Benchmark]
    public DocumentMeasurement SignalsExactLens() => _exact.Measure(_ids);
}

/// <summary>
/// One parallel loop of 8 items, each <see cref="Work"/> square roots, through <see cref="Parallelism.For"/> on
/// mspgt's fork-join workers against the thread pool's Parallel.For (<c>MSPGT_CPU_WORKERS=0</c>): what a loop costs
/// beyond its items (a 256-token prefill of the 110M shape runs about 180 loops). Work 0: the bare cost of a loop.
/// </summary>
public class LoopOverheadBenchmarks
{
    private readonly double[] _sink = new double[8 * 8];

    /// <summary>0 = all cores.</summary>
    [Params(2, 0)]
    public int Threads { get; set; }

    [Params(0, 2_000, 20_000)]
    public int Work { get; set; }

    [GlobalSetup]
    public void Setup() => Parallelism.Set(Threads);

    [GlobalCleanup]
    public void Cleanup() { Parallelism.Set(null); Parallelism.UseWorkers = true; }

    private void Item(int i)
    {
        double s = 0;
        for (int k = 0; k < Work; k++) s += Math.Sqrt(k + i);
        _sink[i * 8] = s;   // one cache line per item
    }

    [Benchmark(Baseline = true)]
    public void ThreadPool() { Parallelism.UseWorkers = false; Parallelism.For(8, Item); }

    [Benchmark]
    public void ForkJoinWorkers() { Parallelism.UseWorkers = true; Parallelism.For(8, Item); }
}
