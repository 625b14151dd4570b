using BenchmarkDotNet.Attributes;
using Mspgt.Checkpoints;
using Mspgt.Numerics;

namespace Mspgt.Bench;

/// <summary>
/// y[1024, 1024] = x[1024, 1024] · Wᵀ with W stored as F32, BF16, Q8_0 or Q4_K (dequantized panel by panel inside
/// the GEMM). 2.147 GFLOP per call: GFLOP/s = 2147 / (mean in ms).
/// </summary>
public class GemmBenchmarks
{
    private const int N = 1024;
    private WeightMatrix _w = null!;
    private float[] _x = null!, _y = null!;

    [Params(TensorType.F32, TensorType.BF16, TensorType.Q8_0, TensorType.Q4_K)]
    public TensorType Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _w = BenchData.RandomWeights(Type, N, N);
        _x = BenchData.RandomFloats(N * N);
        _y = new float[N * N];
    }

    [Benchmark(Description = "GEMM 1024x1024x1024")]
    public void Gemm1024() => MatMul.Multiply(_x, N, _w, _y);
}

/// <summary>One token through a 4096 × 4096 weight (decode: memory-bound matrix-vector); 33.5 MFLOP per call.</summary>
public class MatVecBenchmarks
{
    private const int N = 4096;
    private WeightMatrix _w = null!;
    private float[] _x = null!, _y = null!;

    [Params(TensorType.F32, TensorType.BF16, TensorType.Q8_0, TensorType.Q4_K)]
    public TensorType Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _w = BenchData.RandomWeights(Type, N, N);
        _x = BenchData.RandomFloats(N);
        _y = new float[N];
    }

    [Benchmark(Description = "matrix-vector 4096x4096")]
    public void MatVec() => MatMul.Multiply(_x, 1, _w, _y);
}

/// <summary>Row-wise kernels on a 256-token prefill of a 768-wide model (2048-wide MLP, 256-key attention rows).</summary>
public class RowKernelBenchmarks
{
    private const int T = 256, Dim = 768, Ffn = 2048;
    private float[] _x = null!, _w = null!, _dst = null!, _rows = null!, _gate = null!, _up = null!;

    [GlobalSetup]
    public void Setup()
    {
        _x = BenchData.RandomFloats(T * Dim, 1);
        _w = BenchData.RandomFloats(Dim, 2);
        _dst = new float[T * Dim];
        _rows = BenchData.RandomFloats(T * T, 3);
        _gate = BenchData.RandomFloats(T * Ffn, 4);
        _up = BenchData.RandomFloats(T * Ffn, 5);
    }

    [Benchmark(Description = "RMSNorm 256x768")]
    public void RmsNorm() => Kernels.RmsNormRows(_x, T, _w, 1e-5f, _dst);

    [Benchmark(Description = "softmax 256 rows x 256")]
    public void Softmax()
    {
        for (int r = 0; r < T; r++) Kernels.Softmax(_rows.AsSpan(r * T, T));
    }

    [Benchmark(Description = "SwiGLU 256x2048")]
    public void SwiGlu()
    {
        // In place: values shrink towards 0 over iterations, which does not change the cost of the elementwise ops.
        Kernels.SwiGlu(_gate, _up, _gate);
    }
}
