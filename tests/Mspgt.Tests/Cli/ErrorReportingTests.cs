using System.CommandLine;
using Mspgt.Cli;
using Mspgt.Experiments;
using Mspgt.Interventions;
using Mspgt.Training;

namespace Mspgt.Tests.Cli;

/// <summary>
/// The error contract: the library names the setting it rejects (top_p), the CLI shows its flag (--top-p), a
/// settings file shows the file and the key (intervene.top_p); a bug is one `internal error:` line, exit 70, with
/// the stack trace in a log file.
/// </summary>
[Collection("Console")]
public class ErrorReportingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-errors").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");

    private string Write(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    /// <summary>A study of stories260K whose <paramref name="section"/> holds one setting line.</summary>
    private string StudyWith(string section, string setting) => Write("study.yaml", $"""
        output: out
        {section}:
          {setting}
        models:
          - path: {Stories}
            family: llama
            size: 260K
        """);

    [Fact]
    public void TheLibraryNamesTheSettingNotAFlag()
    {
        var settings = new InterventionSettings { Segments = [], Interventions = InterventionSpec.Expand(["skip"], [], []), TopP = 2 };
        var e = Assert.Throws<MspgtException>(() => settings.Validate());
        Assert.Equal("top_p", e.Setting);
        Assert.Equal("error: top_p: must be in (0, 1], got 2", e.ToErrorLine());

        var train = new TrainSettings { Architecture = Mspgt.Models.Architecture.Llama, Layers = 1, Dim = 16, Heads = 4, KvHeads = 3, Ffn = 8, Seq = 4, Batch = 1, Steps = 1 };
        e = Assert.Throws<MspgtException>(train.Validate);
        Assert.Equal("kv_heads", e.Setting);
        Assert.Equal("must divide heads (4), got 3", e.Message);

        Assert.Equal("top_k", Assert.Throws<MspgtException>(() => new Mspgt.Models.SamplingOptions(TopK: -1).Validate()).Setting);
        Assert.Equal("segments", Assert.Throws<MspgtException>(() => LayerSegments.Select("local=0-1", "summary.json", 5)).Setting);
        // A file problem names the file and no setting.
        var file = Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(Path.Combine(_dir, "none.json"), 5));
        Assert.Null(file.Setting);
    }

    [Fact]
    public void InFileNamesTheFileAndTheKey()
    {
        var e = MspgtException.ForSetting("top_p", "must be in (0, 1], got 2").InFile("study.yaml", "intervene");
        Assert.Equal("error: study.yaml: intervene.top_p: must be in (0, 1], got 2", e.ToErrorLine());
        Assert.Null(e.Setting);
        var notASetting = new MspgtException("a.bin", "truncated");
        Assert.Same(notASetting, notASetting.InFile("study.yaml", "intervene"));
    }

    [Theory]
    [InlineData("intervene", "--top-p", "2", "error: --top-p: must be in (0, 1], got 2")]
    [InlineData("intervene", "--component", "ffn", "error: --component: unknown component 'ffn'")]
    [InlineData("intervene", "--controls", "0", "error: --controls: must be ≥ 1, got 0")]
    [InlineData("intervene", "--gen-tokens", "0", "error: --gen-tokens: must be ≥ 1, got 0")]
    [InlineData("generate", "--top-p", "2", "error: --top-p: must be in (0, 1], got 2")]
    [InlineData("generate", "--top-k", "-1", "error: --top-k: must be ≥ 0, got -1")]
    public void TheCliShowsTheFlagOfARejectedSetting(string command, string option, string value, string expected)
    {
        string line = CliHarness.AssertOneLineError(command, "--model", Stories, option, value);
        Assert.StartsWith(expected, line);
    }

    [Fact]
    public void TrainShowsItsFlags()
    {
        string[] args = ["train", "--arch", "llama", "--layers", "1", "--dim", "16", "--heads", "4", "--kv-heads", "3", "--ffn", "8",
            "--seq", "4", "--batch", "1", "--steps", "1", "--corpus", "a.txt", "--tokenizer", "t.bin", "--out", _dir];
        Assert.Equal("error: --kv-heads: must divide heads (4), got 3", CliHarness.AssertOneLineError(args));
    }

    [Fact]
    public void ASettingTheCommandHasNoFlagForKeepsItsName()
    {
        var command = new Command("x");
        command.Options.Add(new Option<int>("--seed"));
        Assert.Equal("error: top_p: bad", CliRunner.ToErrorLine(MspgtException.ForSetting("top_p", "bad"), command));
        Assert.Equal("error: --top-p: bad", CliRunner.ToErrorLine(MspgtException.ForSetting("top_p", "bad")));
        Assert.Equal("error: mystery_knob: bad", CliRunner.ToErrorLine(MspgtException.ForSetting("mystery_knob", "bad")));
    }

    [Fact]
    public void EveryFlagInTheTableIsAnOptionOfSomeCommand()
    {
        var options = CommandRegistry.All().SelectMany(c => c.Options).SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
        foreach (var (setting, flag) in SettingFlags.All)
            Assert.True(options.Contains(flag), $"{setting} → {flag}: no command has {flag}");
    }

    [Fact]
    public void AStudyFileSettingErrorNamesTheFileAndTheKey()
    {
        string study = StudyWith("intervene", "top_p: 2");
        var e = Assert.Throws<MspgtException>(() => StudyFile.Load(study));
        Assert.Equal(study, e.Source);
        Assert.Equal("intervene.top_p: must be in (0, 1], got 2", e.Message);
        Assert.Equal($"error: {study}: intervene.top_p: must be in (0, 1], got 2", CliHarness.AssertOneLineError("study", study));
    }

    [Theory]
    // Zero lens positions used to go through: every block's lens KL and entropy came out 0, not an error. The others
    // failed only inside the run, as a bug's exit 70 (probes) or as "no usable document" (KSG).
    [InlineData("lens_positions: 0", "analyze.lens_positions: must be ≥ 1, got 0")]
    [InlineData("ksg_neighbors: 0", "analyze.ksg_neighbors: must be ≥ 1, got 0")]
    [InlineData("probe_tokens_per_document: 2", "analyze.probe_tokens_per_document: must be ≥ 3 (the document probe trains on a document's first 60% of positions and scores the rest), got 2")]
    [InlineData("probe_local_classes: 1", "analyze.probe_local_classes: must be ≥ 2, got 1")]
    public void AnAnalysisSettingThatCannotWorkIsRefusedWhenTheStudyLoads(string setting, string message)
    {
        string study = StudyWith("analyze", setting);
        var e = Assert.Throws<MspgtException>(() => StudyFile.Load(study));
        Assert.Equal(study, e.Source);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ALensOfNoPositionsIsRefusedOnTheCommandLine() =>
        Assert.Equal("error: --lens-positions: must be at least 1", CliHarness.AssertOneLineError("analyze", "--model", Stories, "--lens-positions", "0"));

    [Fact]
    public void AStudySettingThatFailsOnlyAgainstTheModelNamesTheFileAndTheKey()
    {
        // stories260K has 5 blocks: a minimum segment of 6 fits only once the model is known.
        string study = Write("study.json", $$"""
            { "output": "out", "corpus": { "path": "{{TestData.Path("corpora", "tinystories-sample", "stories.jsonl")}}" },
              "analyze": { "min_size": 6, "max_tokens": 16, "bootstrap": 1, "null_replicates": 19 },
              "models": [ { "path": "{{Stories}}", "family": "llama", "size": "260K" } ] }
            """);
        var e = Assert.Throws<MspgtException>(() => StudyRunner.Run(StudyFile.Load(study)));
        Assert.Equal(Path.GetFullPath(study), e.Source);
        Assert.Equal("analyze.min_size: 5 layers cannot hold a segment of 6 layers", e.Message);
    }

    [Fact]
    public void AZooRecipeSettingErrorNamesTheFileAndTheStudent()
    {
        string recipe = Write("zoo.json", """
            { "corpus": "c.txt", "tokenizer": "t.bin",
              "defaults": { "dim": 16, "heads": 4, "ffn": 8, "seq": 4, "batch": 1, "steps": 1 },
              "students": [ { "name": "a", "arch": "llama", "layers": 1 }, { "name": "b", "arch": "llama", "layers": 1, "kv_heads": 3 } ] }
            """);
        var e = Assert.Throws<MspgtException>(() => ZooRecipe.Load(recipe));
        Assert.Equal(recipe, e.Source);
        Assert.Equal("students[1].kv_heads: must divide heads (4), got 3", e.Message);
    }

    [Fact]
    public void ABugIsOneInternalErrorLineWithExit70AndALogFile()
    {
        var root = new RootCommand("test");
        var boom = new Command("boom");
        boom.SetAction(_ => Explode());
        root.Subcommands.Add(boom);

        var (code, output, err) = CliHarness.Run(root, "boom");
        Assert.Equal(CliRunner.InternalError, code);
        Assert.Equal(70, code);
        Assert.Equal("", output);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        var m = System.Text.RegularExpressions.Regex.Match(lines[0],
            @"^internal error: InvalidOperationException: index went negative \(details: (?<log>.+\.log)\)$");
        Assert.True(m.Success, lines[0]);
        string log = m.Groups["log"].Value;
        try
        {
            Assert.StartsWith(Path.GetTempPath(), log);
            string text = File.ReadAllText(log);
            Assert.Contains("System.InvalidOperationException: index went negative", text);
            Assert.Contains(nameof(Explode), text); // the stack trace
            Assert.Contains("arguments: boom", text);
        }
        finally { File.Delete(log); }
    }

    [Fact]
    public void UserErrorsStayOneLineWithExit2EvenWhenWrapped()
    {
        Assert.Equal("error: a.bin: truncated", CliRunner.ToErrorLine(new AggregateException(new MspgtException("a.bin", "truncated"))));
        Assert.Equal("error: missing.bin: file not found", CliRunner.ToErrorLine(new FileNotFoundException("gone", "missing.bin")));
        Assert.StartsWith("error: ", CliRunner.ToErrorLine(new UnauthorizedAccessException("Access to the path '/x' is denied.")));
        Assert.Null(CliRunner.ToErrorLine(new AggregateException(new NullReferenceException())));
        // A parallel loop whose items all failed on the input: one line, the same whichever item failed first.
        var (a, b) = (new MspgtException("probes", "probe_local: nothing to score"), new MspgtException("probes", "probe_global: nothing to score"));
        Assert.Equal("error: probes: probe_global: nothing to score", CliRunner.ToErrorLine(new AggregateException(a, b)));
        Assert.Equal("error: probes: probe_global: nothing to score", CliRunner.ToErrorLine(new AggregateException(b, new AggregateException(a))));
        Assert.Null(CliRunner.ToErrorLine(new AggregateException(a, new InvalidOperationException())));   // a bug among them
    }

    [Fact]
    public void RunPrintsItsTextSummary()
    {
        // "ids[1:]" was read as console markup and crashed the text output.
        var (code, output, err) = CliHarness.Run("run", "--model", Stories, "--text", "Once upon a time");
        Assert.True(code == 0, err);
        Assert.Contains("mean NLL of ids[1:]", output);
    }

    private static int Explode() => throw new InvalidOperationException("index went negative");
}
