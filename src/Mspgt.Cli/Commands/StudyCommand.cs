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
        var cmd = new Command("study", "Run a cross-model study (cached per model, resumable), test predictions P1–P5 and write report.html, study.json, study.parquet");
        cmd.Arguments.Add(file);
        cmd.Options.Add(outDir);
        cmd.Options.Add(relativeTo);
        cmd.Options.Add(json);
        cmd.SetAction(p =>
        {
            var def = StudyFile.Load(p.GetValue(file)!, p.GetValue(outDir), p.GetValue(relativeTo));
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            StudyResult result;
            try
            {
                result = Run(def, cts.Token);
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

    /// <summary>Progress on stderr: one line per model and every 10% of a model's documents (stdout stays clean).</summary>
    private static StudyResult Run(StudyDefinition def, CancellationToken token)
    {
        string last = "";
        int lastDecile = -1;
        var result = StudyRunner.Run(def, new StudyOptions
        {
            Cancellation = token,
            Log = line => Console.Error.WriteLine(line),
            Progress = (what, done, total) =>
            {
                int decile = total == 0 ? 10 : done * 10 / total;
                if (what != last || decile != lastDecile)
                {
                    last = what;
                    lastDecile = decile;
                    Console.Error.WriteLine($"{what}: {done}/{total}");
                }
            },
        });
        StudyReport.Write(result);
        return result;
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
        AnsiConsole.Write(t);
        var pt = new Table().AddColumn("id").AddColumn("verdict").AddColumn("p / interval").AddColumn("why");
        foreach (var p in r.Predictions)
            pt.AddRow(p.Id, p.Supported switch
                {
                    Verdict.Supported => "[green]supported[/]",
                    Verdict.NotSupported => "[red]not supported[/]",
                    _ => Markup.Escape(VerdictJsonConverter.Text(p.Supported)),
                },
                Markup.Escape(StudyReport.Evidence(p)), Markup.Escape(p.Reason));
        AnsiConsole.Write(pt);
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {Path.Combine(r.Definition.Output, StudyOutputs.ReportFileName)}, {StudyOutputs.SummaryFileName}, {StudyOutputs.TableFileName}"));
    }
}
