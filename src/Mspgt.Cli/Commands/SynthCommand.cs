using System.CommandLine;
using System.Diagnostics;
using Mspgt.Loading;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt synth`: writes a random-weight model of a preset shape as a Hugging Face folder.</summary>
public static class SynthCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description = $"Shape to write: {string.Join(", ", SyntheticModel.PresetNames)}", Required = true,
        };
        var output = new Option<string>("--out", "-o") { Description = "New folder to write (must not exist or be empty)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights (the same seed gives the values of bench --synthetic)", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string>("--dtype") { Description = "Stored type of the matrices: bf16 (default) or f32; norms and biases are f32", DefaultValueFactory = _ => "bf16" };
        var json = CliCommon.JsonOption();
        var cmd = new Command("synth", "Write a random-weight model of a real model's shape as a Hugging Face folder (safetensors, config.json, a generated tokenizer)");
        foreach (var o in new Option[] { preset, output, seed, dtype, json }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var config = SyntheticModel.Preset(p.GetValue(preset)!);
            var type = SyntheticModel.ParseWeightType(p.GetValue(dtype)!);
            var sw = Stopwatch.StartNew();
            var info = SyntheticCheckpoint.Write(config, p.GetValue(output)!, p.GetValue(seed), type);
            if (p.GetValue(json)) { CliCommon.PrintJson(info, indented: true); return 0; }
            Console.WriteLine($"wrote {info.Folder}: {p.GetValue(preset)} ({config.Architecture.ToString().ToLowerInvariant()}, {info.Parameters:N0} parameters), "
                              + $"{info.DType}, {info.WeightFiles.Count} weight file(s), {info.WeightBytes / 1e9:F2} GB, {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }
}
