using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;
using Mspgt.Numerics;
using Mspgt.Signals;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// The logit lens with the model on the (emulated) device: its products and sums made there give the CPU's lens_kl and
/// lens_entropy per layer (float exponentials against the CPU's double ones: 1e-6), and cutting the positions into
/// chunks changes nothing (every row's sums are its own).
/// </summary>
public class GpuLensTests
{
    // A vocabulary large against the model, so the CPU path crosses several slices and the device several chunks.
    static ModelConfig Config() => new()
    {
        Architecture = Architecture.Llama, Dim = 48, Layers = 3, Heads = 4, KvHeads = 2, HeadDim = 12,
        Ffn = 96, Vocab = 3000, MaxSeq = 64, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    [Fact]
    public void TheDeviceLensIsTheCpuLens()
    {
        using var m = SyntheticModel.Build(Config(), seed: 9);
        var c = m.Config;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, c, m.Weights, 32);
        // Real residual rows: every block's output at 7 positions of a forward pass, the last block's as the reference.
        var rng = new Random(4);
        var ids = Enumerable.Range(0, 20).Select(_ => rng.Next(c.Vocab)).ToArray();
        int[] positions = [0, 3, 6, 9, 12, 15, 19];
        var points = Enumerable.Range(0, c.Layers).Select(HookPoint.ResidPost).ToArray();
        var (_, cache) = new Transformer(c, m.Weights).RunWithCache(ids, points, null, LogitRows.None);
        var sets = points.Select(p => positions.SelectMany(t => cache[p].Data.AsSpan(t * c.Dim, c.Dim).ToArray()).ToArray()).ToList();

        var cpu = new LogitLens(c, m.Weights).MeasureLayers(sets, positions.Length, slice: 512);
        var device = new LogitLens(c, m.Weights, gpu).MeasureLayers(sets, positions.Length);
        for (int j = 0; j < sets.Count; j++)
        {
            Assert.True(Math.Abs(cpu[j].Kl - device[j].Kl) <= 1e-6 * (1 + cpu[j].Kl), $"set {j}: KL {device[j].Kl} vs CPU {cpu[j].Kl}");
            Assert.True(Math.Abs(cpu[j].Entropy - device[j].Entropy) <= 1e-6 * cpu[j].Entropy, $"set {j}: entropy {device[j].Entropy} vs CPU {cpu[j].Entropy}");
        }
        Assert.True(cpu[0].Kl > 1e-3, "the first block must read differently from the last");
        Assert.Equal(0, device[^1].Kl);

        // Chunks of 2 positions (the logits of 2 × 3 rows) give the sums of one chunk, bit for bit.
        var normed = new float[sets.Count * positions.Length * c.Dim];
        for (int j = 0; j < sets.Count; j++)
            Kernels.RmsNormRows(sets[j], positions.Length, m.Weights.FinalNorm, c.NormEps, normed.AsSpan(j * positions.Length * c.Dim));
        var whole = gpu.LensSums(normed, sets.Count, positions.Length);
        var chunked = gpu.LensSums(normed, sets.Count, positions.Length, logitsBytes: 2L * sets.Count * c.Vocab * sizeof(float));
        Assert.Equal(whole.M, chunked.M);
        Assert.Equal(whole.S, chunked.S);
        Assert.Equal(whole.B, chunked.B);
        Assert.Equal(whole.A, chunked.A);
    }
}
