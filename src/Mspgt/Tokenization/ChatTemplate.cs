using Mspgt.Files;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mspgt.Tokenization;

/// <summary>
/// Renders one user message as a chat prompt with the assistant turn opened (add_generation_prompt), for the
/// templates of the Qwen family, told apart by the Jinja text of tokenizer_config.json's chat_template. There is
/// no Jinja engine: each recognised template's output for a single user message is written out here.
/// Recognised: Qwen3 (ChatML, no default system message, enable_thinking switch), Qwen2 / Qwen2.5 and other ChatML
/// templates with a default system message, and plain ChatML.
/// </summary>
public sealed class ChatTemplate
{
    public const string Supported =
        "Qwen3 (ChatML with enable_thinking), Qwen2 / Qwen2.5 (ChatML with a default system message), plain ChatML";

    // A default system turn written as one Jinja string literal, e.g. '<|im_start|>system\nYou are Qwen, ...<|im_end|>\n'
    private static readonly Regex DefaultSystem = new(
        @"(['""])<\|im_start\|>system\\n((?:(?!\1)[^\\<]|\\.)*)<\|im_end\|>\\n\1", RegexOptions.CultureInvariant);

    /// <summary>"qwen3", "chatml-default-system" or "chatml".</summary>
    public string Kind { get; }
    /// <summary>The system message the template inserts when the conversation has none.</summary>
    public string? DefaultSystemMessage { get; }
    /// <summary>Whether the template honours enable_thinking (Qwen3).</summary>
    public bool HasThinkingSwitch { get; }

    private ChatTemplate(string kind, string? defaultSystem, bool thinkingSwitch)
    {
        Kind = kind;
        DefaultSystemMessage = defaultSystem;
        HasThinkingSwitch = thinkingSwitch;
    }

    /// <summary>Recognises a chat_template's Jinja text.</summary>
    public static ChatTemplate Parse(string template, string source)
    {
        bool chatMl = template.Contains("<|im_start|>", StringComparison.Ordinal) && template.Contains("<|im_end|>", StringComparison.Ordinal)
            && template.Contains("<|im_start|>assistant\\n", StringComparison.Ordinal) && template.Contains("add_generation_prompt", StringComparison.Ordinal);
        if (!chatMl)
            throw new MspgtException(source, $"unrecognised chat template (supported: {Supported})");
        var m = DefaultSystem.Match(template);
        string? system = m.Success ? UnescapeJinja(m.Groups[2].Value) : null;
        bool thinking = template.Contains("enable_thinking", StringComparison.Ordinal);
        if (thinking && !template.Contains("'<think>\\n\\n</think>\\n\\n'", StringComparison.Ordinal))
            throw new MspgtException(source, $"unrecognised use of enable_thinking in the chat template (supported: {Supported})");
        string kind = thinking ? "qwen3" : system is not null ? "chatml-default-system" : "chatml";
        return new ChatTemplate(kind, system, thinking);
    }

    /// <summary>Reads chat_template from a tokenizer_config.json (a string, or the "default" entry of a list).</summary>
    public static ChatTemplate FromTokenizerConfig(string path)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "file not found");
        using var doc = TokenizerJson.ParseJson(RegularFile.ReadAllBytes(path), path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("chat_template", out var t))
            throw new MspgtException(path, "no chat_template");
        string? text = t.ValueKind switch
        {
            JsonValueKind.String => t.GetString(),
            JsonValueKind.Array => t.EnumerateArray()
                .Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("name", out var n) && n.GetString() == "default")
                .Select(e => e.TryGetProperty("template", out var tt) ? tt.GetString() : null).FirstOrDefault(),
            _ => null,
        };
        return Parse(text ?? throw new MspgtException(path, "chat_template is neither a string nor a list with a \"default\" entry"), path);
    }

    /// <summary>The prompt for one user message, assistant turn opened. enableThinking: null leaves the template's
    /// default (Qwen3 thinks); false adds Qwen3's empty think block.</summary>
    public string RenderUserPrompt(string userMessage, bool? enableThinking = null)
    {
        if (enableThinking is not null && !HasThinkingSwitch)
            throw new MspgtException("chat template", $"this {Kind} template has no enable_thinking switch");
        var sb = new System.Text.StringBuilder();
        if (DefaultSystemMessage is not null) sb.Append("<|im_start|>system\n").Append(DefaultSystemMessage).Append("<|im_end|>\n");
        sb.Append("<|im_start|>user\n").Append(userMessage).Append("<|im_end|>\n<|im_start|>assistant\n");
        if (enableThinking == false) sb.Append("<think>\n\n</think>\n\n");
        return sb.ToString();
    }

    private static string UnescapeJinja(string s) => Regex.Replace(s, @"\\(.)", m => m.Groups[1].Value switch
    {
        "n" => "\n",
        "t" => "\t",
        var c => c,
    });
}
