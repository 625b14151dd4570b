using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Training;

namespace Mspgt.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"mspgt-train-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private readonly string _tok;

    public TrainerTests()
    {
        Directory.CreateDirectory(_dir);
        _tok = Path.Combine(_dir, "dummy-vocab.txt");
        File.WriteAllText(_tok, "stand-in tokenizer file (copied into checkpoints)");
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>A learnable toy corpus: documents counting up from a random start (mod 30, offset 2), BOS first.</summary>
    private static TrainingData CountingData()
    {
        var rng = new Random(5);
        var docs = Enumerable.Range(0, 40).Select(_ =>
        {
            int s = rng.Next(30);
            return new[] { 1 }.Concat(Enumerable.Range(0, 20).Select(i => 2 + (s + i) % 30)).ToArray();
        }).ToList();
        return TrainingData.Split(docs, "counting");
    }

    private static TrainSettings Settings(Architecture arch, int steps, bool tied = false) => new()
    {
        Architecture = arch, Layers = 2, Dim = 16, Heads = 4, KvHeads = 2, Ffn = 24, HeadDim = 6, Tied = tied,
        Seq = 12, Batch = 5, Steps = steps, Lr = 1e-2, Warmup = 2, Seed = 11, EvalWindows = 4, CheckpointEvery = 2,
    };

    private static float[] FinalWeights(TrainingResult r, TrainSettings s)
    {
        var m = new TrainingModel(s.ToModelConfig(32, 1, 2));
        TrainingCheckpoint.Load(r.FinalCheckpoint, m, new AdamW(m.Count, 0.1f));
        return m.Values;
    }

    [Fact]
    public void TwoRunsWithTheSameSeedGiveBitIdenticalWeights()
    {
        var data = CountingData();
        var s = Settings(Architecture.Qwen2, 3);
        var a = FinalWeights(Trainer.Run(s, data, _tok, 32, 1, 2, Path.Combine(_dir, "a"), threads: 2), s);
        var b = FinalWeights(Trainer.Run(s, data, _tok, 32, 1, 2, Path.Combine(_dir, "b"), threads: 1), s);
        Assert.Equal(a, b); // also across thread counts
        var c = FinalWeights(Trainer.Run(s with { Seed = 12 }, data, _tok, 32, 1, 2, Path.Combine(_dir, "c")), s);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ResumeContinuesBitIdentically()
    {
        var data = CountingData();
        var s = Settings(Architecture.Qwen3, 4, tied: true);
        var straight = FinalWeights(Trainer.Run(s, data, _tok, 32, 1, 2, Path.Combine(_dir, "straight")), s);
        string split = Path.Combine(_dir, "split");
        // "Interrupted" after step 2: train a run whose checkpoint at step 2 exists, then delete everything later.
        Trainer.Run(s, data, _tok, 32, 1, 2, split);
        Directory.Delete(Path.Combine(split, "checkpoints", "step-000004"), true);
        var r = Trainer.Run(s, data, _tok, 32, 1, 2, split);
        Assert.True(r.Resumed);
        Assert.Equal(2, r.ResumedFromStep);
        Assert.Equal(straight, FinalWeights(r, s));
        var rows = LossLog.ReadCsv(Path.Combine(split, "loss.csv"));
        Assert.Equal([1L, 2, 3, 4], rows.Select(x => x.Step));
        // A different setting in the same folder is refused, not silently mixed.
        var ex = Assert.Throws<MspgtException>(() => Trainer.Run(s with { Lr = 5e-3 }, data, _tok, 32, 1, 2, split));
        Assert.Contains("different settings", ex.Message);
    }

    [Theory]
    [InlineData(Architecture.Llama, false)]
    [InlineData(Architecture.Qwen2, true)]
    [InlineData(Architecture.Qwen3, false)]
    public void CheckpointIsAHuggingFaceFolderTheEngineOpens(Architecture arch, bool tied)
    {
        var data = CountingData();
        var s = Settings(arch, 2, tied);
        var r = Trainer.Run(s, data, _tok, 32, 1, 2, Path.Combine(_dir, "hf"), lossFigure: Mspgt.Reporting.LossFigure.Write);
        foreach (var f in new[] { "config.json", "model.safetensors", "training.json", "optimizer.bin", "dummy-vocab.txt" })
            Assert.True(File.Exists(Path.Combine(r.FinalCheckpoint, f)), f);
        using var loaded = ModelLoader.Load(r.FinalCheckpoint, loadTokenizer: false);
        Assert.Equal(arch, loaded.Config.Architecture);
        Assert.Equal(tied, loaded.Config.TiedEmbeddings);
        Assert.Equal(6, loaded.Config.HeadDim);
        Assert.Equal(1, loaded.Config.BosId);
        Assert.Equal(2, loaded.Config.EosId);
        var m = new TrainingModel(s.ToModelConfig(32, 1, 2));
        TrainingCheckpoint.Load(r.FinalCheckpoint, m, new AdamW(m.Count, 0.1f));
        int[] ids = [1, 4, 5, 6, 7, 8];
        var mine = new SequencePass(m).Forward(ids).ToArray();
        var engine = new Transformer(loaded.Config, loaded.Weights).Forward(ids);
        for (int i = 0; i < mine.Length; i++) Assert.True(Math.Abs(mine[i] - engine[i]) <= 1e-4, $"logit {i}");
        var rec = TrainingRecord.Read(Path.Combine(r.FinalCheckpoint, "training.json"));
        Assert.Equal(2, rec.Step);
        Assert.Equal(2L * 5 * 12, rec.Tokens);
        Assert.NotNull(rec.ValLoss);
        Assert.True(Directory.Exists(Path.Combine(_dir, "hf", "checkpoints", "step-000000")));
        Assert.True(File.Exists(Path.Combine(_dir, "hf", "loss.png")));
    }

    [Fact]
    public void TrainingLearnsACountingCorpus()
    {
        var data = CountingData();
        var s = Settings(Architecture.Llama, 60) with { Lr = 2e-2, Warmup = 5, Batch = 8, CheckpointEvery = 0, EvalEvery = 20 };
        var r = Trainer.Run(s, data, _tok, 32, 1, 2, Path.Combine(_dir, "learn"));
        var rows = LossLog.ReadCsv(Path.Combine(_dir, "learn", "loss.csv"));
        // Uniform over 32 tokens is ln 32 ≈ 3.47; counting is nearly deterministic after the first token of a window.
        Assert.True(rows[0].TrainLoss > 3.0, $"initial loss {rows[0].TrainLoss}");
        Assert.True(r.Record.ValLoss < 1.0, $"final validation loss {r.Record.ValLoss}");
    }
}
