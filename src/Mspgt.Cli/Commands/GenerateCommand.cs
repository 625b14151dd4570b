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
        var prompt = new Option<string>("--prompt") { Description = "Prompt text (empty: start from BOS)", DefaultValueFactory = _ => "" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most new tokens", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the model's chat template" };
        var cmd = new Command("generate", "Generate text from a prompt");
        var threads = CliCommon.ThreadsOption();
        foreach (var o in new Option[] { model, tokenizer, prompt, maxTokens, temperature, topP, topK, seed, chat, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            var sampling = new SamplingOptions(p.GetValue(temperature), p.GetValue(topK), p.GetValue(topP), p.GetValue(seed));
            Console.Out.WriteLine(TextGeneration.Continue(m, p.GetValue(prompt) ?? "", p.GetValue(maxTokens), sampling, p.GetValue(chat), p.GetValue(tokenizer)));
            return 0;
        });
        return cmd;
    }
}
