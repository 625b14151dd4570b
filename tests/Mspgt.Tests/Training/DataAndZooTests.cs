using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Training;
using Mspgt.Corpora;

namespace Mspgt.Tests.Training;

public sealed class DataAndZooTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"mspgt-zoo-{Environment.ProcessId}-{Guid.NewGuid():N}");
    public DataAndZooTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void ParallelTeacherSamplingEqualsCorpusSample()
    {
        var c = SyntheticModel.Preset("15m") with { Dim = 32, Layers = 2, Heads = 4, KvHeads = 4, HeadDim = 8, Ffn = 48, Vocab = 40, MaxSeq = 64 };
        var built = SyntheticModel.Build(c, seed: 3);
        var model = new Transformer(built.Config, built.Weights);
        var expected = Corpus.Sample(model, null, 6, 20, seed: 7).Documents.Select(d => d.Ids).ToList();
        var mine = TrainingData.SampleTeacher(model, c.BosId!.Value, c.EosId, 6, 20, seed: 7, threads: 2);
        Assert.Equal(expected, mine);
        string cache = Path.Combine(_dir, "docs.bin");
        TrainingData.SaveDocuments(cache, mine, "key A");
        Assert.Equal(mine, TrainingData.LoadDocuments(cache, "key A"));
        Assert.Throws<MspgtException>(() => TrainingData.LoadDocuments(cache, "key B"));
    }

    [Fact]
    public void SplitHoldsOutTheLastFivePercentOfDocuments()
    {
        var docs = Enumerable.Range(0, 40).Select(i => new[] { 1, i + 2, i + 3 }).ToList();
        var d = TrainingData.Split(docs, "t");
        Assert.Equal(38, d.TrainDocuments);
        Assert.Equal(2, d.ValidationDocuments);
        Assert.Equal(new[] { 1, 40, 41, 1, 41, 42 }, d.Validation);
        Assert.Equal(38 * 3, d.Train.Length);
        Assert.Throws<MspgtException>(() => TrainingData.Split([[1, 2]], "one"));
    }

    [Fact]
    public void ZooTrainsEveryStudentOnOneCorpusAndResumes()
    {
        string tok = TestData.Path("models", "stories260K", "tok512.bin");
        var stories = Enumerable.Range(0, 30).Select(i => $"Once upon a time there was a cat number {i}. The cat liked to play in the sun with a red ball.");
        File.WriteAllText(Path.Combine(_dir, "stories.txt"), string.Join("\n\n", stories));
        File.WriteAllText(Path.Combine(_dir, "zoo.json"), $$"""
            { "corpus": "stories.txt", "tokenizer": "{{tok.Replace("\\", "\\\\")}}",
              "defaults": { "dim": 16, "heads": 2, "kv_heads": 1, "ffn": 24, "tied": true, "seq": 16, "batch": 2, "steps": 2,
                            "warmup": 1, "checkpoint_every": 1 },
              "students": [ { "name": "llama-1L", "arch": "llama", "layers": 1 }, { "name": "qwen3-2L", "arch": "qwen3", "layers": 2 } ] }
            """);
        var recipe = ZooRecipe.Load(Path.Combine(_dir, "zoo.json"));
        string outDir = Path.Combine(_dir, "out");
        var entries = ZooRunner.Run(recipe, outDir);
        Assert.Equal(["llama-1L", "qwen3-2L"], entries.Select(e => e.Name));
        Assert.Equal(["llama", "qwen3"], entries.Select(e => e.Architecture));
        Assert.All(entries, e => Assert.Equal(3, e.Checkpoints.Count)); // steps 0, 1, 2
        Assert.True(File.Exists(Path.Combine(outDir, "zoo.json")));
        var before = File.ReadAllBytes(Path.Combine(outDir, "qwen3-2L", "checkpoints", "step-000002", "model.safetensors"));
        var again = ZooRunner.Run(recipe, outDir); // finished students are not retrained
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "qwen3-2L", "checkpoints", "step-000002", "model.safetensors")));
        Assert.Equal(entries.Select(e => e.ValLoss), again.Select(e => e.ValLoss));
    }

    [Fact]
    public void BadRecipesGiveOneLineErrors()
    {
        string p = Path.Combine(_dir, "bad.json");
        File.WriteAllText(p, """{ "corpus": "x.txt", "tokenizer": "t.bin", "students": [ { "name": "a", "arch": "gpt2", "layers": 1, "dim": 8, "heads": 2, "ffn": 8, "seq": 4, "batch": 1, "steps": 1 } ] }""");
        Assert.Contains("unknown architecture", Assert.Throws<MspgtException>(() => ZooRecipe.Load(p)).Message);
        File.WriteAllText(p, """{ "corpus": "x.txt", "tokenizer": "t.bin", "students": [ { "name": "a", "arch": "llama", "layer": 1 } ] }""");
        Assert.Contains("unknown student key", Assert.Throws<MspgtException>(() => ZooRecipe.Load(p)).Message);
        File.WriteAllText(p, """{ "students": [] }""");
        Assert.Throws<MspgtException>(() => ZooRecipe.Load(p));
    }
}
