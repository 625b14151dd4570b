using System.CommandLine;
using Mspgt.Experiments;
using Mspgt.Experiments.Predictions;
using Mspgt.Reporting;
using Spectre.Console;
using Mspgt.Files;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt study STUDY.json|yaml`: analyse several models, test the predictions, write the report.</summary>
public static class StudyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("study") { Description = "Study file (JSON, or YAML for .yaml/.yml): models, corpus, analyze and intervene settings, output folder" };
        var outDir = new Option<string?>("--out") { Description = "Output folder (overrides the study file's \"output\")" };
        var relativeTo = new Option<string?>("--relative-to") { Description = "Resolve the study file's relative paths against this folder instead of the file's own folder" };
        var json = CliCommon.JsonOption("Print {\"models\", \"predictions\", \"manifest\"} (study.json) on stdout");
        var shard = new Option<string?>("--shard") { Description = "Compute only the models of shard I of N (I/N, 0-based) into the shared cache; no predictions or report" };
        var mergeOnly = new Option<bool>("--merge-only") { Description = "Compute nothing: read every model from the cache, test the predictions, write the outputs; fail listing what is missing" };
        var emit = new Option<string?>("--emit") { Description = "Print a script that runs the study as shards on a cluster instead of running it: slurm (a bash script of sbatch calls) or k8s (an Indexed Job, untested)" };
        emit.AcceptOnlyFromAmong("slurm", "k8s");
        var shards = new Option<int>("--shards") { Description = "Shards for --emit (and, with --merge-only, to say which shard a missing model belongs to)", DefaultValueFactory = _ => 4 };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition for --emit slurm" };
        var gpus = new Option<int>("--gpus-per-task") { Description = "GPUs per shard for --emit", DefaultValueFactory = _ => 0 };
        var cpus = new Option<int>("--cpus-per-task") { Description = "CPUs per shard for --emit (each shard runs that many threads)", DefaultValueFactory = _ => 1 };
        var command = new Option<string?>("--mspgt") { Description = "How the cluster's jobs call mspgt (default: this executable)" };
        var image = new Option<string?>("--image") { Description = "Container image for --emit k8s" };
        var cmd = new Command("study", "Run a cross-model study (cached per model, resumable, shardable), test predictions P1–P7 and write report.html, study.json and the tables signals, interventions and predictions.parquet");
        cmd.Arguments.Add(file);
        var threads = CliCommon.ThreadsOption();
        var device = new Option<string?>("--device")
        {
            Description = "Where each model's forward pass runs: cpu (default), cuda, cuda:N or auto (overrides the study file's \"device\"; "
                          + "--emit passes --device cuda to the jobs when --gpus-per-task > 0)",
        };
        foreach (var o in new Option[] { outDir, relativeTo, json, shard, mergeOnly, emit, shards, partition, gpus, cpus, command, image, threads, device }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            var def = StudyFile.Load(p.GetValue(file)!, p.GetValue(outDir), p.GetValue(relativeTo));
            if (p.GetValue(device) is string d) def = def with { Device = Models.Gpu.DeviceSpec.Parse(d).ToString() };
            if (p.GetValue(emit) is string kind)
            {
                var cluster = new ClusterSettings(p.GetValue(shards), p.GetValue(command) ?? ThisExecutable(), p.GetValue(partition),
                    p.GetValue(gpus), p.GetValue(cpus),
                    // A task given GPUs runs the GPU forward pass (each job sees its own GPU as cuda:0), unless --device said otherwise.
                    p.GetValue(device) is string dev ? $"--device {Models.Gpu.DeviceSpec.Parse(dev)}" : p.GetValue(gpus) > 0 ? "--device cuda" : null,
                    p.GetValue(image));
                Console.Out.Write(kind == "slurm" ? StudyScripts.Slurm(def, cluster) : StudyScripts.Kubernetes(def, cluster));
                return 0;
            }
            if (p.GetValue(shard) is string sh)
            {
                if (p.GetValue(mergeOnly)) throw MspgtException.ForSetting("merge_only", "--shard computes a part; --merge-only computes nothing: give one");
                var part = StudyRunner.RunShard(def, StudyShard.Parse(sh), Options(CancellationToken.None));
                if (!Progress.Quiet) Console.Error.WriteLine($"shard {part.Shard}: {part.Models.Count} model(s) ({string.Join(", ", part.Models.Select(m => m.Spec.Name))}), " +
                                        $"{part.Models.Count(m => !m.FromCache)} computed, {part.Models.Count(m => m.FromCache)} already cached");
                return 0;
            }
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            Progress.HoldCancellation = cts.Token;
            StudyResult result;
            try
            {
                result = p.GetValue(mergeOnly) ? StudyRunner.Merge(def, Options(cts.Token), p.GetValue(shards)) : StudyRunner.Run(def, Options(cts.Token));
                StudyReport.Write(result);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"interrupted: finished models are cached under {Path.Combine(def.Output, StudyRunner.ModelsFolder)}; run the same command again to resume");
                return 130;
            }
            finally { Console.CancelKeyPress -= onCancel; }
            if (p.GetValue(json)) { Console.Out.WriteLine(JsonOutput.Serialize(result.Summary)); return 0; }
            Print(result);
            return 0;
        });
        return cmd;
    }

    /// <summary>Progress on stderr (stdout stays clean): a line per model, and each model's stages with elapsed time and ETA.</summary>
    private static StudyOptions Options(CancellationToken token)
    {
        var progress = Progress.ForStderr();
        return new StudyOptions
        {
            Cancellation = token,
            Log = line =>
            {
                if (Progress.Quiet) return;
                progress.End();
                Console.Error.WriteLine(line);
                Progress.HoldAfter(line);
            },
            Progress = progress.Report,
        };
    }

    /// <summary>How to call this very mspgt again from a job: the executable, or "dotnet path/mspgt.dll".</summary>
    private static string ThisExecutable()
    {
        string process = Environment.ProcessPath ?? "mspgt";
        string dll = typeof(StudyCommand).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && dll.Length > 0 ? $"{process} {dll}" : process;
    }

    private static void Print(StudyResult r)
    {
        var t = new Table().AddColumn("model").AddColumn("family").AddColumn("size").AddColumn("layers").AddColumn("K selected")
            .AddColumn("two-boundary fit [[95% CI]]").AddColumn("p vs smooth");
        foreach (var m in r.Summary.Models)
        {
            string ci = m.ForcedK2BoundaryCi is { } c
                ? string.Join(", ", m.ForcedK2Boundaries.Select((b, i) => $"{b} [{c[i][0]}–{c[i][1]}]"))
                : string.Join(", ", m.ForcedK2Boundaries);
            t.AddRow(Markup.Escape(m.Control ? $"{m.Name} (control)" : m.Name), Markup.Escape(m.Family), Markup.Escape(m.Size), $"{m.NLayers}", $"{m.KSelected}",
                Markup.Escape(ci), m.ForcedK2PValue is double pv ? pv.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) : "-");
        }
        CliTable.Write(t);
        var pt = new Table().AddColumn("id").AddColumn("verdict").AddColumn("p / interval").AddColumn("why");
        foreach (var p in r.Predictions)
            pt.AddRow(p.Id, p.Supported switch
                {
                    Verdict.Supported => "[green]supported[/]",
                    Verdict.NotSupported => "[red]not supported[/]",
                    _ => Markup.Escape(VerdictJsonConverter.Text(p.Supported)),
                },
                Markup.Escape(StudyReport.Evidence(p)), Markup.Escape(p.Reason));
        CliTable.Write(pt);
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {Path.Combine(r.Definition.Output, StudyOutputs.ReportFileName)}, {StudyOutputs.SummaryFileName}, {StudyOutputs.SignalsFileName}, {StudyOutputs.PredictionsFileName}" + (r.Models.Any(m => m.InterventionsFolder is not null) ? $", {StudyOutputs.InterventionsFileName}" : "")));
    }
}
