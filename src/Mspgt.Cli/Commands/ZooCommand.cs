using Mspgt.Reporting;
using System.CommandLine;
using Mspgt.Training;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt zoo RECIPE.json --out DIR`: train a family of students on one shared corpus (resumable).</summary>
public static class ZooCommand
{
    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "Zoo recipe (JSON): teacher or corpus, defaults, students" };
        var outDir = new Option<string>("--out") { Description = "Output folder: corpus/, one folder per student, zoo.json", Required = true };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = all cores; results do not depend on it)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("zoo", "Train a zoo of small students (e.g. Llama and Qwen3 at several depths) on one teacher corpus");
        cmd.Arguments.Add(recipe);
        cmd.Options.Add(outDir);
        cmd.Options.Add(threads);
        cmd.SetAction(p =>
        {
            Mspgt.Numerics.Parallelism.Set(p.GetValue(threads));
            var r = ZooRecipe.Load(p.GetValue(recipe)!);
            var entries = ZooRunner.Run(r, p.GetValue(outDir)!, (_, prog) => TrainCommand.ProgressLine(prog), Console.Error.WriteLine, p.GetValue(threads), LossFigure.Write);
            Console.Error.WriteLine();
            foreach (var e in entries)
                Console.Out.WriteLine($"{e.Name}: {e.Architecture} {e.Layers} layers, {e.Parameters} parameters, step {e.Step}, val loss {e.ValLoss:F4}, {e.Checkpoints.Count} checkpoints");
            return 0;
        });
        return cmd;
    }
}
