using System.Globalization;
using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Loading;

/// <summary>
/// Opens a llama.cpp GGUF file (v1-v3) as a model in the Hugging Face layout: config from the `&lt;arch&gt;.*` keys,
/// matrices as WeightMatrix views over the mapped file (no copy, no dequantization up front), norms and biases
/// decoded to float32. Supported architectures: those in <see cref="Architectures"/>.
/// </summary>
/// <remarks>
/// llama.cpp runs `llama` models with adjacent-pair RoPE, so their q/k rows are stored permuted for it (the converter
/// permutes Hugging Face weights; Meta's original layout and llama2.c already are that way); qwen2 / qwen3 run with
/// NEOX RoPE, which is rotate-half, and are stored unpermuted (<see cref="ArchitectureSpec.GgufRope"/>). Permuted
/// matrices get a row map so that their logical rows are in the Hugging Face rotate-half order; the forward pass uses
/// rotate-half RoPE for every model.
/// Tensors the engine would not use are refused rather than ignored, so a variant the forward pass does not model
/// (output bias, MoE experts, ...) fails loudly instead of giving wrong activations.
/// </remarks>
public static class GgufModelLoader
{
    /// <summary>Tensors llama.cpp itself ignores (old llama files carry precomputed rotary tables).</summary>
    private static readonly string[] IgnoredLayerTensors = ["attn_rot_embd.weight"];

