using System.CommandLine;
using Mspgt.Loading;
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
        foreach (var o in new Option[] { model, tokenizer, prompt, maxTokens, temperature, topP, topK, seed, chat }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            var tok = CliCommon.RequireTokenizer(m);
            string text = p.GetValue(prompt) ?? "";
            int[] ids = text.Length == 0 && !p.GetValue(chat)
                ? [tok.BosId ?? throw new MspgtException("--prompt", "empty prompt and the tokenizer has no BOS token")]
                : CliCommon.EncodePrompt(m, text, p.GetValue(chat), p.GetValue(tokenizer));
            var sampling = new SamplingOptions(p.GetValue(temperature), p.GetValue(topK), p.GetValue(topP), p.GetValue(seed));
            int budget = Math.Min(p.GetValue(maxTokens), m.Config.MaxSeq - ids.Length);
            if (budget < 0) throw new MspgtException("--prompt", $"prompt of {ids.Length} tokens is longer than the model's context of {m.Config.MaxSeq}");
            var stop = new HashSet<int>();
            if (tok.EosId is int eos) stop.Add(eos);
            if (tok.BosId is int bos) stop.Add(bos);
            var generated = Generator.Generate(new Transformer(m.Config, m.Weights), ids, budget, sampling, stop);
            Console.Out.WriteLine(tok.Decode([.. ids, .. generated]));
            return 0;
        });
        return cmd;
    }
}
