using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Tests.Models;

/// <summary>Every model path (architecture × format × dtype) against the reference outputs in shared/.</summary>
public class ParityTests
{
    /// <summary>Runs the full golden case (all fields) for the F32 weights.</summary>
    /// <param name="decoder">The forward pass to check (default: the CPU one).</param>
    internal static void CheckFullCase(string modelPath, GoldenCase g, string? tokenizer = null, Func<LoadedModel, IDecoder>? decoder = null)
    {
        using var m = ModelLoader.Load(modelPath, tokenizer, loadTokenizer: false);
        var tf = decoder?.Invoke(m) ?? new Transformer(m.Config, m.Weights);
        using var owned = tf as IDisposable;
        var s = RunSummary.Compute(tf, g.Ids);
        Golden.Close(g.LogitsLast, s.LogitsLast.Select(v => (double)v).ToArray(), "logits_last");
        if (g.Argmax != null) Assert.Equal(g.Argmax, s.Argmax);
        if (g.Nll is double nll) Golden.Close([nll], [s.Nll!.Value], "nll");
        if (g.ResidualNorms != null) Golden.Close(g.ResidualNorms, s.ResidNorm, "residual_norms");
        if (g.AttnEntropy != null) Golden.Close(g.AttnEntropy, s.AttnEntropy, "attn_entropy");
        if (g.AttnDistance != null) Golden.Close(g.AttnDistance, s.AttnDistance, "attn_distance");
        if (g.HiddenValues != null)
        {
            var point = HookPoint.ResidPost(g.HiddenBlock!.Value);
            var hidden = tf.RunWithCache(g.Ids, [point], null, LogitRows.None).Cache[point].Row(g.HiddenPosition!.Value).ToArray();
            Golden.Close(g.HiddenValues, hidden!.Select(v => (double)v).ToArray(), "hidden_state");
        }
    }

    /// <summary>Weight-variant cases carry only logits_last and argmax_last.</summary>
    internal static void CheckVariantCase(string modelPath, GoldenCase g)
    {
        using var m = ModelLoader.Load(modelPath, loadTokenizer: false);
        var tf = new Transformer(m.Config, m.Weights);
        var logits = tf.Forward(g.Ids, null, null, LogitRows.Last);
        Golden.Close(g.LogitsLast, logits.Select(v => (double)v).ToArray(), $"{g.Weights} logits_last");
        if (g.ArgmaxLast is int am) Assert.Equal(am, Mspgt.Numerics.Kernels.ArgMax(logits));
    }

    public static TheoryData<string, string> F32Cases() => new()
    {
        { "models/stories260K/stories260K.bin", "models/stories260K/golden.json" },
        { "models/stories-llama-12L", "models/stories-llama-12L/golden.json" },
        { "models/stories-qwen3-12L", "models/stories-qwen3-12L/golden.json" },
        { "fixtures/tiny-llama", "fixtures/tiny-llama/golden.json" },
        { "fixtures/tiny-qwen2", "fixtures/tiny-qwen2/golden.json" },
        { "fixtures/tiny-qwen3", "fixtures/tiny-qwen3/golden.json" },
        { "fixtures/tiny-llama3", "fixtures/tiny-llama3/golden.json" },
    };

    [Theory]
    [MemberData(nameof(F32Cases))]
    public void F32WeightsMatchGoldens(string model, string golden)
    {
        var cases = Golden.Load(TestData.Path(golden)).Where(c => c.Weights == "f32").ToList();
        Assert.NotEmpty(cases);
        foreach (var g in cases) CheckFullCase(TestData.Path(model), g);
    }

    /// <summary>
    /// The tiny-* goldens hold only the F32 case, so the BF16 folders are checked in two steps: every BF16 tensor
    /// must be the F32 tensor rounded to nearest-even (so decoding is exact), and the BF16 model's logits must stay
    /// within the README's measured BF16-vs-F32 gap (max |Δlogit| 0.19, top-1 95%) of the F32 golden.
    /// </summary>
    [Theory]
    [InlineData("fixtures/tiny-llama-bf16", "fixtures/tiny-llama", "fixtures/tiny-llama/golden.json")]
    [InlineData("fixtures/tiny-qwen2-bf16", "fixtures/tiny-qwen2", "fixtures/tiny-qwen2/golden.json")]
    [InlineData("fixtures/tiny-qwen3-bf16", "fixtures/tiny-qwen3", "fixtures/tiny-qwen3/golden.json")]
    public void Bf16WeightsAreRoundedF32AndStayCloseToGolden(string bf16Folder, string f32Folder, string golden)
    {
        using var bf = ModelLoader.Load(TestData.Path(bf16Folder), loadTokenizer: false);
        using var f32 = ModelLoader.Load(TestData.Path(f32Folder), loadTokenizer: false);
        Assert.Equal(f32.Tensors.Select(t => t.Name), bf.Tensors.Select(t => t.Name));
        void SameRounded(Mspgt.Numerics.WeightMatrix a32, Mspgt.Numerics.WeightMatrix b16)
        {
            Assert.Equal(Mspgt.Checkpoints.TensorType.BF16, b16.Type);
            var want = a32.ToFloats().Select(RoundToBf16).ToArray();
            Assert.Equal(want, b16.ToFloats());
        }
        SameRounded(f32.Weights.Embedding, bf.Weights.Embedding);
        for (int l = 0; l < f32.Config.Layers; l++)
        {
            var (a, b) = (f32.Weights.Layers[l], bf.Weights.Layers[l]);
            SameRounded(a.Q, b.Q); SameRounded(a.K, b.K); SameRounded(a.V, b.V); SameRounded(a.O, b.O);
            SameRounded(a.Gate, b.Gate); SameRounded(a.Up, b.Up); SameRounded(a.Down, b.Down);
        }
        var g = Golden.Load(TestData.Path(golden)).Single(c => c.Weights == "f32");
        var s = RunSummary.Compute(new Transformer(bf.Config, bf.Weights), g.Ids);
        double maxDiff = g.LogitsLast.Select((w, i) => Math.Abs(w - s.LogitsLast[i])).Max();
        Assert.True(maxDiff > 1e-6, "BF16 logits should differ from F32 (else the BF16 file was not really used)");
        Assert.True(maxDiff < 0.4, $"BF16 vs F32 max |Δlogit| {maxDiff}");
        int agree = g.Argmax!.Where((a, i) => a == s.Argmax[i]).Count();
        Assert.True(agree >= 0.8 * g.Argmax!.Length, $"top-1 agreement {agree}/{g.Argmax.Length}");
    }

