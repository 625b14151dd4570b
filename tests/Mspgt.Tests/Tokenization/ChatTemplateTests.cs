using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

public class ChatTemplateTests
{
    private static string Qwen3Config => TestData.Path("tokenizers", "qwen3", "tokenizer_config.json");

    [Fact]
    public void Qwen3SingleUserMessage()
    {
        var t = ChatTemplate.FromTokenizerConfig(Qwen3Config);
        Assert.Equal("qwen3", t.Kind);
        Assert.Null(t.DefaultSystemMessage);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", t.RenderUserPrompt("hi"));
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", t.RenderUserPrompt("hi", enableThinking: true));
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", t.RenderUserPrompt("hi", enableThinking: false));
    }

    /// <summary>The rendered prompt encodes to the reference ids of golden.json's "chat" case.</summary>
    [Fact]
    public void Qwen3PromptEncodesToReferenceIds()
    {
        var tok = SharedTokenizers.Qwen3.Value;
        var prompt = ChatTemplate.FromTokenizerConfig(Qwen3Config).RenderUserPrompt("hi");
        Assert.Equal([151644, 872, 198, 6023, 151645, 198, 151644, 77091, 198], tok.Encode(prompt, addBos: tok.AddBosByDefault));
    }

    // Qwen2.5-Instruct's template (abridged to its non-tool branch, same Jinja text).
    private const string Qwen25 = """
        {%- if tools %}{{- '<|im_start|>system\n' }}{%- else %}{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}{%- endif %}{%- endif %}{%- for message in messages %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}
        """;
    private const string PlainChatMl = """
        {% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
        """;
    private const string Llama3 = """
        {% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}
        """;

    [Fact]
    public void ChatMlWithDefaultSystemMessage()
    {
        var t = ChatTemplate.Parse(Qwen25, "cfg");
        Assert.Equal("chatml-default-system", t.Kind);
        Assert.Equal("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
            t.RenderUserPrompt("hi"));
        Assert.Throws<MspgtException>(() => t.RenderUserPrompt("hi", enableThinking: false));
    }

    [Fact]
    public void ChatMlWithoutSystemMessage()
    {
        var t = ChatTemplate.Parse(PlainChatMl, "cfg");
        Assert.Equal("chatml", t.Kind);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", t.RenderUserPrompt("hi"));
    }

    [Fact]
    public void UnrecognisedTemplateSaysWhatIsSupported()
    {
        var e = Assert.Throws<MspgtException>(() => ChatTemplate.Parse(Llama3, "tokenizer_config.json"));
        Assert.Contains("Qwen3", e.Message);
        Assert.Equal("tokenizer_config.json", e.Source);
    }
}
