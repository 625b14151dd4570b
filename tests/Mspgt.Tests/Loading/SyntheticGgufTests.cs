using Mspgt.Checkpoints;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Loading;

/// <summary>
/// A synthetic model written as a GGUF file loads through the GGUF loader: in F32 (and BF16) it gives the in-memory
/// model's logits bit for bit, quantised (Q8_0, Q4_K) within the quantisation error of the in-memory F32 model; its
/// embedded tokenizer encodes as the Hugging Face folder's tokenizer.json of the same seed.
/// </summary>
public sealed class SyntheticGgufTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-synth-gguf").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A preset's architecture at a tiny size; rows of 256 (dim, ffn) so that Q4_K applies to every matrix but o (QDim 128).</summary>
    private static ModelConfig Shrunk(string preset, bool keepRopeScaling = false) => SyntheticModel.Preset(preset) with
    {
        Layers = 2, Dim = 256, Heads = 4, KvHeads = 2, HeadDim = 32, Ffn = 512, Vocab = 300, MaxSeq = 64,
        BosId = SyntheticModel.Preset(preset).BosId is null ? null : 290, EosId = 291,
        RopeScaling = keepRopeScaling ? SyntheticModel.Preset(preset).RopeScaling : null,
    };

    private static readonly int[] Ids = [3, 5, 7, 11, 13, 255, 299, 42];

    private static float[] Logits(LoadedModel m) => new Transformer(m.Config, m.Weights).Forward(Ids);

    [Theory]
    [InlineData("qwen2.5-0.5b", TensorType.F32)]
    [InlineData("qwen3-0.6b", TensorType.F32)]
    [InlineData("llama-3.2-1b", TensorType.F32)]
    [InlineData("llama-3.1-8b", TensorType.BF16)]
    public void FloatFilesGiveTheInMemoryModelsLogitsBitForBit(string preset, TensorType type)
    {
        var c = Shrunk(preset);
        string file = Path.Combine(_dir, preset + ".gguf");
        var info = SyntheticGguf.Write(c, file, seed: 7, dtype: type);
        Assert.Equal([file], info.WeightFiles);
        using var loaded = ModelLoader.Load(file);
        var lc = loaded.Config;
        Assert.Equal((c.Architecture, c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.Ffn, c.Vocab, c.MaxSeq),
            (lc.Architecture, lc.Dim, lc.Layers, lc.Heads, lc.KvHeads, lc.HeadDim, lc.Ffn, lc.Vocab, lc.MaxSeq));
        Assert.Equal((c.NormEps, c.RopeTheta, c.TiedEmbeddings, c.QkvBias, c.QkNorm, c.BosId, c.EosId, c.AddBos),
            (lc.NormEps, lc.RopeTheta, lc.TiedEmbeddings, lc.QkvBias, lc.QkNorm, lc.BosId, lc.EosId, lc.AddBos));
        Assert.Equal(type, loaded.Weights.Layers[1].Q.Type);

        using var memory = SyntheticModel.Build(c, seed: 7, weightType: type);
        Assert.Equal(Logits(memory), Logits(loaded));
        using var other = SyntheticModel.Build(c, seed: 8, weightType: type);
        Assert.NotEqual(Logits(other), Logits(loaded));
    }

    [Theory]
    // Uniform weights in ±r: Q8_0 rounds with steps of r/127, an rms error of 0.4 % of the weights' rms, Q4_K with
    // steps of about 2r/15, 6.7 %; over the 15 matrices a token goes through here they add to about 1.5 % and 26 %
    // (measured: 1.1-1.2 % and 16-17 %). The bounds leave room for that, and stay far below a wrong file's error.
    [InlineData("qwen2.5-0.5b", TensorType.Q8_0, 0.03)]
    [InlineData("llama-3.2-1b", TensorType.Q8_0, 0.03)]
    [InlineData("qwen3-0.6b", TensorType.Q4_K, 0.3)]
    [InlineData("llama-3.1-8b", TensorType.Q4_K, 0.3)]
    public void QuantisedFilesGiveTheInMemoryLogitsWithinTheQuantisationError(string preset, TensorType type, double relative)
    {
        var c = Shrunk(preset);
        string file = Path.Combine(_dir, $"{preset}.{type}.gguf");
        SyntheticGguf.Write(c, file, seed: 5, dtype: type);
        using var loaded = ModelLoader.Load(file);
        Assert.Equal(type, loaded.Weights.Layers[0].Gate.Type);
        Assert.Equal(type, loaded.Weights.Layers[0].Down.Type);
        Assert.Equal(SyntheticGguf.MatrixType(type, c.QDim), loaded.Weights.Layers[0].O.Type);

        using var memory = SyntheticModel.Build(c, seed: 5, weightType: TensorType.F32);
        var exact = Logits(memory);
        var quantised = Logits(loaded);
        double err = Rms(exact.Zip(quantised, (a, b) => a - b)), scale = Rms(exact);
        Assert.True(err > 0, "quantised logits equal the float ones: nothing was quantised");
        Assert.True(err <= relative * scale, $"{type}: rms logit error {err} against rms logit {scale}");
        // a different seed's model is far outside that error (about √2 · the logits' rms): the test can tell a wrong
        // file from a rounded one
        using var other = SyntheticModel.Build(c, seed: 6, weightType: TensorType.F32);
        Assert.True(Rms(Logits(other).Zip(quantised, (a, b) => a - b)) > Math.Max(1.0, 3 * relative) * scale);
    }

    [Fact]
    public void Llama31RopeScalingTravelsAsRopeFreqs()
    {
        var c = Shrunk("llama-3.1-8b", keepRopeScaling: true);
        string file = Path.Combine(_dir, "scaled.gguf");
        SyntheticGguf.Write(c, file, seed: 3, dtype: TensorType.F32);
        using var loaded = ModelLoader.Load(file);
        Assert.NotNull(loaded.Weights.RopeFreqFactors);
        using var memory = SyntheticModel.Build(c, seed: 3);
        var expected = Logits(memory);
        var actual = Logits(loaded);
        double err = Rms(expected.Zip(actual, (a, b) => a - b));
        Assert.True(err <= 1e-4 * Rms(expected), $"rms logit error {err}"); // float32 divisors: rounding only
    }

    [Fact]
    public void TheEmbeddedTokenizerEncodesAsTheFoldersTokenizerJson()
    {
        var c = Shrunk("qwen2.5-0.5b") with { Vocab = 2000 };
        string file = Path.Combine(_dir, "tok.gguf"), folder = Path.Combine(_dir, "tok");
        SyntheticGguf.Write(c, file, seed: 4, dtype: TensorType.Q8_0);
        SyntheticCheckpoint.Write(c, folder, seed: 4);
        using var g = ModelLoader.Load(file);
        using var h = ModelLoader.Load(folder);
        var gt = g.Tokenizer ?? throw new Xunit.Sdk.XunitException(g.TokenizerError ?? "no tokenizer");
        var ht = h.Tokenizer!;
        Assert.Equal((c.Vocab, c.EosId), (gt.VocabSize, gt.EosId));
        const string text = "Once upon a time, a cat sat on the mat. 12 €! It's   spaced\nout.";
        var ids = gt.Encode(text, addBos: false);
        Assert.Equal(ht.Encode(text, addBos: false), ids);
        Assert.Contains(ids, id => id >= 256); // merges were applied, not just bytes
        Assert.Equal(text, gt.Decode(ids));
    }

    [Fact]
    public void AnExistingFileIsNotOverwrittenAndUnknownTypesAreBadInput()
    {
        string file = Path.Combine(_dir, "taken.gguf");
        File.WriteAllText(file, "mine");
        Assert.Throws<MspgtException>(() => SyntheticGguf.Write(Shrunk("qwen3-0.6b"), file));
        Assert.Equal("mine", File.ReadAllText(file));
        Assert.Throws<MspgtException>(() => SyntheticGguf.Write(Shrunk("qwen3-0.6b"), Path.Combine(_dir, "q.gguf"), dtype: TensorType.Q6_K));
        Assert.Equal(["taken.gguf"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    private static double Rms(IEnumerable<float> v)
    {
        double s = 0;
        int n = 0;
        foreach (float x in v) { s += (double)x * x; n++; }
        return Math.Sqrt(s / n);
    }
}