    /// <summary>float32 → bfloat16 → float32 with round-to-nearest-even (what the fixture generator did).</summary>
    internal static float RoundToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        uint rounded = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000u;
        return BitConverter.UInt32BitsToSingle(rounded);
    }
}

public class GgufParityTests
{
    public static TheoryData<string, string> FullCases() => new()
    {
        { "models/stories260K/tinyllamas-stories-260k-f32.gguf", "models/stories260K/golden.json" },
        { "fixtures/tiny-llama.f32.gguf", "fixtures/tiny-llama/golden.json" },
        { "fixtures/tiny-qwen2.f32.gguf", "fixtures/tiny-qwen2/golden.json" },
        { "fixtures/tiny-qwen3.f32.gguf", "fixtures/tiny-qwen3/golden.json" },
        { "fixtures/tiny-llama3.f32.gguf", "fixtures/tiny-llama3/golden.json" },
    };

    [Theory]
    [MemberData(nameof(FullCases))]
    public void F32GgufMatchesGoldens(string model, string golden)
    {
        foreach (var g in Golden.Load(TestData.Path(golden)).Where(c => c.Weights == "f32"))
            ParityTests.CheckFullCase(TestData.Path(model), g);
    }

    /// <summary>small-llama: one full golden per GGUF file, computed from that file's own dequantized weights.</summary>
    [Theory]
    [InlineData("f16")]
    [InlineData("q4_0")]
    [InlineData("q4_k_m")]
    [InlineData("q6_k")]
    public void QuantizedSmallLlamaMatchesItsGolden(string weights)
    {
        var g = Golden.Load(TestData.Path("fixtures/small-llama/golden.json")).Single(c => c.Weights == weights);
        ParityTests.CheckFullCase(TestData.Path("fixtures", g.File!), g);
    }

    /// <summary>
    /// The tiny-* Q8_0 files have no golden of their own: their logits must stay within the README's measured
    /// Q8_0-vs-F32 gap (max |Δlogit| 0.39, top-1 ≥ 93%) of the F32 golden, and must really differ from it.
    /// (Exact Q8_0 decoding is checked block by block in QuantBlocksTests and GgufModelLoaderTests.)
    /// </summary>
    [Theory]
    [InlineData("fixtures/tiny-llama.q8_0.gguf", "fixtures/tiny-llama/golden.json")]
    [InlineData("fixtures/tiny-qwen2.q8_0.gguf", "fixtures/tiny-qwen2/golden.json")]
    [InlineData("fixtures/tiny-qwen3.q8_0.gguf", "fixtures/tiny-qwen3/golden.json")]
    public void Q8GgufStaysCloseToF32Golden(string model, string golden)
    {
        var g = Golden.Load(TestData.Path(golden)).Single(c => c.Weights == "f32");
        using var m = ModelLoader.Load(TestData.Path(model), loadTokenizer: false);
        var s = RunSummary.Compute(new Transformer(m.Config, m.Weights), g.Ids);
        double maxDiff = g.LogitsLast.Select((w, i) => Math.Abs(w - s.LogitsLast[i])).Max();
        Assert.True(maxDiff > 1e-6, "Q8_0 logits should differ from F32");
        Assert.True(maxDiff < 0.6, $"Q8_0 vs F32 max |Δlogit| {maxDiff}");
        int agree = g.Argmax!.Where((a, i) => a == s.Argmax[i]).Count();
        Assert.True(agree >= 0.8 * g.Argmax!.Length, $"top-1 agreement {agree}/{g.Argmax.Length}");
    }

    /// <summary>The same weights in HF (rotate-half) and GGUF/llama2.c (adjacent-pair) layouts give the same logits.</summary>
    [Theory]
    [InlineData("fixtures/tiny-llama", "fixtures/tiny-llama.f32.gguf")]
    [InlineData("models/stories260K/stories260K.bin", "models/stories260K/tinyllamas-stories-260k-f32.gguf")]
    public void BothRopeLayoutsGiveTheSameLogits(string a, string b)
    {
        int[] ids = [1, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260];
        using var ma = ModelLoader.Load(TestData.Path(a), loadTokenizer: false);
        using var mb = ModelLoader.Load(TestData.Path(b), loadTokenizer: false);
        var la = new Transformer(ma.Config, ma.Weights).Forward(ids);
        var lb = new Transformer(mb.Config, mb.Weights).Forward(ids);
        Golden.Close(la.Select(v => (double)v).ToArray(), lb.Select(v => (double)v).ToArray(), "logits", 1e-5, 1e-5);
    }
}
