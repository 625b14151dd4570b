using System.Text;
using System.Text.Json;
using Mspgt.Models;

namespace Mspgt.Loading;

/// <summary>
/// config.json as transformers writes it for LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM: the fields
/// <see cref="HuggingFaceModelLoader"/> reads plus the usual others, so that transformers loads the folder too.
/// One writer for every folder mspgt writes (training checkpoints, synthetic models).
/// </summary>
public static class HuggingFaceConfigJson
{
    /// <summary>The config's text, ending in a newline; <paramref name="torchDtype"/> is transformers' name ("float32", "bfloat16").</summary>
    public static string Text(ModelConfig c, string torchDtype)
    {
        using var ms = new MemoryStream();
        Write(ms, c, torchDtype);
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    public static void Write(Stream s, ModelConfig c, string torchDtype)
    {
        var spec = c.Spec;
        using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartArray("architectures");
        w.WriteStringValue(spec.HfClass);
        w.WriteEndArray();
        w.WriteString("model_type", spec.Name);
        w.WriteNumber("hidden_size", c.Dim);
        w.WriteNumber("intermediate_size", c.Ffn);
        w.WriteNumber("num_hidden_layers", c.Layers);
        w.WriteNumber("num_attention_heads", c.Heads);
        w.WriteNumber("num_key_value_heads", c.KvHeads);
        w.WriteNumber("head_dim", c.HeadDim);
        w.WriteNumber("vocab_size", c.Vocab);
        w.WriteNumber("max_position_embeddings", c.MaxSeq);
        // Through decimal, so a float 1e-5 is written "1E-05" as people write it, not float's nearest double.
        w.WriteNumber("rms_norm_eps", (double)(decimal)c.NormEps);
        w.WriteNumber("rope_theta", (double)c.RopeTheta);
        if (c.RopeScaling is { } r)
        {
            w.WriteStartObject("rope_scaling");
            w.WriteString("rope_type", "llama3");
            w.WriteNumber("factor", r.Factor);
            w.WriteNumber("low_freq_factor", r.LowFreqFactor);
            w.WriteNumber("high_freq_factor", r.HighFreqFactor);
            w.WriteNumber("original_max_position_embeddings", r.OriginalMaxPositions);
            w.WriteEndObject();
        }
        else w.WriteNull("rope_scaling");
        w.WriteString("hidden_act", "silu");
        w.WriteBoolean("tie_word_embeddings", c.TiedEmbeddings);
        if (c.BosId is int bos) w.WriteNumber("bos_token_id", bos); else w.WriteNull("bos_token_id");
        if (c.EosId is int eos) w.WriteNumber("eos_token_id", eos); else w.WriteNull("eos_token_id");
        w.WriteNumber("initializer_range", 0.02);
        w.WriteNumber("attention_dropout", 0.0);
        w.WriteBoolean("use_cache", true);
        w.WriteString("torch_dtype", torchDtype);
        if (!spec.QkvBias) w.WriteBoolean("attention_bias", false);
        if (c.Architecture == Architecture.Llama)
        {
            w.WriteBoolean("mlp_bias", false);
            w.WriteNumber("pretraining_tp", 1);
        }
        if (spec.SlidingWindow)
        {
            w.WriteBoolean("use_sliding_window", c.SlidingWindow is not null);
            if (c.SlidingWindow is int sw) w.WriteNumber("sliding_window", sw); else w.WriteNull("sliding_window");
            w.WriteNumber("max_window_layers", c.SlidingWindow is null ? c.Layers : c.SlidingWindowFromLayer);
        }
        w.WriteEndObject();
    }
}
