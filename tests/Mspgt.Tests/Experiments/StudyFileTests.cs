using Mspgt.Experiments;

namespace Mspgt.Tests.Experiments;

/// <summary>Study files: JSON and YAML read alike, paths resolve against the file, every mistake is one clear error.</summary>
public class StudyFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-studyfile").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");

    private string Write(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private string ValidJson => $$"""
        { "title": "t", "output": "out", "corpus": { "documents": 6, "seed": 3 },
          "analyze": { "bootstrap": 20, "max_tokens": 64, "weights": { "attn_distance": 2 } },
          "models": [ { "name": "a", "path": "{{Stories}}", "family": "llama", "size": "260K", "precision": "f32" },
                      { "path": "{{Stories}}", "name": "ctl", "control": true } ] }
        """;

    [Fact]
    public void JsonAndYamlGiveTheSameDefinition()
    {
        var j = StudyFile.Load(Write("s.json", ValidJson));
        var y = StudyFile.Load(Write("s.yaml", $$"""
            title: t
            output: out
            corpus: { documents: 6, seed: 3 }
            analyze:
              bootstrap: 20
              max_tokens: 64
              weights: { attn_distance: 2 }
            models:
              - name: a
                path: "{{Stories}}"
                family: llama
                size: "260K"
                precision: f32
              - path: {{Stories}}
                name: ctl
                control: true
            """));
        Assert.Equal(Mspgt.Files.JsonOutput.Serialize(j with { StudyFile = "" }), Mspgt.Files.JsonOutput.Serialize(y with { StudyFile = "" }));
        Assert.Equal(Path.Combine(_dir, "out"), j.Output);
        Assert.Null(j.Corpus.Path);
        Assert.Equal((6, 3), (j.Corpus.Documents, j.Corpus.Seed));
        Assert.Equal(6, j.Analyze.Documents);
        Assert.Equal(20, j.Analyze.Bootstrap);
        Assert.Equal(64, j.Analyze.MaxTokens);
        Assert.Equal(2.0, j.Analyze.Weights!["attn_distance"]);
        Assert.Equal(new[] { false, true }, j.Models.Select(m => m.Control));
        Assert.Equal("a", j.Models[0].Base); // base defaults to the name
        Assert.Equal("control", j.Models[1].Family);
        Assert.Null(j.Intervene);
    }

    [Fact]
    public void RelativePathsResolveAgainstTheStudyFileOrTheGivenFolder()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "studies")).FullName;
        string corpus = Write("c.txt", "one document here\n\nanother one");
        var d = StudyFile.Load(Write("studies/s.json", $$"""
            { "output": "../o", "corpus": { "path": "../c.txt" },
              "models": [ { "name": "a", "path": "{{Stories}}", "family": "llama", "size": "s" } ] }
            """));
        Assert.Equal(corpus, d.Corpus.Path);
        Assert.Equal(Path.Combine(_dir, "o"), d.Output);
        var e = StudyFile.Load(Path.Combine(sub, "s.json"), outputOverride: Path.Combine(_dir, "x"), relativeTo: sub);
        Assert.Equal(Path.Combine(_dir, "x"), e.Output); // --out wins over the file's "output"
        // Against another folder, ../c.txt points somewhere else: the error names the resolved path.
        var err = Assert.Throws<MspgtException>(() => StudyFile.Load(Path.Combine(sub, "s.json"), relativeTo: Path.Combine(_dir, "a", "b")));
        Assert.Contains($"corpus.path: file {Path.Combine(_dir, "a", "c.txt")} not found", err.Message);
    }

    [Fact]
    public void TheExampleStudyReadsWhenTheRepositoryLiesBesideShared()
    {
        // studies/stories.json uses ../../shared/…, i.e. the repository checked out beside shared/.
        string repoStudies = Path.Combine(TestData.SharedDir, "..", "repo", "studies");
        string file = FindRepoFile("studies/stories.json");
        var d = StudyFile.Load(file, relativeTo: repoStudies);
        Assert.Equal(6, d.Models.Count);
        Assert.Equal(2, d.Models.Count(m => m.Control));
        Assert.Equal(["llama", "qwen"], d.Models.Where(m => !m.Control).Select(m => m.Family).Distinct().Order());
        Assert.Single(d.Models.GroupBy(m => m.Base), g => g.Count() == 2); // stories260K in two formats
        Assert.All(d.Models, m => Assert.True(File.Exists(m.Path) || Directory.Exists(m.Path), m.Path));
        Assert.NotNull(d.Corpus.Path);
    }

    internal static string FindRepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string p = Path.Combine(dir.FullName, relative);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException(relative);
    }

    [Theory]
    [InlineData("""{ "output": "o", "modles": [] }""", "unknown key \"modles\"")]
    [InlineData("""{ "output": "o", "models": [ { "path": "STORIES", "family": "llama", "size": "s", "famliy": "x" } ] }""", "models[0]: unknown key \"famliy\"")]
    [InlineData("""{ "output": "o", "analyze": { "bootstrapp": 3 }, "models": [] }""", "analyze: unknown key \"bootstrapp\"")]
    [InlineData("""{ "output": "o", "intervene": { "alpha": [0.5], "gen": 3 }, "models": [] }""", "intervene: unknown key \"gen\"")]
    [InlineData("""{ "output": "o", "models": [ { "path": "/no/such/model.bin", "family": "llama", "size": "s" } ] }""", "models[0].path: /no/such/model.bin not found")]
    [InlineData("""{ "output": "o", "models": [ { "family": "llama", "size": "s" } ] }""", "models[0]: \"path\" is missing")]
    [InlineData("""{ "output": "o", "models": [ { "path": "STORIES", "size": "s" } ] }""", "\"family\" is missing")]
    [InlineData("""{ "output": "o", "models": [ { "path": "STORIES", "family": "llama" } ] }""", "\"size\" is missing")]
    [InlineData("""{ "output": "o", "models": [] }""", "\"models\" is empty")]
    [InlineData("""{ "models": [ { "path": "STORIES", "family": "llama", "size": "s" } ] }""", "no \"output\" folder")]
    [InlineData("""{ "output": "o", "models": [ { "path": "STORIES", "family": "llama", "size": "s" }, { "path": "STORIES", "family": "llama", "size": "s" } ] }""", "used twice")]
    [InlineData("""{ "output": "o", "models": [ { "name": "a/b", "path": "STORIES", "family": "llama", "size": "s" } ] }""", "models[0].name")]
    [InlineData("""{ "output": "o", "analyze": { "bootstrap": "many" }, "models": [] }""", "analyze.bootstrap: wrong type")]
    [InlineData("""{ "output": "o", "analyze": { "bootstrap": 0 }, "models": [] }""", "analyze.bootstrap: must be ≥ 1")]
    [InlineData("""{ "output": "o", "corpus": { "path": "c.txt", "documents": 3 }, "models": [] }""", "not both")]
    [InlineData("""{ "output": "o", "corpus": { "path": "missing.jsonl" }, "models": [] }""", "corpus.path")]
    [InlineData("""{ "output": "o", "intervene": { "interventions": ["melt"] }, "models": [] }""", "unknown intervention \"melt\"")]
    [InlineData("""{ "output": "o", "models": [ { "path": "STORIES", "family": "llama", "size": "s", "control": "yes" } ] }""", "models[0].control: must be true or false")]
    [InlineData("""{ "output": "o", "models": [ }""", "invalid JSON")]
    [InlineData("""[1, 2]""", "must be an object")]
    public void BadStudyFilesAreOneLineErrors(string json, string expected)
    {
        Write("c.txt", "a doc");
        string p = Write("bad.json", json.Replace("STORIES", Stories));
        var e = Assert.Throws<MspgtException>(() => StudyFile.Load(p));
        Assert.Equal(p, e.Source);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void BadYamlAndMissingFilesAreOneLineErrors()
    {
        var e = Assert.Throws<MspgtException>(() => StudyFile.Load(Write("bad.yaml", "models: [a, b\noutput: x")));
        Assert.Contains("invalid YAML", e.Message);
        e = Assert.Throws<MspgtException>(() => StudyFile.Load(Path.Combine(_dir, "none.json")));
        Assert.Contains("not found", e.Message);
        e = Assert.Throws<MspgtException>(() => StudyFile.Load(Write("k.yaml", "output: o\nmodels:\n  - path: x\n    colour: red\n")));
        Assert.Contains("models[0]: unknown key \"colour\"", e.Message);
    }
}
