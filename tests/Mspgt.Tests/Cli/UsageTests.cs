using System.Text.RegularExpressions;
using Mspgt.Cli;

namespace Mspgt.Tests.Cli;

/// <summary>What a new user meets first: bare `mspgt`, misspellings, bad numbers, empty files, help texts.</summary>
[Collection("Console")]
public class UsageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-usage").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BareMspgtPrintsTheUsageWithCommandsInWorkflowOrder()
    {
        var (code, output, err) = CliHarness.Run();
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var listed = Regex.Matches(output, @"^  ([a-z]+)\b", RegexOptions.Multiline).Select(m => m.Groups[1].Value)
            .Where(n => CommandRegistry.All().Any(c => c.Name == n)).ToArray();
        string[] workflow = ["study", "analyze", "intervene", "boundaries", "run", "generate", "perplexity", "inspect", "tokenize", "bench", "train", "zoo"];
        var expected = workflow.Where(n => CommandRegistry.All().Any(c => c.Name == n)).ToArray();
        Assert.True(expected.Length >= 11, string.Join(",", expected));
        Assert.Equal(expected, listed.Where(workflow.Contains).ToArray());
    }

    [Theory]
    [InlineData(new[] { "generate", "--modle", "x" }, "error: generate: unknown option --modle (did you mean --model?)")]
    [InlineData(new[] { "analyze", "--seeed", "3" }, "error: analyze: unknown option --seeed (did you mean --seed?)")]
    [InlineData(new[] { "stduy", "x.json" }, "error: mspgt: unknown command 'stduy' (did you mean study?)")]
    [InlineData(new[] { "frobnicate" }, "error: mspgt: unknown command 'frobnicate'")]
    [InlineData(new[] { "generate", "--max-tokens", "abc" }, "error: --max-tokens: \"abc\" is not an integer")]
    [InlineData(new[] { "generate", "--max-tokens=1.5" }, "error: --max-tokens: \"1.5\" is not an integer")]
    [InlineData(new[] { "generate", "--temperature", "warm" }, "error: --temperature: \"warm\" is not a number")]
    [InlineData(new[] { "generate", "--max-tokens", "-5" }, "error: --max-tokens: must be ≥ 0, got -5")]
    public void MistakesGetOneLineInTheUsersWords(string[] args, string line)
    {
        Assert.Equal(line, CliHarness.AssertOneLineError(args));
    }

    [Fact]
    public void NoMessageNamesADotNetType()
    {
        foreach (var args in new[] { new[] { "generate", "--top-k", "x" }, ["generate", "--seed", "1e3"], ["analyze", "--documents", "many"], ["boundaries", "--min-size", "two"] })
        {
            var (code, _, err) = CliHarness.Run(args);
            Assert.Equal(2, code);
            Assert.DoesNotContain("System.", err);
            Assert.DoesNotMatch(@"Int32|Single|Double|isFinalBlock", err);
        }
    }

    [Fact]
    public void AnEmptyOrBrokenStudyFileSaysWhatIsWrongWithIt()
    {
        string empty = Path.Combine(_dir, "empty.json");
        File.WriteAllText(empty, "");
        Assert.Equal($"error: {empty}: the file is empty (no JSON in it)", CliHarness.AssertOneLineError("study", empty));
        string broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{\n  \"output\": \"x\",\n  \"models\": [ }\n");
        string line = CliHarness.AssertOneLineError("study", broken);
        Assert.StartsWith($"error: {broken}: invalid JSON at line 3, column ", line);
        Assert.DoesNotContain("LineNumber", line);
        Assert.DoesNotContain("BytePosition", line);
    }

    [Fact]
    public void EditDistanceCountsSwapsAsOne()
    {
        Assert.Equal(1, ParseErrors.EditDistance("modle", "model"));
        Assert.Equal(0, ParseErrors.EditDistance("Seed", "seed"));
        Assert.Equal(3, ParseErrors.EditDistance("abc", ""));
        Assert.Equal("", ParseErrors.Suggest("--zzzzzz", ["--model", "--seed"]));
    }

    [Fact]
    public void HelpTextsSayWhatTheReadmeSays()
    {
        var (_, help, _) = CliHarness.Run("study", "--help");
        Assert.Contains("P1–P7", help);
        Assert.DoesNotContain("P1–P5", help);
        Assert.DoesNotContain("study.parquet", help);
        string readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        // Every command the README runs as `mspgt NAME` exists, and every command exists in the README.
        foreach (var c in CommandRegistry.All())
            Assert.True(readme.Contains($"mspgt {c.Name}"), $"README never shows `mspgt {c.Name}`");
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Mspgt.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (Mspgt.sln) not found");
    }
}
