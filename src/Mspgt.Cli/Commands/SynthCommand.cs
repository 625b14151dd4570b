using System.CommandLine;
using System.Diagnostics;
using Mspgt.Checkpoints;
using Mspgt.Loading;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt synth`: writes a random-weight model of a preset shape as a Hugging Face folder or, with --out FILE.gguf, a GGUF file.</summary>
public static class SynthCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description = $"Shape to write: {string.Join(", ", SyntheticModel.PresetNames)}", Required = true,
        };
        var output = new Option<string>("--out", "-o") { Description = "New folder to write (must not exist or be empty), or a new FILE.gguf: one llama.cpp GGUF file", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights (the same seed gives the values of bench --synthetic)", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string>("--dtype") { Description = "Stored type of the matrices: bf16 (default) or f32; a .gguf file also q8_0 or q4_k (rows not a multiple of 256 long stay q8_0); norms and biases are f32", DefaultValueFactory = _ => "bf16" };
        var json = CliCommon.JsonOption();
        var cmd = new Command("synth", "Write a random-weight model of a real model's shape as a Hugging Face folder (safetensors, config.json, a generated tokenizer) or a GGUF file");
        foreach (var o in new Option[] { preset, output, seed, dtype, json }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var config = SyntheticModel.Preset(p.GetValue(preset)!);
            string outPath = p.GetValue(output)!;
            bool gguf = outPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
            string typeName = p.GetValue(dtype)!;
            var type = gguf && typeName.Equals("q4_k", StringComparison.OrdinalIgnoreCase) ? TensorType.Q4_K : SyntheticModel.ParseWeightType(typeName);
            var sw = Stopwatch.StartNew();
            var info = gguf ? SyntheticGguf.Write(config, outPath, p.GetValue(seed), type)
                : SyntheticCheckpoint.Write(config, outPath, p.GetValue(seed), type);
            if (p.GetValue(json)) { CliCommon.PrintJson(info, indented: true); return 0; }
            Console.WriteLine($"wrote {info.Folder}: {p.GetValue(preset)} ({config.Architecture.ToString().ToLowerInvariant()}, {info.Parameters:N0} parameters), "
                              + $"{info.DType}, {info.WeightFiles.Count} weight file(s), {info.WeightBytes / 1e9:F2} GB, {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }
}
