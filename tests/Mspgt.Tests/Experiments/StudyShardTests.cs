using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mspgt.Experiments;
using Mspgt.Files;
using Mspgt.Reporting;
using Mspgt.Tests.Cli;

namespace Mspgt.Tests.Experiments;

/// <summary>Studies split across processes: shards, the merge, killed processes, and a real Slurm cluster.</summary>
[Collection("Console")]
public sealed class StudyShardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-shards").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The mspgt executable built beside the tests (the apphost of Mspgt.Cli).</summary>
    internal static string Mspgt => Path.Combine(AppContext.BaseDirectory, "mspgt");

    /// <summary>A study file over the given models (name → path, family, control), the five real stories, small settings.</summary>
    internal static string WriteStudy(string dir, string name, IEnumerable<(string Name, string Path, string Family, string? Tokenizer, bool Control)> models,
        bool interventions)
    {
        string path = Path.Combine(dir, name + ".json");
        var study = new JsonObject
        {
            ["title"] = name,
            ["output"] = name + "-out",
            ["corpus"] = new JsonObject { ["path"] = TestData.Path("corpora", "tinystories-sample", "stories.jsonl") },
            ["analyze"] = new JsonObject { ["bootstrap"] = 20, ["max_tokens"] = 48, ["seed"] = 1, ["null_replicates"] = 49 },
            ["models"] = new JsonArray(models.Select(m =>
            {
                var o = new JsonObject { ["name"] = m.Name, ["path"] = m.Path, ["family"] = m.Family, ["size"] = "s", ["control"] = m.Control };
                if (m.Tokenizer is not null) o["tokenizer"] = m.Tokenizer;
                return (JsonNode?)o;
            }).ToArray()),
        };
        if (interventions)
            study["intervene"] = new JsonObject
            {
                ["interventions"] = new JsonArray("noise"), ["alpha"] = new JsonArray(0.5), ["controls"] = 2, ["continuations"] = 0,
                ["bootstrap"] = 200, ["permutations"] = 200, ["seed"] = 0,
            };
        File.WriteAllText(path, study.ToJsonString());
        return path;
    }

    private static readonly (string, string, string, string?, bool)[] Small =
    [
        ("s260k", TestData.Path("models", "stories260K", "stories260K.bin"), "llama", null, false),
        ("s260k-gguf", TestData.Path("models", "stories260K", "tinyllamas-stories-260k-f32.gguf"), "llama", null, false),
        ("tl", TestData.Path("fixtures", "tiny-llama"), "llama", TestData.Path("fixtures", "tiny-llama.f32.gguf"), true),
    ];

    /// <summary>study.json without what legitimately differs between two runs of the same study: the date.</summary>
    internal static string Comparable(string studyJson)
    {
        var node = JsonNode.Parse(File.ReadAllText(studyJson))!.AsObject();
        node["manifest"]!.AsObject().Remove("date");
        return node.ToJsonString();
    }

    [Fact]
    public void ShardsAreBalancedByModelSizeAndDeterministic()
    {
        var sizes = new long[] { 900, 100, 500, 400, 300, 300, 200 };
        var models = sizes.Select((n, i) =>
        {
            string f = Path.Combine(_dir, $"m{i}.gguf");
            File.WriteAllBytes(f, new byte[n]);
            return new StudyModelSpec($"m{i}", f, "llama", "s", null, $"m{i}", null, false);
        }).ToList();
        var def = new StudyDefinition("t", Path.Combine(_dir, "s.json"), _dir, new StudyCorpusSpec(null, 2, 0), new AnalysisSettings(), null, models);
        var owner = StudyShard.Assign(def, 3);
        Assert.Equal(owner, StudyShard.Assign(def, 3));
        var load = new long[3];
        for (int i = 0; i < sizes.Length; i++) load[owner[i]] += sizes[i];
        // Longest-processing-time: 900 | 500 + 300 + 100 | 400 + 300 + 200 → 900, 900, 900.
        Assert.Equal([900L, 900L, 900L], load);
        Assert.Equal(0, owner[0]);
        Assert.All(StudyShard.Assign(def, 1), o => Assert.Equal(0, o));
        Assert.Equal(7, StudyShard.Assign(def, 10).Distinct().Count());
    }

    [Theory]
    [InlineData("1/3", 1, 3)]
    [InlineData("0/1", 0, 1)]
    public void ShardsParse(string text, int index, int count) => Assert.Equal(new StudyShard(index, count), StudyShard.Parse(text));

    [Theory]
    [InlineData("3/3")]
    [InlineData("-1/2")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("0/0")]
    public void BadShardsAreSettingErrors(string text) => Assert.Equal("shard", Assert.Throws<MspgtException>(() => StudyShard.Parse(text)).Setting);

    [Fact]
    public void ShardsFillTheCacheAndTheMergeEqualsOneRun()
    {
        string file = WriteStudy(_dir, "parts", Small, interventions: true);
        var def = StudyFile.Load(file);
        var owner = StudyShard.Assign(def, 2);
        var first = StudyRunner.RunShard(def, new StudyShard(0, 2), SmallStudy.Options());
        Assert.Equal(Enumerable.Range(0, 3).Where(i => owner[i] == 0).Select(i => def.Models[i].Name), first.Models.Select(m => m.Spec.Name));
        Assert.All(first.Models, m => Assert.NotNull(m.Interventions));

        // The other shard's models are missing: the merge says which, and which shard computes them.
        var e = Assert.Throws<MspgtException>(() => StudyRunner.Merge(def, SmallStudy.Options(), shards: 2));
        foreach (var i in Enumerable.Range(0, 3).Where(i => owner[i] == 1))
            Assert.Contains($"{def.Models[i].Name}: analysis (shard 1/2)", e.Message);
        Assert.False(File.Exists(Path.Combine(def.Output, "study.json")));

        var log = new List<string>();
        StudyRunner.RunShard(def, new StudyShard(1, 2), SmallStudy.Options(log: log.Add));
        StudyRunner.RunShard(def, new StudyShard(0, 2), SmallStudy.Options(log: log.Add)); // again: all cached
        Assert.DoesNotContain(log, l => l.Contains("analysed into") && owner[def.Models.ToList().FindIndex(m => l.Contains(m.Name))] == 0);
        var merged = StudyRunner.Merge(def, SmallStudy.Options());
        Assert.All(merged.Models, m => Assert.True(m.FromCache));
        StudyReport.Write(merged);

        string single = StudyFile.Load(file, outputOverride: Path.Combine(_dir, "single")).Output;
        StudyReport.Write(StudyRunner.Run(StudyFile.Load(file, outputOverride: single), SmallStudy.Options()));
        Assert.Equal(Comparable(Path.Combine(single, "study.json")), Comparable(Path.Combine(def.Output, "study.json")));
    }

    [Fact]
    public void TheEmittedScriptsSubmitAnArrayAndAMergeAfterIt()
    {
        string file = WriteStudy(_dir, "emit", Small, interventions: false);
        var (code, slurm, err) = CliHarness.Run("study", file, "--emit", "slurm", "--shards", "3", "--cpus-per-task", "2", "--partition", "gpu",
            "--gpus-per-task", "1", "--mspgt", "/opt/mspgt/mspgt");
        Assert.True(code == 0, err);
        Assert.StartsWith("#!/usr/bin/env bash", slurm);
        Assert.Contains("--array=0-2", slurm);
        Assert.Contains("--dependency=afterok:", slurm);
        Assert.Contains("--shard ${SLURM_ARRAY_TASK_ID}/3", slurm);
        Assert.Contains("--merge-only --shards 3", slurm);
        Assert.Contains("--cpus-per-task=2", slurm);
        Assert.Contains("--partition='gpu'", slurm);
        Assert.Contains("--gpus-per-task=1", slurm);
        Assert.Contains("--device cuda", slurm); // a task given a GPU runs the GPU forward pass
        Assert.Contains("DOTNET_PROCESSOR_COUNT=${SLURM_CPUS_PER_TASK:-1}", slurm);
        Assert.Contains("'/opt/mspgt/mspgt'", slurm);
        var check = Process.Start(new ProcessStartInfo("bash", ["-n"]) { RedirectStandardInput = true, RedirectStandardError = true })!;
        check.StandardInput.Write(slurm);
        check.StandardInput.Close();
        check.WaitForExit();
        Assert.True(check.ExitCode == 0, check.StandardError.ReadToEnd()); // the script parses

        var (code2, k8s, err2) = CliHarness.Run("study", file, "--emit", "k8s", "--shards", "3", "--mspgt", "mspgt");
        Assert.True(code2 == 0, err2);
        Assert.Contains("completionMode: Indexed", k8s);
        Assert.Contains("--shard $JOB_COMPLETION_INDEX/3", k8s);
        Assert.Contains("--merge-only", k8s);
        Assert.DoesNotContain("--device", k8s); // no GPUs asked for: the CPU path
    }

    /// <summary>Starts `mspgt study FILE` as a child process; stderr lines go to <paramref name="onLine"/>.</summary>
    /// <param name="holdAfter">The process waits after printing the line that starts with this (MSPGT_HOLD_AFTER), so
    /// that a kill sent on reading it always lands there.</param>
    private static Process Start(string file, Action<Process, string>? onLine = null, string? holdAfter = null, params string[] extra)
    {
        var psi = new ProcessStartInfo(Mspgt) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (holdAfter != null) psi.Environment["MSPGT_HOLD_AFTER"] = holdAfter;
        foreach (var a in new[] { "study", file }.Concat(extra)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) onLine?.Invoke(p, line); };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    [Fact]
    public void TwoProcessesOnOneCacheNeverComputeTheSameModel()
    {
        // Two whole runs of one study at once (as two shards of a mis-sized array, or a re-submitted job, would): the
        // per-model lock lets one compute each model while the other waits and reads it.
        string file = WriteStudy(_dir, "twice", Small, interventions: true);
        var lines = new List<string>();
        var runs = Enumerable.Range(0, 2).Select(_ => Start(file, (_, line) => { lock (lines) lines.Add(line); })).ToList();
        foreach (var p in runs)
        {
            Assert.True(p.WaitForExit(180_000), "a run did not finish");
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, string.Join("\n", lines));
            p.Dispose();
        }
        foreach (var (name, _, _, _, _) in Small)
        {
            Assert.Single(lines, l => l.Contains($"] {name}: analysed into"));
            Assert.Single(lines, l => l.Contains($"] {name}: interventions into"));
        }
    }

    [Fact]
    public void AStudyKilledAtAnyPointResumesWithoutRecomputingOrReadingHalfEntries()
    {
        string file = WriteStudy(_dir, "killed", Small, interventions: true);
        var def = StudyFile.Load(file);
        // Kill points: while the first model's documents run, just after it finished (its cache written), during the
        // second model's interventions, and a SIGINT (Ctrl-C) during the third.
        var points = new (string Trigger, bool Interrupt)[]
        {
            ("[1/3] s260k: documents: 1/5", false),
            ("[1/3] s260k: interventions into", false),
            ("[2/3] s260k-gguf: interventions:", false),
            ("[3/3] tl: documents: 1/5", true),
        };
        var completed = new HashSet<string>();
        foreach (var (trigger, interrupt) in points)
        {
            using var p = Start(file, (proc, line) =>
            {
                if (!line.StartsWith(trigger, StringComparison.Ordinal)) return;
                if (interrupt) Process.Start("kill", ["-INT", proc.Id.ToString()])!.WaitForExit();
                else { try { proc.Kill(); } catch (InvalidOperationException) { } } // SIGKILL: no chance to clean up
            }, holdAfter: trigger);   // held at the trigger: the study cannot run on (or finish) before the signal
            Assert.True(p.WaitForExit(120_000), "the study did not stop");
            p.WaitForExit();
            if (interrupt) Assert.Equal(130, p.ExitCode);
            // Whatever was written is whole: every JSON file parses, no model folder claims completion without its data.
            if (!Directory.Exists(Path.Combine(def.Output, "models"))) continue;
            foreach (var json in Directory.EnumerateFiles(def.Output, "*.json", SearchOption.AllDirectories))
                JsonNode.Parse(File.ReadAllText(json));
            foreach (var record in Directory.EnumerateFiles(Path.Combine(def.Output, "models"), "model.json", SearchOption.AllDirectories))
            {
                string folder = Path.GetDirectoryName(record)!;
                Assert.True(File.Exists(Path.Combine(folder, "summary.json")) && File.Exists(Path.Combine(folder, "signals.parquet")), folder);
                completed.Add(Path.GetFileName(folder));
            }
            Assert.False(File.Exists(Path.Combine(def.Output, "study.json")));
        }
        Assert.NotEmpty(completed);

        // The last run finishes: models completed before are read, never recomputed.
        var lines = new List<string>();
        using (var p = Start(file, (_, line) => { lock (lines) lines.Add(line); }))
        {
            Assert.True(p.WaitForExit(180_000), "the resumed study did not finish");
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, string.Join("\n", lines));
        }
        foreach (var folder in completed)
            Assert.Contains(lines, l => l.Contains($"read from models/{folder}"));
        // No library chatter: Skia's SVG export used to print "Unsupported path effect" for every dashed line.
        Assert.DoesNotContain(lines, l => l.Contains("Unsupported path effect"));
        Assert.DoesNotContain(lines, l => completed.Any(f => l.Contains($"analysed into models/{f}")));

        string single = Path.Combine(_dir, "uninterrupted");
        StudyReport.Write(StudyRunner.Run(StudyFile.Load(file, outputOverride: single), new StudyOptions()));
        Assert.Equal(Comparable(Path.Combine(single, "study.json")), Comparable(Path.Combine(def.Output, "study.json")));
    }
}

