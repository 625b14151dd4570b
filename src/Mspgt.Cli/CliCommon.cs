using System.CommandLine;
using Mspgt;
using Mspgt.Checkpoints;
using Mspgt.Reporting;
using Mspgt.Tokenization;

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

    public static ITokenizer RequireTokenizer(LoadedModel model) =>
        model.Tokenizer ?? throw (model.TokenizerError != null
            ? new MspgtException(model.Path, $"cannot read the model's tokenizer ({model.TokenizerError}); pass --tokenizer PATH")
            : new MspgtException(model.Path, "no tokenizer found for this model; pass --tokenizer PATH (tokenizer.json, a llama2.c vocab or a .gguf)"));

    /// <summary>Text → ids as the model expects them (BOS when the tokenizer's convention adds one).</summary>
    public static int[] EncodePrompt(LoadedModel model, string text, bool chat = false, string? tokenizerPath = null)
    {
        var tok = RequireTokenizer(model);
        if (chat) text = ChatPrompt(model, text, tokenizerPath);
        var ids = tok.Encode(text, addBos: !chat && tok.AddBosByDefault);
        if (ids.Length == 0) throw new MspgtException("--text", "the text encodes to no tokens");
        foreach (var id in ids)
            if (id >= model.Config.Vocab)
                throw new MspgtException("--tokenizer", $"tokenizer produced id {id} but the model's vocabulary has {model.Config.Vocab} entries");
        return ids;
    }

    /// <summary>Renders a single user turn with the chat template of tokenizer_config.json beside the model or tokenizer.</summary>
    public static string ChatPrompt(LoadedModel model, string text, string? tokenizerPath = null)
    {
        var dirs = new List<string>();
        if (tokenizerPath != null) dirs.Add(Directory.Exists(tokenizerPath) ? tokenizerPath : Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!);
        dirs.Add(Directory.Exists(model.Path) ? model.Path : Path.GetDirectoryName(Path.GetFullPath(model.Path))!);
        foreach (var d in dirs)
        {
            string cfg = Path.Combine(d, "tokenizer_config.json");
            if (File.Exists(cfg)) return ChatTemplate.FromTokenizerConfig(cfg).RenderUserPrompt(text);
        }
        throw new MspgtException("--chat", $"no tokenizer_config.json with a chat_template beside {model.Path}");
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
