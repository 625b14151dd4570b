using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;
using Mspgt.Tests.Models;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// The whole GPU forward pass on ILGPU's CPU accelerator (emulating an NVIDIA device): the F32 goldens of every
/// architecture within the fixtures' tolerance, GGUF quantized weights dequantized on upload, decoding with a KV
/// cache, sliding-window attention and editors, each against the CPU forward pass.
/// </summary>
public class GpuParityTests
{
    static GpuTransformer OnDevice(LoadedModel m) =>
        GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, plannedTokens: 64);

    public static TheoryData<string, string> F32Cases() => new()
    {
        { "models/stories260K/stories260K.bin", "models/stories260K/golden.json" },
        { "fixtures/tiny-llama", "fixtures/tiny-llama/golden.json" },
        { "fixtures/tiny-qwen2", "fixtures/tiny-qwen2/golden.json" },
        { "fixtures/tiny-qwen3", "fixtures/tiny-qwen3/golden.json" },
        { "fixtures/tiny-llama3", "fixtures/tiny-llama3/golden.json" },
    };

    [Theory]
    [MemberData(nameof(F32Cases))]
    public void F32GoldensMatchOnTheEmulatedDevice(string model, string golden)
    {
        var cases = Golden.Load(TestData.Path(golden)).Where(c => c.Weights == "f32").ToList();
        Assert.NotEmpty(cases);
        foreach (var g in cases) ParityTests.CheckFullCase(TestData.Path(model), g, decoder: OnDevice);
    }

    /// <summary>The warp-per-row kernels (CUDA's fused attention and RMSNorm; the emulator runs a thread per row by
    /// default) through the whole forward: the goldens of a GQA Llama (head size 8) and of Qwen2 (q/k/v bias, head size 16).</summary>
    [Theory]
    [InlineData("fixtures/tiny-llama", "fixtures/tiny-llama/golden.json")]
    [InlineData("fixtures/tiny-qwen2", "fixtures/tiny-qwen2/golden.json")]
    public void F32GoldensMatchWithTheWarpKernels(string model, string golden)
    {
        var cases = Golden.Load(TestData.Path(golden)).Where(c => c.Weights == "f32").ToList();
        Assert.NotEmpty(cases);
        foreach (var g in cases)
            ParityTests.CheckFullCase(TestData.Path(model), g, decoder: m =>
                GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, plannedTokens: 64, warpPerRow: true));
    }

    static void Close(float[] want, float[] got, string what, float tol = 1e-4f)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"{what}[{i}]: device {got[i]} vs CPU {want[i]}");
    }

    [Theory]
    [InlineData("fixtures/tiny-llama.q8_0.gguf")]
    [InlineData("fixtures/small-llama.q4_k_m.gguf")]
    public void QuantizedGgufIsDequantizedOnUpload(string file)
    {
        using var m = ModelLoader.Load(TestData.Path(file), loadTokenizer: false);
        int[] ids = [1, 5, 9, 17, 33, 65, 129];
        var cpu = new Transformer(m.Config, m.Weights).Forward(ids);
        using var gpu = OnDevice(m);
        Close(cpu, gpu.Forward(ids), file);
    }

    [Fact]
    public void DecodingWithAKvCacheMatchesTheCpu()
    {
        using var m = ModelLoader.Load(TestData.Path("fixtures/tiny-qwen3"), loadTokenizer: false);
        int[] prompt = [3, 14, 15, 92, 65];
        var cpu = new Transformer(m.Config, m.Weights);
        using var gpu = OnDevice(m);
        var sampling = new SamplingOptions();
        Assert.Equal(Generator.Generate(cpu, prompt, 6, sampling), Generator.Generate(gpu, prompt, 6, sampling));

        // Two caches used in turn: the device holds one at a time and must not mix them up.
        var (ca, cb) = (gpu.NewCache(16), gpu.NewCache(16));
        var (ha, hb) = (cpu.NewCache(16), cpu.NewCache(16));
        Close(cpu.Forward(prompt, ha), gpu.Forward(prompt, ca), "a prompt");
        Close(cpu.Forward([7, 8], hb), gpu.Forward([7, 8], cb), "b prompt");
        Close(cpu.Forward([9], ha), gpu.Forward([9], ca), "a step");
        Close(cpu.Forward([10], hb), gpu.Forward([10], cb), "b step");
    }

    [Fact]
    public void SlidingWindowMatchesTheCpu()
    {
        using var m = ModelLoader.Load(TestData.Path("fixtures/tiny-qwen2"), loadTokenizer: false);
        var config = m.Config with { SlidingWindow = 3, SlidingWindowFromLayer = 1 };
        int[] ids = [2, 4, 6, 8, 10, 12, 14, 16];
        var cpu = new Transformer(config, m.Weights).Forward(ids);
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        Close(cpu, gpu.Forward(ids), "logits");
        Close(new Transformer(m.Config, m.Weights).Forward(ids), OnDevice(m).Forward(ids), "full attention");
    }

    [Fact]
    public void HooksObserveAndEditAsOnTheCpu()
    {
        using var m = ModelLoader.Load(TestData.Path("fixtures/tiny-llama"), loadTokenizer: false);
        int[] ids = [1, 2, 3, 4, 5, 6];
        Hooks Edits() => new Hooks()
            .Edit(HookPoint.ResidPost(1), t => t.Row(2).Clear())
            .Edit(HookPoint.AttnPattern(2), t => { foreach (ref var v in t.Data) v *= 0.5f; })
            .Edit(HookPoint.AttnScores(0), t => t.Data[5] = 3f);
        HookPoint[] points = [HookPoint.Embed, HookPoint.AttnZ(3), HookPoint.AttnPattern(2), HookPoint.MlpPost(0), HookPoint.FinalNorm, HookPoint.Logits];
        var (cpuLogits, cpuCache) = new Transformer(m.Config, m.Weights).RunWithCache(ids, points, Edits());
        using var gpu = OnDevice(m);
        var (gpuLogits, gpuCache) = gpu.RunWithCache(ids, points, Edits());
        Close(cpuLogits, gpuLogits, "logits");
        foreach (var p in points)
        {
            Assert.Equal(cpuCache[p].Shape, gpuCache[p].Shape);
            Assert.Equal(cpuCache[p].StartPosition, gpuCache[p].StartPosition);
            Close(cpuCache[p].Data, gpuCache[p].Data, p.Name);
        }
        // The edits changed the result (so the comparison above is not of two unedited passes).
        Assert.NotEqual(gpu.Forward(ids)[^1], gpuLogits[^1]);
    }
}
