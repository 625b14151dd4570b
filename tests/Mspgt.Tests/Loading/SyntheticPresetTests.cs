using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Loading;

/// <summary>The real-shape presets have the released models' parameter counts, and a random model of a real
/// architecture (q/k/v biases, q/k norms, tied embeddings) builds and runs.</summary>
public class SyntheticPresetTests
{
    [Theory]
    // Parameter counts from the released config.json shapes (embeddings counted once when tied).
    [InlineData("qwen2.5-0.5b", Architecture.Qwen2, 494_032_768L)]
    [InlineData("qwen3-0.6b", Architecture.Qwen3, 596_049_920L)]
    [InlineData("llama-3.2-1b", Architecture.Llama, 1_235_814_400L)]
    [InlineData("llama-3.1-8b", Architecture.Llama, 8_030_261_248L)]
    public void RealShapesHaveTheReleasedParameterCounts(string name, Architecture arch, long parameters)
    {
        var c = SyntheticModel.Preset(name);
        c.Validate(name);
        Assert.Equal(arch, c.Architecture);
        Assert.Equal(parameters, c.ParameterCount);
    }

    [Theory]
    [InlineData("qwen2.5-0.5b")]
    [InlineData("qwen3-0.6b")]
    public void AShrunkRealArchitectureBuildsAndRuns(string name)
    {
        var c = SyntheticModel.Preset(name) with { Layers = 2, Dim = 64, Heads = 4, KvHeads = 2, HeadDim = 32, Ffn = 96, Vocab = 300, MaxSeq = 64 };
        using var m = SyntheticModel.Build(c, seed: 2, weightType: Mspgt.Checkpoints.TensorType.BF16);
        Assert.Same(m.Weights.Embedding, m.Weights.Output);
        var logits = new Transformer(m.Config, m.Weights).Forward(new[] { 3, 5, 7, 11 });
        Assert.Equal(4 * c.Vocab, logits.Length);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void AnUnknownPresetIsBadInput() =>
        Assert.Throws<MspgtException>(() => SyntheticModel.Preset("gpt-5"));
}
