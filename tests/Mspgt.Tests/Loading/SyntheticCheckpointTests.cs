using System.Text.Json;
using Mspgt.Checkpoints;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Loading;

/// <summary>
/// A synthetic model written as a Hugging Face folder loads through the normal loader with the shape it was
/// written with, runs to the same logits as the in-memory model of the same seed (bit for bit), and its generated
/// tokenizer loads with the model's vocabulary size; sharding changes the files, not the model.
/// </summary>
public sealed class SyntheticCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-synth").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A preset's architecture (biases, q/k norms, tied embeddings, rope scaling) at a tiny size.</summary>
    private static ModelConfig Shrunk(string preset) => SyntheticModel.Preset(preset) with
    {
        Layers = 2, Dim = 64, Heads = 4, KvHeads = 2, HeadDim = 16, Ffn = 96, Vocab = 300, MaxSeq = 64,
        BosId = SyntheticModel.Preset(preset).BosId is null ? null : 290, EosId = 291,
    };

    private static readonly int[] Ids = [3, 5, 7, 11, 13, 255, 299, 42];

    [Theory]
    [InlineData("qwen2.5-0.5b", TensorType.BF16)]
    [InlineData("qwen3-0.6b", TensorType.BF16)]
    [InlineData("llama-3.2-1b", TensorType.F32)]
    [InlineData("llama-3.1-8b", TensorType.BF16)]
    public void AWrittenModelLoadsAndGivesTheInMemoryModelsLogits(string preset, TensorType type)
    {
        var c = Shrunk(preset);
        string folder = Path.Combine(_dir, preset);
        var info = SyntheticCheckpoint.Write(c, folder, seed: 7, dtype: type);
        Assert.Single(info.WeightFiles);
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.Equal(c.ParameterCount, info.Parameters);

        using var loaded = ModelLoader.Load(folder);
        var lc = loaded.Config;
        Assert.Equal((c.Architecture, c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.Ffn, c.Vocab, c.MaxSeq),
            (lc.Architecture, lc.Dim, lc.Layers, lc.Heads, lc.KvHeads, lc.HeadDim, lc.Ffn, lc.Vocab, lc.MaxSeq));
        Assert.Equal((c.NormEps, c.RopeTheta, c.RopeScaling, c.TiedEmbeddings, c.QkvBias, c.QkNorm, c.BosId, c.EosId),
            (lc.NormEps, lc.RopeTheta, lc.RopeScaling, lc.TiedEmbeddings, lc.QkvBias, lc.QkNorm, lc.BosId, lc.EosId));
        Assert.Equal(type, loaded.Weights.Layers[1].Down.Type);
        Assert.Equal(info.WeightBytes, new FileInfo(info.WeightFiles[0]).Length - HeaderBytes(info.WeightFiles[0]));

        using var memory = SyntheticModel.Build(c, seed: 7, weightType: type);
        var expected = new Transformer(memory.Config, memory.Weights).Forward(Ids);
        var actual = new Transformer(loaded.Config, loaded.Weights).Forward(Ids);
        Assert.Equal(expected, actual);

        using var other = SyntheticModel.Build(c, seed: 8, weightType: type);
        Assert.NotEqual(new Transformer(other.Config, other.Weights).Forward(Ids), actual);

        var tok = loaded.Tokenizer ?? throw new Xunit.Sdk.XunitException(loaded.TokenizerError ?? "no tokenizer");
        Assert.Equal(c.Vocab, tok.VocabSize);
        Assert.Equal((c.BosId, c.EosId), (tok.BosId, tok.EosId));
        const string text = "Once upon a time, a cat sat. 12 €!";
        var encoded = tok.Encode(text, addBos: false);
        Assert.All(encoded, id => Assert.InRange(id, 0, c.Vocab - 1));
        Assert.Equal(text, tok.Decode(encoded));
    }

    [Fact]
    public void ShardsWithAnIndexHoldTheSameModel()
    {
        var c = Shrunk("llama-3.1-8b");
        string one = Path.Combine(_dir, "one"), many = Path.Combine(_dir, "many");
        SyntheticCheckpoint.Write(c, one, seed: 3);
        var info = SyntheticCheckpoint.Write(c, many, seed: 3, maxShardBytes: 40_000);
        Assert.True(info.WeightFiles.Count >= 3, $"{info.WeightFiles.Count} shards");
        int n = info.WeightFiles.Count;
        Assert.Equal(Enumerable.Range(1, n).Select(i => $"model-{i:D5}-of-{n:D5}.safetensors"), info.WeightFiles.Select(Path.GetFileName));
        Assert.False(File.Exists(Path.Combine(many, "model.safetensors")));

        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(many, "model.safetensors.index.json")));
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(info.WeightBytes, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.Equal(info.WeightBytes, info.WeightFiles.Sum(f => new FileInfo(f).Length - HeaderBytes(f)));
        Assert.Equal(SyntheticModel.DrawOrder(c).Select(t => t.HfName).Order(StringComparer.Ordinal), map.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(info.WeightFiles.Select(Path.GetFileName).ToHashSet(), map.Values.ToHashSet());

        using var a = ModelLoader.Load(one);
        using var b = ModelLoader.Load(many);
        Assert.Equal(n, b.WeightFiles.Count);
        Assert.Equal(new Transformer(a.Config, a.Weights).Forward(Ids), new Transformer(b.Config, b.Weights).Forward(Ids));
    }

    [Fact]
    public void AFolderThatHoldsFilesIsNotOverwritten()
    {
        string folder = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var e = Assert.Throws<MspgtException>(() => SyntheticCheckpoint.Write(Shrunk("qwen3-0.6b"), folder));
        Assert.Contains("not empty", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
        Assert.Equal(["taken"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void QuantizedTypesAreBadInput() =>
        Assert.Throws<MspgtException>(() => SyntheticCheckpoint.Write(Shrunk("qwen3-0.6b"), Path.Combine(_dir, "q"), dtype: TensorType.Q8_0));

    private static long HeaderBytes(string file)
    {
        using var f = File.OpenRead(file);
        var len = new byte[8];
        f.ReadExactly(len);
        return 8 + BitConverter.ToInt64(len);
    }
}
