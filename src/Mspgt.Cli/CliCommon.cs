using System.CommandLine;
using System.Text.Json;
using Mspgt;
using Mspgt.Loading;
using Mspgt.Reporting;
using Mspgt.Tokenization;
using Mspgt.Files;
using Mspgt.Numerics;

namespace Mspgt.Cli;

/// <summary>Options and small helpers shared by the commands.</summary>
public static class CliCommon
{
    public const string DefaultModelRelative = "../shared/models/stories260K/stories260K.bin";

    public static Option<string?> ModelOption(bool required = true) => new("--model", "-m")
    {
        Description = "Model: a Hugging Face folder, a .gguf file or a llama2.c .bin file",
        Required = required,
    };

    public static Option<string?> TokenizerOption() => new("--tokenizer")
    {
        Description = "Tokenizer file (tokenizer.json, llama2.c vocab, or a .gguf); default: the model's own",
    };

    /// <summary>-t/--threads: the process-wide worker count (<see cref="Parallelism"/>); default all cores.</summary>
    public static Option<int?> ThreadsOption() => new("--threads", "-t")
    {
        Description = "Worker threads (default: all cores; results do not depend on it)",
    };

    /// <summary>Applies -t/--threads process-wide; every parallel loop reads it.</summary>
    public static void ApplyThreads(ParseResult p, Option<int?> threads) => Parallelism.Set(p.GetValue(threads));

    /// <summary>--device and --dtype: where the forward pass runs and in what number format (applied with <see cref="ApplyDevice"/>).</summary>
    public sealed record DeviceOptions(Option<string?> Device, Option<string?> Dtype)
    {
        public Models.Gpu.DeviceSpec Spec(ParseResult p) => Models.Gpu.DeviceSpec.Parse(p.GetValue(Device) ?? "cpu");

        public Models.Gpu.ComputeType? Type(ParseResult p) => Models.Gpu.DeviceChoice.ParseDtype(p.GetValue(Dtype));
    }

    public static DeviceOptions DeviceOption() => new(
        new Option<string?>("--device")
        {
            Description = "Where the forward pass runs: cpu (default), cuda, cuda:N, or auto (CUDA when a device is present, else the CPU with a note); "
                          + "MSPGT_GPU_EMULATE=1 runs 'cuda' on ILGPU's CPU accelerator (tests)",
        },
        new Option<string?>("--dtype") { Description = "Number format of the weights and matrix products on --device cuda: bf16 (default there), f16, or f32 (the parity mode, no TF32); norms, attention and the residual stream stay f32. The CPU computes in f32 only" });

    /// <summary>Puts <paramref name="m"/>'s forward pass where --device/--dtype say; auto's fallback note goes to stderr.</summary>
    public static void ApplyDevice(ParseResult p, DeviceOptions o, LoadedModel m) =>
        m.UseDevice(o.Spec(p), o.Type(p), note => Console.Error.WriteLine(note));

    public static Option<bool> JsonOption(string what = "Print one JSON object") => new("--json") { Description = what };

    /// <summary>--model if given, else the default model (stories260K beside the repository) when it exists.</summary>
    public static string ResolveModel(string? given)
    {
        if (!string.IsNullOrEmpty(given)) return given;
        foreach (var root in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(root); d != null; d = d.Parent)
            {
                string p = Path.Combine(d.FullName, "..", "shared", "models", "stories260K", "stories260K.bin");
                if (File.Exists(p)) return Path.GetFullPath(p);
                p = Path.Combine(d.FullName, "shared", "models", "stories260K", "stories260K.bin");
                if (File.Exists(p)) return Path.GetFullPath(p);
            }
        throw new MspgtException("--model", $"no model given and the default model ({DefaultModelRelative}) was not found; pass --model PATH (a Hugging Face folder, a .gguf or a llama2.c .bin)");
    }

    /// <summary>A UTF-8 text file's content; a missing file, a directory, a FIFO or a device is a one-line error.</summary>
    public static string ReadTextFile(string path)
    {
        return RegularFile.ReadAllText(path, "text file");
    }

    public static int[] ParseIds(string s, int vocab)
    {
        var parts = s.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new MspgtException("--ids", "no ids given");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], out ids[i])) throw new MspgtException("--ids", $"\"{parts[i]}\" is not an integer id");
            if (ids[i] < 0 || ids[i] >= vocab) throw new MspgtException("--ids", $"id {ids[i]} is outside the vocabulary (0..{vocab - 1})");
        }
        return ids;
    }

    /// <summary>Prints one JSON value with the product's JSON settings (<see cref="JsonOutput"/>), on one line unless indented.</summary>
    public static void PrintJson<T>(T value, bool indented = false) =>
        Console.Out.WriteLine(JsonOutput.Serialize(value, indented: indented));
}
