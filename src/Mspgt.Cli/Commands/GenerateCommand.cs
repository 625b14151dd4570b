using System.CommandLine;
using Mspgt.Loading;
using Mspgt.Experiments;
using Mspgt.Models;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt generate`: sample a continuation of a prompt (greedy by default) and print the text.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var tokenizer = CliCommon.TokenizerOption();
        // llama.cpp's short names work too (-p, -f, -n, -c, --temp), so its users' habits carry over.
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text (empty: start from BOS)" };
        var file = new Option<string?>("--file", "-f") { Description = "Read the prompt from this UTF-8 file" };
        var maxTokens = new Option<int>("--max-tokens", "-n", "--n-predict") { Description = "Most new tokens", DefaultValueFactory = _ => 256 };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Most tokens, prompt and continuation together (default: the model's context)" };
        var temperature = new Option<float>("--temperature", "--temp") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed", "-s") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the model's chat template" };
        var cmd = new Command("generate", "Generate text from a prompt");
        var threads = CliCommon.ThreadsOption();
        var device = CliCommon.DeviceOption();
        foreach (var o in new Option[] { model, tokenizer, prompt, file, maxTokens, context, temperature, topP, topK, seed, chat, threads, device.Device, device.Dtype }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            if (p.GetValue(prompt) is not null && p.GetValue(file) is not null) throw new MspgtException("generate", "give --prompt or --file, not both");
            string text = p.GetValue(file) is { } path ? CliCommon.ReadTextFile(path) : p.GetValue(prompt) ?? "";
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            CliCommon.ApplyDevice(p, device, m);
            var sampling = new SamplingOptions(p.GetValue(temperature), p.GetValue(topK), p.GetValue(topP), p.GetValue(seed));
            Console.Out.WriteLine(TextGeneration.Continue(m, text, p.GetValue(maxTokens), sampling, p.GetValue(chat), p.GetValue(tokenizer), p.GetValue(context)));
            return 0;
        });
        return cmd;
    }
}
