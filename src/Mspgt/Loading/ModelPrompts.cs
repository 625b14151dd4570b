using Mspgt.Tokenization;

namespace Mspgt.Loading;

/// <summary>
/// Text in, ids out, for a loaded model: its tokenizer, the chat template beside it, and the encoding with the
/// model's BOS convention checked against its vocabulary. `run`, `generate` and `tokenize` share these.
/// </summary>
public static class ModelPrompts
{
    /// <summary>The model's tokenizer (its own, or the one given when it was loaded).</summary>
    public static ITokenizer TokenizerOf(LoadedModel model) => model.Tokenizer ?? throw (model.TokenizerError != null
        ? MspgtException.ForSetting("tokenizer", $"cannot read the tokenizer of {model.Path} ({model.TokenizerError}); give a tokenizer")
        : MspgtException.ForSetting("tokenizer", $"no tokenizer found for {model.Path}; give one (tokenizer.json, a llama2.c vocab or a .gguf)"));

    /// <summary>
    /// Text → ids as the model expects them: BOS first when the tokenizer's convention adds one, or, with
    /// <paramref name="chat"/>, the text as one user turn of the model's chat template (which brings its own start).
    /// </summary>
    /// <param name="tokenizerPath">The tokenizer given instead of the model's own: its folder is searched for the chat template first.</param>
    /// <param name="setting">The setting the text came from (<c>text</c>, <c>prompt</c>), named when it encodes to nothing.</param>
    public static int[] Encode(LoadedModel model, string text, bool chat = false, string? tokenizerPath = null, string setting = "text")
    {
        var tok = TokenizerOf(model);
        if (chat) text = ChatTemplateFor(model, tokenizerPath).RenderUserPrompt(text);
        var ids = tok.Encode(text, addBos: !chat && tok.AddBosByDefault);
        if (ids.Length == 0) throw MspgtException.ForSetting(setting, "the text encodes to no tokens");
        foreach (var id in ids)
            if (id >= model.Config.Vocab)
                throw MspgtException.ForSetting("tokenizer", $"tokenizer produced id {id} but the model's vocabulary has {model.Config.Vocab} entries");
        return ids;
    }

    /// <summary>The ids to generate from: the encoded prompt, or BOS alone for an empty prompt without a chat template.</summary>
    public static int[] GenerationPrompt(LoadedModel model, string prompt, bool chat = false, string? tokenizerPath = null)
    {
        if (prompt.Length > 0 || chat) return Encode(model, prompt, chat, tokenizerPath, "prompt");
        return [TokenizerOf(model).BosId ?? throw MspgtException.ForSetting("prompt", "empty prompt and the tokenizer has no BOS token")];
    }

    /// <summary>The chat template of the tokenizer_config.json beside the given tokenizer, else beside the model.</summary>
    public static ChatTemplate ChatTemplateFor(LoadedModel model, string? tokenizerPath = null) =>
        FindChatTemplate(tokenizerPath is null ? [model.Path] : [tokenizerPath, model.Path])
        ?? throw MspgtException.ForSetting("chat", $"no tokenizer_config.json with a chat_template beside {model.Path}");

    /// <summary>The chat template of the tokenizer_config.json beside a tokenizer file (or in its folder).</summary>
    public static ChatTemplate ChatTemplateBeside(string tokenizerPath) =>
        FindChatTemplate([tokenizerPath])
        ?? throw MspgtException.ForSetting("chat", $"no tokenizer_config.json beside {tokenizerPath} to take the chat template from");

    /// <summary>The first tokenizer_config.json in the folder of each path (a folder is its own), read; null when none exists.</summary>
    private static ChatTemplate? FindChatTemplate(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            string dir = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            string config = Path.Combine(dir, "tokenizer_config.json");
            if (File.Exists(config)) return ChatTemplate.FromTokenizerConfig(config);
        }
        return null;
    }
}