    public static LoadedModel Load(string path)
    {
        var gguf = GgufReader.Open(path);
        try
        {
            return Build(gguf, path);
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
    }

    private static LoadedModel Build(GgufFile f, string path)
    {
        string src = f.Path;
        string archName = f.GetString("general.architecture")
            ?? throw new MspgtException(src, "metadata general.architecture is missing");
        var arch = Architectures.Find(archName)
            ?? throw new MspgtException(src, $"architecture \"{archName}\" is not supported (supported: {Architectures.Names})");
        string a = archName + ".";

        if (f.GetInteger(a + "expert_count") is > 0)
            throw new MspgtException(src, $"mixture-of-experts models ({a}expert_count = {f.GetInteger(a + "expert_count")}) are not supported");
        RefuseRopeScalingKeys(f, a);

        int dim = PositiveInt(f, a + "embedding_length");
        int layers = PositiveInt(f, a + "block_count");
        int ffn = PerLayerInt(f, a + "feed_forward_length", layers, required: true)!.Value;
        int heads = PerLayerInt(f, a + "attention.head_count", layers, required: true)!.Value;
        int kvHeads = PerLayerInt(f, a + "attention.head_count_kv", layers, required: false) ?? heads;
        int headDim = f.Has(a + "attention.key_length") ? PositiveInt(f, a + "attention.key_length") : dim / heads;
        if (!f.Has(a + "attention.key_length") && dim % heads != 0)
            throw new MspgtException(src, $"{a}embedding_length {dim} is not a multiple of the head count {heads} and {a}attention.key_length is missing");
        if (f.Has(a + "attention.value_length") && PositiveInt(f, a + "attention.value_length") != headDim)
            throw new MspgtException(src, $"{a}attention.value_length {f.GetInteger(a + "attention.value_length")} differs from the key length {headDim}; mspgt needs them equal");
        if (f.Has(a + "rope.dimension_count") && PositiveInt(f, a + "rope.dimension_count") != headDim)
            throw new MspgtException(src, $"partial rotary embeddings ({a}rope.dimension_count {f.GetInteger(a + "rope.dimension_count")} < head dim {headDim}) are not supported");
        float eps = (float)(f.GetFloat(a + "attention.layer_norm_rms_epsilon")
            ?? throw new MspgtException(src, $"metadata {a}attention.layer_norm_rms_epsilon is missing"));
        float theta = (float)(f.GetFloat(a + "rope.freq_base") ?? 10000.0);
        int context = PositiveInt(f, a + "context_length");

        var embInfo = Need(f, "token_embd.weight");
        var outInfo = f.FindTensor("output.weight");
        int vocab = f.Has(a + "vocab_size") ? PositiveInt(f, a + "vocab_size") : MatrixShape(f, embInfo).Rows;

        var info = new Dictionary<string, string>
        {
            ["version"] = f.Version.ToString(CultureInfo.InvariantCulture),
            ["alignment"] = f.Alignment.ToString(CultureInfo.InvariantCulture),
            ["general.architecture"] = archName,
        };
        if (f.GetString("general.name") is { } name) info["general.name"] = name;
        if (f.GetInteger("general.file_type") is { } ftype) info["general.file_type"] = FileTypeName(ftype);
        if (f.GetInteger("general.quantization_version") is { } qv) info["general.quantization_version"] = qv.ToString(CultureInfo.InvariantCulture);
        if (f.GetString("tokenizer.ggml.model") is { } tok) info["tokenizer.ggml.model"] = tok;
        if (f.GetString(a + "tensor_data_layout") is { } layout) info[a + "tensor_data_layout"] = layout;
        if (f.GetInteger(a + "attention.sliding_window") is { } sw)
        {
            // llama.cpp runs llama/qwen2/qwen3 with full attention whatever this key says, and GGUF does not record
            // Hugging Face's use_sliding_window / max_window_layers, so the key is reported but not applied.
            info[a + "attention.sliding_window"] = $"{sw} (not applied: full attention, as llama.cpp)";
        }

        bool hasBias = f.FindTensor("blk.0.attn_q.bias") != null;
        var config = new ModelConfig
        {
            Architecture = arch.Id,
            Dim = dim,
            Layers = layers,
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            Ffn = ffn,
            Vocab = vocab,
            MaxSeq = context,
            NormEps = eps,
            RopeTheta = theta,
            TiedEmbeddings = outInfo == null,
            QkvBias = arch.QkvBias || hasBias,
            QkNorm = arch.QkNorm,
            BosId = OptionalId(f, "tokenizer.ggml.bos_token_id"),
            EosId = OptionalId(f, "tokenizer.ggml.eos_token_id"),
            AddBos = f.GetBool("tokenizer.ggml.add_bos_token") ?? DefaultAddBos(f),
        };
        config.Validate(src);

        // Every tensor must be one the engine uses (or llama.cpp ignores); anything else means a variant we do not model.
        var used = new HashSet<string>(StringComparer.Ordinal);
        WeightMatrix Mat(string n, int[]? rowMap = null)
        {
            used.Add(n);
            var m = Matrix(f, Need(f, n));
            if (rowMap != null && rowMap.Length != m.Rows) // the shapes are checked in full below; the row map needs them now
                throw new MspgtException(src, $"tensor {n} has {m.Rows} rows but the config needs {rowMap.Length}");
            return rowMap == null ? m : m.WithRowMap(rowMap);
        }
        float[] Vec(string n, int[]? permutation = null)
        {
            used.Add(n);
            var v = Vector(f, Need(f, n));
            return permutation == null ? v : Permute(v, permutation, f, n);
        }
        float[]? OptVec(string n, int[]? permutation = null) => f.FindTensor(n) == null ? null : Vec(n, permutation);

        // q/k rows stored for adjacent-pair RoPE (llama): logical rows are the HF rotate-half order.
        bool permuted = arch.GgufRope == RopeForm.AdjacentPairs;
        int[]? qMap = permuted ? RotateHalfRowMap(heads, headDim) : null;
        int[]? kMap = permuted ? RotateHalfRowMap(kvHeads, headDim) : null;

        var embedding = Mat("token_embd.weight");
        var layerWeights = new LayerWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            string p = $"blk.{l}.";
            layerWeights[l] = new LayerWeights
            {
                AttnNorm = Vec(p + "attn_norm.weight"),
                Q = Mat(p + "attn_q.weight", qMap),
                K = Mat(p + "attn_k.weight", kMap),
                V = Mat(p + "attn_v.weight"),
                O = Mat(p + "attn_output.weight"),
                QBias = config.QkvBias ? Vec(p + "attn_q.bias", qMap) : null,
                KBias = config.QkvBias ? Vec(p + "attn_k.bias", kMap) : null,
                VBias = config.QkvBias ? Vec(p + "attn_v.bias") : null,
                QNorm = config.QkNorm ? Vec(p + "attn_q_norm.weight") : null,
                KNorm = config.QkNorm ? Vec(p + "attn_k_norm.weight") : null,
                FfnNorm = Vec(p + "ffn_norm.weight"),
                Gate = Mat(p + "ffn_gate.weight"),
                Up = Mat(p + "ffn_up.weight"),
                Down = Mat(p + "ffn_down.weight"),
            };
            foreach (var ignored in IgnoredLayerTensors) used.Add(p + ignored);
        }
        var finalNorm = Vec("output_norm.weight");
        var output = outInfo == null ? embedding : Mat("output.weight");
        float[]? ropeFactors = arch.GgufRopeFreqs ? OptVec("rope_freqs.weight") : null;
        if (ropeFactors != null) info["rope_freqs"] = $"{ropeFactors.Length} factors (Llama 3.1-style scaling)";

        var unexpected = f.Tensors.Where(t => !used.Contains(t.Name)).Select(t => t.Name).ToList();
        if (unexpected.Count > 0)
            throw new MspgtException(src,
                $"{unexpected.Count} tensor(s) that a {archName} model in mspgt does not use, e.g. {string.Join(", ", unexpected.Take(4))}; refusing to load a variant the forward pass would not model");

        var weights = new ModelWeights
        {
            Embedding = embedding,
            Layers = layerWeights,
            FinalNorm = finalNorm,
            Output = output,
            RopeFreqFactors = ropeFactors,
        };
        weights.Validate(config, src);

        return new LoadedModel
        {
            Config = config,
            Weights = weights,
            Path = path,
            Format = $"gguf v{f.Version}",
            Tensors = f.Tensors.Select(t => new TensorEntry(t.Name, (TensorType)t.GgmlType, t.Shape, t.Bytes)).ToList(),
            Info = info,
            WeightFiles = [f.Path],
            Owned = [f],
        };
    }

