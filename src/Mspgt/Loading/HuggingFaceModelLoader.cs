using Mspgt.Files;
using System.Text.Json;
using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Loading;

/// <summary>
/// Opens a Hugging Face folder: config.json + model.safetensors (or shards with model.safetensors.index.json).
/// The architecture comes from `model_type`, looked up in <see cref="Architectures"/>; <see cref="ReadConfig"/> maps the rest.
/// </summary>
public static class HuggingFaceModelLoader
{
    public static LoadedModel Load(string folder)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new MspgtException(folder, "not a model folder: no config.json");
        var (config, dtype) = ReadConfig(configPath);
        var st = SafetensorsReader.OpenFolder(folder);
        try
        {
            var weights = BuildWeights(config, st, folder);
            weights.Validate(config, folder);
            var tensors = st.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => new TensorEntry(t.Name, t.Type, t.Shape, t.Length)).ToList();
            var info = new Dictionary<string, string>
            {
                ["model_type"] = config.Spec.Name,
                ["torch_dtype"] = dtype ?? "(not given)",
                ["files"] = string.Join(", ", st.FilePaths.Select(Path.GetFileName)),
            };
            return new LoadedModel
            {
                Config = config, Weights = weights, Path = folder, Format = "safetensors",
                Tensors = tensors, Info = info, WeightFiles = st.FilePaths, Owned = [st],
            };
        }
        catch
        {
            st.Dispose();
            throw;
        }
    }

    /// <summary>Maps config.json to a ModelConfig. Unknown model_type → error listing the supported ones.</summary>
    public static (ModelConfig Config, string? Dtype) ReadConfig(string configPath)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(RegularFile.ReadAllText(configPath)); }
        catch (JsonException e) { throw new MspgtException(configPath, JsonOutput.Problem(e)); }
        using (doc)
        {
            var r = doc.RootElement;
            string modelType = Str(r, "model_type") ?? "";
            var arch = Architectures.Find(modelType)
                ?? throw new MspgtException(configPath, $"unsupported architecture model_type \"{modelType}\"; supported: {Architectures.Names}");
            int dim = ReqInt(r, "hidden_size", configPath);
            int heads = ReqInt(r, "num_attention_heads", configPath);
            int? headDim = Int(r, "head_dim");
            RopeScaling? scaling = null;
            if (r.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
            {
                string type = Str(rs, "rope_type") ?? Str(rs, "type") ?? "";
                if (type == "default") { }
                else if (type == "llama3")
                    scaling = new RopeScaling(
                        (float)ReqDouble(rs, "factor", configPath),
                        (float)(Double(rs, "low_freq_factor") ?? 1.0),
                        (float)(Double(rs, "high_freq_factor") ?? 4.0),
                        Int(rs, "original_max_position_embeddings") ?? 8192);
                else throw new MspgtException(configPath, $"unsupported rope_scaling type \"{type}\"; supported: llama3");
            }
            if (!arch.QkvBias && Bool(r, "attention_bias") == true)
                throw new MspgtException(configPath, $"attention_bias = true is not supported for {arch.Name} models");
            bool sliding = Bool(r, "use_sliding_window") == true;
            if (sliding && !arch.SlidingWindow)
                throw new MspgtException(configPath, $"use_sliding_window = true is not supported for {arch.Name} models");
            var config = new ModelConfig
            {
                Architecture = arch.Id,
                Dim = dim,
                Layers = ReqInt(r, "num_hidden_layers", configPath),
                Heads = heads,
                KvHeads = Int(r, "num_key_value_heads") ?? heads,
                HeadDim = headDim ?? (heads > 0 ? dim / heads : 0),
                Ffn = ReqInt(r, "intermediate_size", configPath),
                Vocab = ReqInt(r, "vocab_size", configPath),
                MaxSeq = Int(r, "max_position_embeddings") ?? 2048,
                NormEps = (float)(Double(r, "rms_norm_eps") ?? 1e-6),
                RopeTheta = (float)(Double(r, "rope_theta") ?? 10000.0),
                RopeScaling = scaling,
                TiedEmbeddings = Bool(r, "tie_word_embeddings") ?? arch.TiedByDefault,
                QkvBias = arch.QkvBias,
                QkNorm = arch.QkNorm,
                SlidingWindow = sliding ? Int(r, "sliding_window") : null,
                SlidingWindowFromLayer = sliding ? Int(r, "max_window_layers") ?? 0 : 0,
                BosId = FirstInt(r, "bos_token_id"),
                EosId = FirstInt(r, "eos_token_id"),
                AddBos = arch.AddBos,
            };
            config.Validate(configPath);
            return (config, Str(r, "torch_dtype") ?? Str(r, "dtype"));
        }
    }

    private static ModelWeights BuildWeights(ModelConfig c, SafetensorsReader st, string folder)
    {
        WeightMatrix Mat(string name)
        {
            var t = Get(name);
            if (t.Shape.Length != 2) throw new MspgtException(folder, $"tensor {name} has {t.Shape.Length} dimensions; expected 2");
            return StoredTensors.Matrix(t.File, name, t.Offset, t.Type, checked((int)t.Shape[0]), checked((int)t.Shape[1]));
        }
        float[] Vec(string name)
        {
            var t = Get(name);
            if (t.Shape.Length != 1) throw new MspgtException(folder, $"tensor {name} has {t.Shape.Length} dimensions; expected 1");
            return StoredTensors.Vector(t.File, name, t.Offset, t.Type, checked((int)t.Shape[0]));
        }
        float[]? OptVec(string name, bool wanted) => wanted ? Vec(name) : null;
        SafetensorsTensor Get(string name) =>
            st.Tensors.TryGetValue(name, out var t) ? t : throw new MspgtException(folder, $"missing tensor {name}");

        var layers = new LayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            layers[l] = new LayerWeights
            {
                AttnNorm = Vec(p + "input_layernorm.weight"),
                Q = Mat(p + "self_attn.q_proj.weight"),
                K = Mat(p + "self_attn.k_proj.weight"),
                V = Mat(p + "self_attn.v_proj.weight"),
                O = Mat(p + "self_attn.o_proj.weight"),
                QBias = OptVec(p + "self_attn.q_proj.bias", c.QkvBias),
                KBias = OptVec(p + "self_attn.k_proj.bias", c.QkvBias),
                VBias = OptVec(p + "self_attn.v_proj.bias", c.QkvBias),
                QNorm = OptVec(p + "self_attn.q_norm.weight", c.QkNorm),
                KNorm = OptVec(p + "self_attn.k_norm.weight", c.QkNorm),
                FfnNorm = Vec(p + "post_attention_layernorm.weight"),
                Gate = Mat(p + "mlp.gate_proj.weight"),
                Up = Mat(p + "mlp.up_proj.weight"),
                Down = Mat(p + "mlp.down_proj.weight"),
            };
        }
        var embed = Mat("model.embed_tokens.weight");
        var output = c.TiedEmbeddings || !st.Tensors.ContainsKey("lm_head.weight") ? embed : Mat("lm_head.weight");
        if (!c.TiedEmbeddings && ReferenceEquals(output, embed))
            throw new MspgtException(folder, "missing tensor lm_head.weight (tie_word_embeddings is false)");
        return new ModelWeights { Embedding = embed, Layers = layers, FinalNorm = Vec("model.norm.weight"), Output = output };
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
    private static double? Double(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
    private static bool? Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
    private static int? FirstInt(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number) return v.GetInt32();
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.Number) return v[0].GetInt32();
        return null;
    }
    private static int ReqInt(JsonElement e, string name, string src) =>
        Int(e, name) ?? throw new MspgtException(src, $"config is missing \"{name}\"");
    private static double ReqDouble(JsonElement e, string name, string src) =>
        Double(e, name) ?? throw new MspgtException(src, $"config is missing \"{name}\"");
}
