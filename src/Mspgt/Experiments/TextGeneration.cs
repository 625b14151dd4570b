using Mspgt.Loading;
using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Tokenization;

namespace Mspgt.Experiments;

/// <summary>`mspgt generate` as one call: the prompt encoded, a continuation sampled up to the context's end or a stop token, decoded.</summary>
public static class TextGeneration
{
    /// <summary>The prompt and its continuation as text.</summary>
    /// <param name="maxNewTokens">Most new tokens; fewer where the context ends.</param>
    /// <param name="context">Most tokens, prompt and continuation together (llama.cpp's -c); default and limit: the model's context.</param>
    public static string Continue(LoadedModel model, string prompt, int maxNewTokens, SamplingOptions sampling, bool chat = false,
        string? tokenizerPath = null, int? context = null)
    {
        int ctx = context ?? model.Config.MaxSeq;
        if (ctx < 1 || ctx > model.Config.MaxSeq)
            throw MspgtException.ForSetting("context", $"must be in 1..{model.Config.MaxSeq} (the model's context), got {ctx}");
        sampling.Validate();
        if (maxNewTokens < 0) throw MspgtException.ForSetting("max_tokens", $"must be ≥ 0, got {maxNewTokens}");
        var tok = ModelPrompts.TokenizerOf(model);
        int[] ids = ModelPrompts.GenerationPrompt(model, prompt, chat, tokenizerPath);
        int budget = Math.Min(maxNewTokens, ctx - ids.Length);
        if (budget < 0)
            throw MspgtException.ForSetting("prompt", $"prompt of {ids.Length} tokens is longer than the context of {ctx}");
        var generated = Generator.Generate(model.Decoder, ids, budget, sampling, StopTokens.For(model.Config, tok));
        return tok.Decode([.. ids, .. generated]);
    }
}
