using ILGPU;
using ILGPU.Runtime;
using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;
using Mspgt.Numerics;
using Mspgt.Tests.Models;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// <c>--dtype bf16|f16</c> on the emulated device: the rounding code against .NET's Half and the fixtures' BF16
/// files, the 16-bit product kernel against a host reference, the whole forward pass against the F32 goldens
/// within <see cref="DeviceParity.HalfWithin"/>'s derived bounds, and the checks that would fail if the pass
/// silently ran in f32 (bytes on the device, stored bits, a difference from f32 above a floor).
/// </summary>
public class GpuHalfTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static GpuTransformer OnDevice(LoadedModel m, ComputeType t) =>
        GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, 64, t);

    static IEnumerable<float> Samples()
    {
        float[] edges = [0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, -65520f, 1e5f, 6.1035156e-05f, 6.0975552e-05f,
            5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 8.940697e-08f, 1e-10f, 3.3895314e38f, float.MaxValue,
            float.Epsilon, float.PositiveInfinity, float.NegativeInfinity, 1.00048828125f, 1.001953125f, 1.0009765625f];
        foreach (var f in edges) yield return f;
        // Every f16 value and the midpoints around it (ties), in both signs.
        for (int h = 0; h < 0x7C00; h++)
        {
            float v = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(h + 1));
            float mid = (float)(((double)v + next) / 2);
            foreach (var x in new[] { v, mid, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(mid) + 1), BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(mid) - 1) })
            {
                yield return x;
                yield return -x;
            }
        }
        var rng = new Random(7);
        for (int i = 0; i < 200_000; i++) yield return BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31));
    }

    [Fact]
    public void RoundingMatchesDotNetHalfAndTheFixturesBf16()
    {
        foreach (var f in Samples())
        {
            if (float.IsNaN(f)) continue;
            Assert.True(BitConverter.HalfToUInt16Bits((System.Half)f) == HalfBits.F16FromFloat(f), $"f16 of {f:R}");
            Assert.True(BitConverter.SingleToUInt32Bits(ParityTests.RoundToBf16(f)) == (uint)HalfBits.Bf16FromFloat(f) << 16, $"bf16 of {f:R}");
        }
        for (int h = 0; h < 65536; h++)
        {
            float want = (float)BitConverter.UInt16BitsToHalf((ushort)h), got = HalfBits.F16ToFloat((ushort)h);
            Assert.True(float.IsNaN(want) ? float.IsNaN(got) : BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"f16 bits {h:X4}");
            var decoded = new float[1];
            RowDecoder.DecodeBf16(BitConverter.GetBytes((ushort)h), decoded);
            Assert.Equal(BitConverter.SingleToInt32Bits(decoded[0]), BitConverter.SingleToInt32Bits(HalfBits.Bf16ToFloat((ushort)h)));
        }
        Assert.True(float.IsNaN(HalfBits.Bf16ToFloat(HalfBits.Bf16FromFloat(float.NaN))));
        Assert.True(float.IsNaN(HalfBits.F16ToFloat(HalfBits.F16FromFloat(float.NaN))));
    }

    /// <summary>The 16-bit product (activation rounding kernel + bf16/f16 GEMM + f16 gather) equals the host's rounding then f32 sums in k order.</summary>
    [Theory]
    [InlineData(ComputeType.Bf16)]
    [InlineData(ComputeType.F16)]
    public void SixteenBitProductMatchesTheHostReference(ComputeType type)
    {
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        int code = HalfBits.Code(type);
        const int T = 3, n = 5, k = 37;
        var rng = new Random(3);
        var x = Enumerable.Range(0, T * k).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var wBits = w.Select(v => HalfBits.FromFloat(v, code)).ToArray();
        using var dw = acc.Allocate1D(wBits);
        using var dx = acc.Allocate1D(x);
        using var dy = acc.Allocate1D<float>(T * n);
        using var ops = new MatrixOps(acc, new RowKernels(acc), null, type);
        ops.MatMulABt(dx.View, T, new DeviceMatrix(n, k, type, null, dw), dy.View);
        var got = dy.GetAsArray1D();
        for (int t = 0; t < T; t++)
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int i = 0; i < k; i++)
                    sum += HalfBits.ToFloat(HalfBits.FromFloat(x[t * k + i], code), code) * HalfBits.ToFloat(wBits[j * k + i], code);
                Assert.True(Math.Abs(sum - got[t * n + j]) <= 1e-6f * (1 + Math.Abs(sum)), $"[{t},{j}] device {got[t * n + j]} vs host {sum}");
            }
        // The embedding gather widens the stored bits exactly.
        using var ids = acc.Allocate1D(new[] { 4, 0 });
        using var rows = acc.Allocate1D<float>(2 * k);
        ops.Gather(new DeviceMatrix(n, k, type, null, dw), ids.View, rows.View);
        var g = rows.GetAsArray1D();
        for (int i = 0; i < k; i++)
        {
            Assert.Equal(HalfBits.ToFloat(wBits[4 * k + i], code), g[i]);
            Assert.Equal(HalfBits.ToFloat(wBits[i], code), g[k + i]);
        }
    }

    public static TheoryData<string, string, ComputeType> HalfCases()
    {
        var d = new TheoryData<string, string, ComputeType>();
        foreach (var t in new[] { ComputeType.Bf16, ComputeType.F16 })
        {
            d.Add("fixtures/tiny-llama", "fixtures/tiny-llama/golden.json", t);
            d.Add("fixtures/tiny-qwen2", "fixtures/tiny-qwen2/golden.json", t);
            d.Add("fixtures/tiny-qwen3", "fixtures/tiny-qwen3/golden.json", t);
            d.Add("models/stories260K/stories260K.bin", "models/stories260K/golden.json", t);
        }
        return d;
    }

    /// <summary>
    /// The 16-bit forward pass against the F32 golden: max |Δlogit| between 0.1 and 3 times (+1e-3) the error of the
    /// CPU's f32 pass over the same rounded weights (the bound <see cref="DeviceParity.HalfWithin"/> derives). All
    /// positions' logits, not just the last.
    /// </summary>
    [Theory]
    [MemberData(nameof(HalfCases))]
    public void HalfPassStaysWithinTheDerivedBoundOfTheGolden(string model, string golden, ComputeType type)
    {
        using var m = ModelLoader.Load(TestData.Path(model), loadTokenizer: false);
        var g = Golden.Load(TestData.Path(golden)).First(c => c.Weights == "f32");
        var f32 = new Transformer(m.Config, m.Weights).Forward(g.Ids);
        // The golden's last row checks that the CPU f32 pass is the golden here (so it can stand for it at every row).
        Golden.Close(g.LogitsLast, f32[^m.Config.Vocab..].Select(v => (double)v).ToArray(), "cpu f32 logits_last");
        var weightsOnly = new Transformer(m.Config, GpuWeights.AsStored(m.Weights, type)).Forward(g.Ids);
        using var gpu = OnDevice(m, type);
        var got = gpu.Forward(g.Ids);
        double Max(float[] a) => a.Select((v, i) => (double)Math.Abs(v - f32[i])).Max();
        double diff = Max(got), rw = Max(weightsOnly);
        output.WriteLine($"{model} {type}: max |Δlogit| {diff:G4}, rounded-weights CPU {rw:G4}, ratio {diff / rw:F2}");
        Assert.True(DeviceParity.HalfWithin(diff, rw), $"{type}: max |Δlogit| {diff:G4} vs the rounded-weights CPU pass's {rw:G4}");
        Assert.True(diff > 1e-3, $"{type} logits are within {diff:G3} of f32: the pass did not round");
        Assert.EndsWith($", {DeviceChoice.Name(type)})", gpu.Device);
    }

    /// <summary>
    /// bf16 really is bf16 on the device: the matrices take half the bytes, every matrix of tiny-llama's F32 weights
    /// is stored as exactly the bits of the fixture's BF16 file (rounded to nearest even), a BF16 checkpoint is
    /// stored unchanged, and the logits differ from the f32 pass.
    /// </summary>
    [Fact]
    public void Bf16StoresTheFixturesBf16BitsInHalfTheBytes()
    {
        using var f32 = ModelLoader.Load(TestData.Path("fixtures/tiny-llama"), loadTokenizer: false);
        using var bf = ModelLoader.Load(TestData.Path("fixtures/tiny-llama-bf16"), loadTokenizer: false);
        using var a = OnDevice(f32, ComputeType.Bf16);
        using var b = OnDevice(bf, ComputeType.Bf16);
        // tiny-llama has an untied unembedding: seven matrices per layer plus the embedding and the output.
        long matrices32 = f32.Weights.Layers.Sum(L => new[] { L.Q, L.K, L.V, L.O, L.Gate, L.Up, L.Down }.Sum(x => (long)x.Rows * x.Cols * 4))
                          + 2L * f32.Weights.Embedding.Rows * f32.Weights.Embedding.Cols * 4;
        Assert.Equal(matrices32 / 2, GpuWeights.BytesNeeded(f32.Weights, ComputeType.F32) - a.WeightBytes);
        Assert.True(a.WeightBytes < 0.52 * GpuWeights.BytesNeeded(f32.Weights, ComputeType.F32));
        Assert.Equal(a.WeightBytes, b.WeightBytes);

        // Every matrix on the device is the BF16 file's tensor, bit for bit, from either checkpoint.
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        using var up = GpuWeights.Upload(device, f32.Weights, 0, ComputeType.Bf16);
        using var up16 = GpuWeights.Upload(device, bf.Weights, 0, ComputeType.Bf16);
        IEnumerable<(DeviceMatrix, WeightMatrix)> Pairs(GpuWeights u) =>
            new[] { (u.Embedding, bf.Weights.Embedding), (u.Output, bf.Weights.Output) }.Concat(u.Layers.Zip(bf.Weights.Layers).SelectMany(p =>
                new[] { (p.First.Q, p.Second.Q), (p.First.K, p.Second.K), (p.First.V, p.Second.V), (p.First.O, p.Second.O),
                        (p.First.Gate, p.Second.Gate), (p.First.Up, p.Second.Up), (p.First.Down, p.Second.Down) }));
        foreach (var (dm, wm) in Pairs(up).Concat(Pairs(up16)))
        {
            Assert.Null(dm.F32);
            var bits = dm.Half!.GetAsArray1D();
            var want = new ushort[bits.Length];
            for (int r = 0; r < wm.Rows; r++)
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(wm.RowSpan(r)).CopyTo(want.AsSpan(r * wm.Cols));
            Assert.Equal(want, bits);
        }
        int[] ids = [1, 7, 42, 99, 3, 250];
        using var f = OnDevice(f32, ComputeType.F32);
        Assert.NotEqual(f.Forward(ids), a.Forward(ids));
    }

    [Fact]
    public void F16RefusesAWeightBeyondItsRangeInOneLine()
    {
        using var m = ModelLoader.Load(TestData.Path("fixtures/tiny-llama"), loadTokenizer: false);
        var big = m.Weights.Layers[0].Up.ToFloats();
        big[17] = 70000f;
        var layers = m.Weights.Layers.ToArray();
        var L = layers[0];
        layers[0] = new LayerWeights
        {
            AttnNorm = L.AttnNorm, FfnNorm = L.FfnNorm, Q = L.Q, K = L.K, V = L.V, O = L.O, Gate = L.Gate, Down = L.Down,
            Up = WeightMatrix.FromFloats(L.Up.Name, L.Up.Rows, L.Up.Cols, big),
        };
        var w = new ModelWeights { Embedding = m.Weights.Embedding, Output = m.Weights.Output, FinalNorm = m.Weights.FinalNorm, Layers = layers };
        using (var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!)
        {
            var e = Assert.Throws<MspgtException>(() => GpuTransformer.Create(device, m.Config, w, 16, ComputeType.F16));
            Assert.Contains("f16's range", e.Message);
            Assert.Contains(L.Up.Name, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        // bf16 has f32's exponent range: the same weights upload.
        using var ok = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, w, 16, ComputeType.Bf16);
    }
}
