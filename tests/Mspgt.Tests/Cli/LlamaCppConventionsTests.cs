using System.Text.Json;
using Mspgt.Cli;
using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Cli;

/// <summary>llama.cpp's flags and its perplexity method, console progress and piped tables.</summary>
[Collection("Console")]
public class LlamaCppConventionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-llamacpp").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");

    /// <summary>The five TinyStories of the shared sample as one plain text file.</summary>
    private string StoryText()
    {
        string path = Path.Combine(_dir, "stories.txt");
        var texts = File.ReadLines(TestData.Path("corpora", "tinystories-sample", "stories.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString());
        File.WriteAllText(path, string.Join("\n\n", texts));
        return path;
    }

    [Fact]
    public void ShortFlagsMeanWhatTheyMeanInLlamaCpp()
    {
        var longForm = CliHarness.Run("generate", "--model", Stories, "--prompt", "Once upon a time", "--max-tokens", "12", "--temperature", "0.8", "--top-p", "0.9", "--seed", "3");
        var shortForm = CliHarness.Run("generate", "-m", Stories, "-p", "Once upon a time", "-n", "12", "--temp", "0.8", "--top-p", "0.9", "--seed", "3");
        Assert.Equal(0, longForm.Code);
        Assert.Equal(longForm.Out, shortForm.Out);
        string prompt = Path.Combine(_dir, "prompt.txt");
        File.WriteAllText(prompt, "Once upon a time");
        Assert.Equal(longForm.Out, CliHarness.Run("generate", "-m", Stories, "-f", prompt, "-n", "12", "--temp", "0.8", "--top-p", "0.9", "--seed", "3").Out);
        // -c caps prompt and continuation together: 4 prompt tokens (BOS + 3) in a context of 6 leave room for 2.
        var capped = CliHarness.Run("generate", "-m", Stories, "-p", "Once upon a", "-n", "50", "-c", "6");
        Assert.Equal(0, capped.Code);
        Assert.True(capped.Out.Length < longForm.Out.Length, capped.Out);

        var run = CliHarness.Run("run", "-m", Stories, "-p", "Once upon a time", "--json");
        Assert.Equal(CliHarness.Run("run", "--model", Stories, "--text", "Once upon a time", "--json").Out, run.Out);
        Assert.Equal(run.Out, CliHarness.Run("run", "-m", Stories, "-f", prompt, "--json").Out);
        Assert.Contains("longer than the context of 2", CliHarness.AssertOneLineError("run", "-m", Stories, "-p", "Once upon a time", "-c", "2"));
        Assert.Contains("is a directory", CliHarness.AssertOneLineError("run", "-m", Stories, "-f", _dir));
    }

    [Fact]
    public void PerplexityOfAModelThatKnowsNothingIsTheVocabularySize()
    {
        // Closed form: with a zero final norm every logit is 0, every token has probability 1/V, so PPL = V exactly,
        // with no spread.
        using var m = ModelLoader.Load(Stories);
        Array.Clear(m.Weights.FinalNorm);
        var r = Perplexity.Compute(m, "stories", File.ReadAllText(StoryText()), context: 64);
        Assert.Equal(m.Config.Vocab, r.Value, 6);
        Assert.Equal(0, r.StandardError, 9);
        Assert.Equal(r.Tokens / 64, r.Chunks.Count);
        Assert.Equal(r.Chunks.Count * (64 - 1 - 32), r.ScoredTokens);
    }

    [Fact]
    public void PerplexityScoresTheSecondHalfOfEachChunkAfterABos()
    {
        using var m = ModelLoader.Load(Stories);
        string text = File.ReadAllText(StoryText());
        var r = Perplexity.Compute(m, "stories", text, context: 96);
        // The same by hand: chunk i of the token stream with BOS in front, positions 48..94 predicting 49..95.
        var tok = m.Tokenizer!;
        int[] ids = tok.Encode(text, addBos: true);
        var transformer = new Transformer(m.Config, m.Weights);
        double sum = 0;
        int n = 0;
        for (int i = 0; i < ids.Length / 96; i++)
        {
            int[] chunk = ids[(i * 96)..((i + 1) * 96)];
            chunk[0] = tok.BosId!.Value;
            float[] logits = transformer.Forward(chunk);
            for (int j = 48; j < 95; j++, n++)
            {
                var row = logits.AsSpan(j * m.Config.Vocab, m.Config.Vocab).ToArray().Select(v => (double)v).ToArray();
                double max = row.Max();
                sum += Math.Log(row.Sum(v => Math.Exp(v - max))) + max - row[chunk[j + 1]];
            }
        }
        Assert.Equal(n, r.ScoredTokens);
        Assert.Equal(Math.Exp(sum / n), r.Value, 6);
        Assert.InRange(r.Value, 1.5, 40); // a trained model on its own kind of text: far below 512
        Assert.Equal(r.Value, r.Chunks[^1].RunningPerplexity, 9);

        var (code, output, _) = CliHarness.Run("perplexity", "-m", Stories, "-f", StoryText(), "-c", "96");
        Assert.Equal(0, code);
        Assert.StartsWith("[1]", output);
        Assert.Contains($"Final estimate: PPL = {r.Value:F4} +/- {r.StandardError:F5}", output);
        var json = JsonDocument.Parse(CliHarness.Run("perplexity", "-m", Stories, "-f", StoryText(), "-c", "96", "--json").Out).RootElement;
        Assert.Equal(r.Value, json.GetProperty("perplexity").GetDouble(), 9);
        string short_ = Path.Combine(_dir, "short.txt");
        File.WriteAllText(short_, "Once upon a time there was a cat.");
        Assert.Contains("fewer than one chunk of 96", CliHarness.AssertOneLineError("perplexity", "-m", Stories, "-f", short_, "-c", "96"));
    }

    [Fact]
    public void PipedTablesKeepEveryCellWholeOnItsLine()
    {
        var (code, output, _) = CliHarness.Run("inspect", "--model", Stories);
        Assert.Equal(0, code);
        Assert.DoesNotContain("│", output);
        Assert.DoesNotContain("─", output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains(Stories, StringComparison.Ordinal)); // the long path is not wrapped
        Assert.All(lines, l => Assert.Equal(l.TrimEnd(), l));
    }

    [Fact]
    public void ProgressInALogPrintsAStageAtMostEveryFewSecondsWithElapsedAndEta()
    {
        var now = TimeSpan.Zero;
        var log = new StringWriter();
        var progress = new Progress(log, terminal: false, () => now);
        for (int i = 1; i <= 100; i++) { now += TimeSpan.FromSeconds(0.5); progress.Report("model: documents", i, 100); }
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("model: documents: 1/100, 0:00 elapsed, ETA 0:50", lines[0]); // 0.5 s for 1 of 100 → 49.5 s left
        Assert.Equal("model: documents: 100/100, 0:50 elapsed, done", lines[^1]);
        Assert.InRange(lines.Length, 10, 12); // 50 s at most every 5 s, plus start and end
        now += TimeSpan.FromSeconds(1);
        progress.Report("next stage", 0, 3);
        Assert.EndsWith("next stage: 0/3, 0:01 elapsed\n", log.ToString()); // the stage began when the last one ended

        var terminal = new StringWriter();
        progress = new Progress(terminal, terminal: true, () => now);
        progress.Report("x", 1, 2);
        progress.Report("x", 2, 2);
        // Redrawn in place; a shorter line is padded with spaces over the longer one before it.
        Assert.Equal("\rx: 1/2, 0:00 elapsed, ETA 0:00\rx: 2/2, 0:00 elapsed, done    \n", terminal.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void QuietSilencesProgressButNotErrors()
    {
        try
        {
            var (code, _, err) = CliHarness.Run("analyze", "-q", "--model", Stories, "--documents", "4", "--max-tokens", "48", "--bootstrap", "20", "--null-replicates", "20", "--json");
            Assert.True(code == 0, err);
            Assert.Equal("", err);
            Assert.StartsWith("error: ", CliHarness.AssertOneLineError("analyze", "-q", "--model", Path.Combine(_dir, "missing.gguf")));
        }
        finally { Progress.Quiet = false; }
    }
}
