using System.CommandLine;
using Mspgt.Cli;
using Mspgt.Cli.Commands;

namespace Mspgt.Tests.Tokenization;

/// <summary>`mspgt tokenize` run in-process (Console redirected, so not in parallel with other tests).</summary>
[Collection("Console")]
public class TokenizeCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => Mspgt.Tests.Cli.CliHarness.Run(["tokenize", .. args]);

    private static string Tok512 => TestData.Path("models", "stories260K", "tok512.bin");
    private static string Qwen => TestData.Path("tokenizers", "qwen3", "tokenizer.json");

    [Fact]
    public void PrintsIdsOnOneLine()
    {
        var (code, stdout, stderr) = Run("--tokenizer", Tok512, "--text", "Once upon a time, there was a little girl named Lily.", "--bos");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal("1 403 407 261 378 432 383 286 261 376 298 315 421 395 317 426", stdout.TrimEnd());
    }

    [Fact]
    public void PrintsJsonWithTokens()
    {
        var (code, stdout, _) = Run("--tokenizer", Qwen, "--text", "1234567 89", "--json");
        Assert.Equal(0, code);
        Assert.Equal("{\"ids\":[16,17,18,19,20,21,22,220,23,24],\"tokens\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"Ġ\",\"8\",\"9\"]}", stdout.TrimEnd());
    }

    [Fact]
    public void ChatWrapsTextWithTheTemplateBesideTheTokenizer()
    {
        var (code, stdout, _) = Run("--tokenizer", Qwen, "--text", "hi", "--chat");
        Assert.Equal(0, code);
        Assert.Equal("151644 872 198 6023 151645 198 151644 77091 198", stdout.TrimEnd());
    }

    [Fact]
    public void EncodesAFileAndDecodesIds()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "Once upon a time, there was a little girl named Lily.");
            Assert.Equal("1 403 407 261 378 432 383 286 261 376 298 315 421 395 317 426", Run("--tokenizer", Tok512, "--file", file, "--bos").Out.TrimEnd());
        }
        finally { File.Delete(file); }
        var (code, stdout, _) = Run("--tokenizer", Tok512, "--decode", "1,403,407,261,378");
        Assert.Equal(0, code);
        Assert.Equal("Once upon a time", stdout.TrimEnd());
    }

    [Theory]
    [InlineData("--tokenizer", "/nonexistent/tokenizer.json", "--text", "x")]
    [InlineData("--tokenizer", "TOK512", "--decode", "1,x")]
    [InlineData("--tokenizer", "TOK512", "--decode", "1,99999")]
    [InlineData("--tokenizer", "TOK512")]
    [InlineData("--tokenizer", "TOK512", "--text", "a", "--file", "b")]
    [InlineData("--tokenizer", "GARBLED", "--text", "x")]
    public void BadInputIsOneErrorLineAndExitCode2(params string[] args)
    {
        string garbled = Path.GetTempFileName();
        File.WriteAllBytes(garbled, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        try
        {
            args = args.Select(a => a == "TOK512" ? Tok512 : a == "GARBLED" ? garbled : a).ToArray();
            var (code, stdout, stderr) = Run(args);
            Assert.Equal(2, code);
            Assert.Equal("", stdout);
            Assert.StartsWith("error: ", stderr);
            Assert.Single(stderr.TrimEnd().Split('\n'));
        }
        finally { File.Delete(garbled); }
    }
}
