using Mspgt.Tests.Cli;

namespace Mspgt.Tests.Training;

[Collection("Console")]
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"mspgt-traincli-{Environment.ProcessId}-{Guid.NewGuid():N}");
    public TrainCommandTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    private string[] Args(params string[] extra) =>
    [
        "train", "--arch", "llama", "--layers", "1", "--dim", "16", "--heads", "2", "--ffn", "24", "--seq", "16", "--batch", "2",
        "--steps", "2", "--warmup", "1", "--out", Path.Combine(_dir, "out"), .. extra,
    ];

    [Fact]
    public void TrainWritesACheckpointThatGenerateOpens()
    {
        string corpus = Path.Combine(_dir, "stories.txt");
        File.WriteAllText(corpus, string.Join("\n\n", Enumerable.Range(0, 25).Select(i => $"Once upon a time there was a dog called Rex {i}. He ran to the park.")));
        var (code, output, err) = CliHarness.Run(Args("--corpus", corpus, "--tokenizer", TestData.Path("models", "stories260K", "tok512.bin")));
        Assert.True(code == 0, err);
        Assert.Contains("final checkpoint:", output);
        Assert.Contains("tok/s", err);
        string ck = Path.Combine(_dir, "out", "checkpoints", "step-000002");
        var (gcode, gout, gerr) = CliHarness.Run("generate", "--model", ck, "--prompt", "Once upon a time", "--max-tokens", "5");
        Assert.True(gcode == 0, gerr);
        Assert.StartsWith("Once upon a time", gout);
    }

    [Fact]
    public void BadTrainOptionsGiveOneLineErrors()
    {
        Assert.Contains("exactly one of --corpus", CliHarness.AssertOneLineError(Args("--corpus", "a.txt", "--teacher", "m.bin")));
        Assert.Contains("unknown architecture", CliHarness.AssertOneLineError([.. Args("--corpus", "a.txt").Select(a => a == "llama" ? "gpt2" : a)]));
        Assert.Contains("--kv-heads", CliHarness.AssertOneLineError(Args("--corpus", "a.txt", "--kv-heads", "3")));
        Assert.Contains("zoo recipe not found", CliHarness.AssertOneLineError("zoo", Path.Combine(_dir, "none.json"), "--out", _dir));
    }
}
