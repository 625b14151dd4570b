using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;
using Mspgt.Numerics;
using Mspgt.Signals;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// The signals' Gram matrices with the model on the (emulated) device: formed there in float64, they equal the CPU's
/// to rounding in both forms and are exactly symmetric, and a document measured with the model on the device gets
/// every representation's Gram from it and the CPU's signal values.
/// </summary>
public class GpuGramTests
{
    static ModelConfig Config() => new()
    {
        Architecture = Architecture.Llama, Dim = 48, Layers = 3, Heads = 4, KvHeads = 2, HeadDim = 12,
        Ffn = 96, Vocab = 500, MaxSeq = 80, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    [Theory]
    [InlineData(37, 90)]   // wider than long: the sample form Xc·Xcᵀ
    [InlineData(90, 37)]   // longer than wide: the feature form XcᵀXc
    public void TheDeviceGramIsTheCpuGram(int n, int d)
    {
        using var m = SyntheticModel.Build(Config(), seed: 2);
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, 16);
        var rng = new Random(6);
        var x = new DenseMatrix(n, d);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = rng.NextDouble() * 4 - 2 + (i % d) * 0.01;
        var xc = LinearAlgebra.Center(x);
        bool sampleForm = d > n;
        var cpu = sampleForm ? LinearAlgebra.SampleGram(xc) : LinearAlgebra.FeatureGram(xc);
        var device = gpu.CenteredGram(xc, sampleForm);
        int p = sampleForm ? n : d;
        Assert.Equal((p, p), (device.Rows, device.Cols));
        double scale = cpu.Data.Max(Math.Abs);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
            {
                Assert.True(Math.Abs(cpu[i, j] - device[i, j]) <= 1e-12 * scale, $"[{i},{j}]: {device[i, j]} vs CPU {cpu[i, j]}");
                Assert.Equal(device[i, j], device[j, i]);
            }
        Assert.Equal(1, gpu.GramProducts);
    }

    [Theory]
    [InlineData(30)]   // 29 rows of 48: sample form
    [InlineData(75)]   // 74 rows of 48: feature form
    public void ADocumentMeasuredOnTheDeviceHasTheCpuSignals(int tokens)
    {
        using var m = SyntheticModel.Build(Config(), seed: 5);
        var c = m.Config;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, c, m.Weights, 96, ComputeType.F32);
        var rng = new Random(8);
        var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(c.Vocab)).ToArray();
        var settings = new SignalSettings { Seed = 3 };
        var cpu = new DocumentSignals(new Transformer(c, m.Weights), settings).Measure(ids).Values;
        var device = new DocumentSignals(gpu, settings).Measure(ids).Values;
        // The embedding and every block's output; in the feature form (d ≤ n ≤ 2d) the sample Gram as well.
        int n = tokens - 1, perRepresentation = c.Dim <= n && n <= 2 * c.Dim ? 2 : 1;
        Assert.Equal((c.Layers + 1) * perRepresentation, gpu.GramProducts);
        for (int l = 0; l < c.Layers; l++)
            for (int s = 0; s < DocumentSignals.PerDocumentSignals.Length; s++)
            {
                double a = cpu[l, s], b = device[l, s];
                if (double.IsNaN(a)) { Assert.True(double.IsNaN(b), $"block {l} {DocumentSignals.PerDocumentSignals[s]}"); continue; }
                Assert.True(Math.Abs(a - b) <= 1e-5 * (1 + Math.Abs(a)), $"block {l} {DocumentSignals.PerDocumentSignals[s]}: {b} vs CPU {a}");
            }
    }
}