/// <summary>A test that needs a running Slurm cluster (scripts/slurm-local.sh start); skipped, saying so, without one.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (!Up()) Skip = "no Slurm cluster answers (start one with scripts/slurm-local.sh start)";
    }

    private static bool Up()
    {
        try
        {
            var p = Process.Start(new ProcessStartInfo("sinfo", ["-h", "-o", "%T"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            if (!p.WaitForExit(10_000)) { p.Kill(); return false; }
            return p.ExitCode == 0 && p.StandardOutput.ReadToEnd().Split('\n').Any(s => s.Trim() is "idle" or "mixed" or "allocated" or "mix" or "alloc");
        }
        catch (System.ComponentModel.Win32Exception) { return false; } // no sinfo on PATH
    }
}

[Collection("Console")]
public sealed class SlurmStudyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-slurm").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Shell(string command, int timeoutMs = 60_000)
    {
        var p = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var (o, e) = (p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
        if (!p.WaitForExit(timeoutMs)) { p.Kill(entireProcessTree: true); Assert.Fail($"`{command}` did not finish"); }
        return (p.ExitCode, o.Result, e.Result);
    }

    [SlurmFact]
    public void TheEmittedScriptRunsTheStudyAsAnArrayAndItsMergeEqualsOneProcess()
    {
        string file = StudyShardTests.WriteStudy(_dir, "cluster",
        [
            ("stories260K", TestData.Path("models", "stories260K", "stories260K.bin"), "llama", null, false),
            ("stories-llama-12L", TestData.Path("models", "stories-llama-12L"), "llama", null, false),
            ("stories-qwen3-12L", TestData.Path("models", "stories-qwen3-12L"), "qwen", null, false),
            ("tiny-llama-random", TestData.Path("fixtures", "tiny-llama"), "llama", TestData.Path("fixtures", "tiny-llama.f32.gguf"), true),
            ("tiny-qwen3-random", TestData.Path("fixtures", "tiny-qwen3"), "qwen", TestData.Path("fixtures", "tiny-qwen3.f32.gguf"), true),
        ], interventions: true);
        var (code, script, err) = CliHarness.Run("study", file, "--emit", "slurm", "--shards", "3", "--mspgt", StudyShardTests.Mspgt);
        Assert.True(code == 0, err);
        string scriptPath = Path.Combine(_dir, "submit.sh");
        File.WriteAllText(scriptPath, script);

        var (rc, ids, serr) = Shell($"bash '{scriptPath}'");
        Assert.True(rc == 0, serr);
        var jobs = ids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, jobs.Length);
        Assert.All(jobs, j => Assert.Matches("^[0-9]+$", j));

        // Wait for the merge job to leave the queue (it starts only after all three shards succeeded).
        var def = StudyFile.Load(file);
        var clock = Stopwatch.StartNew();
        while (Shell($"squeue -h -j {jobs[0]},{jobs[1]} 2>/dev/null").Out.Trim().Length > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(10), "the jobs did not finish within 10 minutes");
            Thread.Sleep(2000);
        }
        string logs = string.Join("\n", Directory.GetFiles(Path.Combine(def.Output, "slurm")).Select(f => $"== {f}\n{File.ReadAllText(f)}"));
        Assert.True(File.Exists(Path.Combine(def.Output, "study.json")), logs);
        for (int shard = 0; shard < 3; shard++)
            Assert.Contains($"shard {shard}/3:", File.ReadAllText(Path.Combine(def.Output, "slurm", $"shard-{shard}.out")));
        Assert.Contains("read from", File.ReadAllText(Path.Combine(def.Output, "slurm", "merge.out")));
        Assert.DoesNotContain("analysed into", File.ReadAllText(Path.Combine(def.Output, "slurm", "merge.out")));

        string single = Path.Combine(_dir, "single");
        StudyReport.Write(StudyRunner.Run(StudyFile.Load(file, outputOverride: single), new StudyOptions()));
        Assert.Equal(StudyShardTests.Comparable(Path.Combine(single, "study.json")), StudyShardTests.Comparable(Path.Combine(def.Output, "study.json")));
    }
}
