using BenchmarkDotNet.Attributes;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals;
using Mspgt.Signals.Estimators;

namespace Mspgt.Bench;

/// <summary>
/// Causal attention of a 256-token prefill in the 110M shape (12 heads × 64), cut into whole heads or runs of
/// 48-query blocks (4 items per thread at least), at 1, 2 and all threads, with and without the analysis' row
/// statistics (entropy and distance of every query row): how far the kernel spreads.
/// </summary>
public class AttentionPartitionBenchmarks
{
    private readonly Attention _attention = new();
    private float[] _q = null!, _k = null!, _v = null!, _z = null!;
    private (double[], double[]) _rows;
    private static readonly AttentionShape Shape = new(256, 0, 12, 12, 64);

    /// <summary>0 = all cores.</summary>
    [Params(1, 2, 0)]
    public int Threads { get; set; }

    [Params(false, true)]
    public bool RowStatistics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        float[] R(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        (_q, _k, _v) = (R(Shape.QueryLength), R(Shape.KeyLength), R(Shape.KeyLength));
        _z = new float[Shape.QueryLength];
        _rows = (new double[Shape.Heads * Shape.Tokens], new double[Shape.Heads * Shape.Tokens]);
        Parallelism.Set(Threads);
    }

    [GlobalCleanup]
    public void Cleanup() => Parallelism.Set(null);

    [Benchmark]
    public void Forward() => _attention.Forward(_q, _k, _v, Shape, _z, RowStatistics ? _rows : null);
}

/// <summary>
/// One block's representation estimators on a 255 × 896 document (the Qwen2.5-0.5B width): each estimator
/// centring and decomposing on its own, against one shared <see cref="CenteredGram"/> and PCA fit (the
/// per-document signals share each representation between two blocks as well).
/// </summary>
public class SharedGramBenchmarks
{
    private DenseMatrix _x = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        DenseMatrix G() { var m = new DenseMatrix(255, 896); for (int i = 0; i < m.Data.Length; i++) m.Data[i] = rng.NextDouble() - 0.5; return m; }
        (_x, _y) = (G(), G());
        for (int i = 0; i < _y.Data.Length; i++) _y.Data[i] += _x.Data[i];
    }

    [Benchmark(Baseline = true)]
    public double EachOnItsOwn() =>
        new KsgMutualInformation().Estimate(_x, _y).Nats + LinearCka.Compute(_x, _y) + EffectiveRank.Compute(_y)
        + new TwoNnIntrinsicDimension().Estimate(_y).Dimension;

    [Benchmark]
    public double Shared()
    {
        var (gx, gy) = (CenteredGram.Of(_x), CenteredGram.Of(_y));
        var (px, py) = (PrincipalComponents.Fit(gx, 8), PrincipalComponents.Fit(gy, 8));
        return new KsgMutualInformation().Estimate(_x, _y, px, py).Nats + LinearCka.Compute(gx, gy) + EffectiveRank.Compute(gy)
            + new TwoNnIntrinsicDimension().Estimate(_y, gy).Dimension;
    }
}

/// <summary>
/// The logit lens over 6 layers × 32 positions with a 32,000-entry BF16 unembedding: per layer (log-softmax of
/// each layer's logits, then KL and entropy) against the one-pass version over vocabulary slices.
/// </summary>
public class OnePassLensBenchmarks
{
    private LoadedModel _model = null!;
    private LogitLens _lens = null!;
    private float[][] _rows = null!;
    private const int Positions = 32;

    [GlobalSetup]
    public void Setup()
    {
        var c = SyntheticModel.Preset("15m") with { Dim = 256, Layers = 6, Heads = 8, KvHeads = 8, HeadDim = 32, Ffn = 768, MaxSeq = 256 };
        _model = SyntheticModel.Build(c, seed: 1, weightType: Checkpoints.TensorType.BF16);
        _lens = new LogitLens(c, _model.Weights);
        var rng = new Random(3);
        _rows = Enumerable.Range(0, c.Layers).Select(_ => Enumerable.Range(0, Positions * c.Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Baseline = true)]
    public double PerLayer()
    {
        var final = _lens.LogProbs(_rows[^1], Positions);
        double s = 0;
        foreach (var r in _rows) s += LogitLens.Compare(final, _lens.LogProbs(r, Positions), Positions, _model.Config.Vocab).Kl;
        return s;
    }

    [Benchmark]
    public double OnePass() => _lens.MeasureLayers(_rows, Positions).Sum(v => v.Kl);
}

/// <summary>
/// One 256-token document's per-document signals on the Qwen2.5-0.5B shape (BF16, 151,936-entry vocabulary)
/// against the forward pass they need (every block's output cached, no logits): issue 13's "signals ≤ 1× the
/// forward" at a real vocabulary size. Signals = SignalsWithForward − Forward.
/// </summary>
public class SignalCostBenchmarks
{
    private LoadedModel _model = null!;
    private Transformer _tf = null!;
    private int[] _ids = null!;
    private HookPoint[] _points = null!;
    private DocumentSignals _signals = null!;

    [GlobalSetup]
    public void Setup()
    {
        var c = SyntheticModel.Preset("qwen2.5-0.5b");
        _model = SyntheticModel.Build(c, seed: 1, weightType: Checkpoints.TensorType.BF16);
        _tf = new Transformer(_model.Config, _model.Weights);
        var rng = new Random(1);
        _ids = Enumerable.Range(0, 256).Select(_ => rng.Next(c.Vocab)).ToArray();
        _points = Enumerable.Range(0, c.Layers).Select(HookPoint.ResidPost).Prepend(HookPoint.Embed).ToArray();
        _signals = new DocumentSignals(_tf, new SignalSettings());
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Baseline = true)]
    public ActivationCache Forward() => _tf.RunWithCache(_ids, _points, null, LogitRows.None).Cache;

    [Benchmark]
    public DocumentMeasurement SignalsWithForward() => _signals.Measure(_ids);
}