    /// <summary>
    /// Row map giving the Hugging Face (rotate-half) order of q/k rows stored in llama.cpp's adjacent-pair order:
    /// within each head of size hd, logical row j*(hd/2)+i (j in {0,1}, i &lt; hd/2) is stored row 2i+j.
    /// </summary>
    public static int[] RotateHalfRowMap(int heads, int headDim) => RopeLayout.AdjacentPairsToHalvesRowMap(heads, headDim);

    private static float[] Permute(float[] v, int[] map, GgufFile f, string name)
    {
        if (v.Length != map.Length)
            throw new MspgtException(f.Path, $"tensor {name} has {v.Length} values but the config needs {map.Length}");
        var r = new float[v.Length];
        for (int i = 0; i < r.Length; i++) r[i] = v[map[i]];
        return r;
    }

    private static GgufTensorInfo Need(GgufFile f, string name) =>
        f.FindTensor(name) ?? throw new MspgtException(f.Path, $"missing tensor {name}");

    private static TensorType Decodable(GgufFile f, GgufTensorInfo t) =>
        t.Type ?? throw new MspgtException(f.Path,
            $"tensor {t.Name} has type {t.TypeName}, which mspgt cannot decode (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");

    private static (int Rows, int Cols) MatrixShape(GgufFile f, GgufTensorInfo t)
    {
        // trailing dims of 1 are harmless (some writers pad shapes)
        if (t.Dims.Length < 2 || t.Dims.Skip(2).Any(d => d != 1))
            throw new MspgtException(f.Path, $"tensor {t.Name} has shape [{string.Join(", ", t.Shape)}], expected a matrix");
        if (t.Dims[0] > int.MaxValue || t.Dims[1] > int.MaxValue || t.Dims[0] == 0 || t.Dims[1] == 0)
            throw new MspgtException(f.Path, $"tensor {t.Name} has unusable shape [{string.Join(", ", t.Shape)}]");
        return ((int)t.Dims[1], (int)t.Dims[0]);
    }

    private static unsafe WeightMatrix Matrix(GgufFile f, GgufTensorInfo t)
    {
        var type = Decodable(f, t);
        var (rows, cols) = MatrixShape(f, t);
        return new WeightMatrix(t.Name, rows, cols, type, f.TensorData(t), f);
    }

    private static float[] Vector(GgufFile f, GgufTensorInfo t)
    {
        var type = Decodable(f, t);
        if (t.Dims.Skip(1).Any(d => d != 1) || t.Dims[0] > 1 << 24)
            throw new MspgtException(f.Path, $"tensor {t.Name} has shape [{string.Join(", ", t.Shape)}], expected a vector");
        var v = new float[t.Dims[0]];
        RowDecoder.Decode(type, f.TensorSpan(t), v);
        foreach (float x in v)
            if (!float.IsFinite(x))
                throw new MspgtException(f.Path, $"tensor {t.Name} contains {x}");
        return v;
    }

    private static int PositiveInt(GgufFile f, string key)
    {
        long v = f.GetInteger(key) ?? throw new MspgtException(f.Path, $"metadata {key} is missing");
        if (v <= 0 || v > int.MaxValue) throw new MspgtException(f.Path, $"metadata {key} = {v} is out of range");
        return (int)v;
    }

    /// <summary>A count that llama.cpp also accepts as a per-layer array; mspgt needs it equal in every layer.</summary>
    private static int? PerLayerInt(GgufFile f, string key, int layers, bool required)
    {
        if (!f.Metadata.TryGetValue(key, out var v))
            return required ? throw new MspgtException(f.Path, $"metadata {key} is missing") : null;
        if (v is long[] arr)
        {
            if (arr.Length != layers)
                throw new MspgtException(f.Path, $"metadata {key} has {arr.Length} values for {layers} layers");
            if (arr.Distinct().Count() != 1)
                throw new MspgtException(f.Path, $"metadata {key} differs between layers ({string.Join(", ", arr.Distinct().Take(4))}); mspgt needs one value");
            if (arr[0] <= 0 || arr[0] > int.MaxValue) throw new MspgtException(f.Path, $"metadata {key} = {arr[0]} is out of range");
            return (int)arr[0];
        }
        return PositiveInt(f, key);
    }

    private static int? OptionalId(GgufFile f, string key)
    {
        long? v = f.GetInteger(key);
        if (v == null) return null;
        if (v < 0 || v > int.MaxValue) throw new MspgtException(f.Path, $"metadata {key} = {v} is out of range");
        return (int)v;
    }

    /// <summary>
    /// llama.cpp's default when add_bos_token is absent: SentencePiece vocabularies ("llama") and Llama 3 BPE add
    /// BOS; other BPE vocabularies do not. Without any tokenizer metadata, ModelConfig's default (true).
    /// </summary>
    private static bool DefaultAddBos(GgufFile f)
    {
        string? model = f.GetString("tokenizer.ggml.model");
        string? pre = f.GetString("tokenizer.ggml.pre");
        return model is null or "llama" || (model == "gpt2" && pre is "llama3" or "llama-v3" or "llama-bpe");
    }

    /// <summary>Rope scaling other than rope_freqs.weight changes every position's angles; mspgt does not model it.</summary>
    private static void RefuseRopeScalingKeys(GgufFile f, string a)
    {
        string? type = f.GetString(a + "rope.scaling.type");
        if (type != null && type != "none")
            throw new MspgtException(f.Path, $"rope scaling type \"{type}\" ({a}rope.scaling.type) is not supported");
        double? factor = f.GetFloat(a + "rope.scaling.factor") ?? f.GetFloat(a + "rope.scale_linear");
        if (type == null && factor is { } s && s != 0 && s != 1)
            throw new MspgtException(f.Path, $"linear rope scaling (factor {s}) is not supported");
    }

    private static string FileTypeName(long ftype)
    {
        string? n = ftype switch
        {
            0 => "ALL_F32", 1 => "MOSTLY_F16", 2 => "MOSTLY_Q4_0", 3 => "MOSTLY_Q4_1", 7 => "MOSTLY_Q8_0",
            8 => "MOSTLY_Q5_0", 9 => "MOSTLY_Q5_1", 10 => "MOSTLY_Q2_K", 11 => "MOSTLY_Q3_K_S", 12 => "MOSTLY_Q3_K_M",
            13 => "MOSTLY_Q3_K_L", 14 => "MOSTLY_Q4_K_S", 15 => "MOSTLY_Q4_K_M", 16 => "MOSTLY_Q5_K_S",
            17 => "MOSTLY_Q5_K_M", 18 => "MOSTLY_Q6_K", 32 => "MOSTLY_BF16",
            _ => null,
        };
        return n == null ? ftype.ToString(CultureInfo.InvariantCulture) : $"{ftype} ({n})";
    }
}
