using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Loading;

/// <summary>Random-weight Llama, Qwen2 and Qwen3 models built in memory, for benchmarks (no file needed).</summary>
public static class SyntheticModel
{
    /// <summary>Preset names: llama2.c's shapes and the real shapes of released models (random weights).</summary>
    public static readonly string[] PresetNames = ["15m", "42m", "110m", "qwen2.5-0.5b", "qwen3-0.6b", "llama-3.2-1b", "llama-3.1-8b"];

    /// <summary>
    /// Named sizes: "110m" = dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000 (llama2.c's 110M shape); the
    /// others have the shapes of the released models' config.json (architecture, dims, grouped-query heads, head
    /// size, q/k/v biases or q/k norms, tied embeddings, RoPE base and Llama 3 RoPE scaling), with a 4096-position
    /// context (the released ones allow more; the shape of every matrix is theirs).
    /// </summary>
    public static ModelConfig Preset(string name) => name.ToLowerInvariant() switch
    {
        "110m" => Config(768, 12, 12, 12, 2048, 32000, 1024),
        "15m" => Config(288, 6, 6, 6, 768, 32000, 256),
        "42m" => Config(512, 8, 8, 8, 1376, 32000, 1024),
        "qwen2.5-0.5b" => Config(896, 24, 14, 2, 4864, 151936, 4096) with
        {
            Architecture = Architecture.Qwen2, HeadDim = 64, QkvBias = true, TiedEmbeddings = true, NormEps = 1e-6f,
            RopeTheta = 1_000_000f, BosId = null, EosId = 151643, AddBos = false,
        },
        "qwen3-0.6b" => Config(1024, 28, 16, 8, 3072, 151936, 4096) with
        {
            Architecture = Architecture.Qwen3, HeadDim = 128, QkNorm = true, TiedEmbeddings = true, NormEps = 1e-6f,
            RopeTheta = 1_000_000f, BosId = null, EosId = 151645, AddBos = false,
        },
        "llama-3.2-1b" => Config(2048, 16, 32, 8, 8192, 128256, 4096) with
        {
            TiedEmbeddings = true, RopeTheta = 500_000f, RopeScaling = new RopeScaling(32f, 1f, 4f, 8192), BosId = 128000, EosId = 128001,
        },
        "llama-3.1-8b" => Config(4096, 32, 32, 8, 14336, 128256, 4096) with
        {
            RopeTheta = 500_000f, RopeScaling = new RopeScaling(8f, 1f, 4f, 8192), BosId = 128000, EosId = 128001,
        },
        _ => throw MspgtException.ForSetting("synthetic", $"unknown preset \"{name}\"; known: {string.Join(", ", PresetNames)}"),
    };

    private static ModelConfig Config(int dim, int layers, int heads, int kv, int ffn, int vocab, int seq) => new()
    {
        Architecture = Architecture.Llama, Dim = dim, Layers = layers, Heads = heads, KvHeads = kv, HeadDim = dim / heads,
        Ffn = ffn, Vocab = vocab, MaxSeq = seq, NormEps = 1e-5f, RopeTheta = 10000f, TiedEmbeddings = false, BosId = 1, EosId = 2,
    };

    /// <summary>Stored types a synthetic model can use for its matrices.</summary>
    public static readonly TensorType[] WeightTypes = [TensorType.F32, TensorType.BF16, TensorType.Q8_0];

    /// <summary>Parses a weight type name (f32, bf16, q8_0).</summary>
    public static TensorType ParseWeightType(string name) => name.ToLowerInvariant() switch
    {
        "f32" => TensorType.F32,
        "bf16" => TensorType.BF16,
        "q8_0" => TensorType.Q8_0,
        _ => throw MspgtException.ForSetting("weight_type", $"unknown weight type \"{name}\"; known: f32, bf16, q8_0"),
    };

    /// <summary>
    /// A random Llama with every matrix stored as <paramref name="weightType"/> (values uniform in ±1.7/√cols,
    /// rounded to BF16 or drawn as Q8_0 blocks). Each matrix is generated straight into the buffer the engine
    /// uses, so memory holds the stored bytes once.
    /// </summary>
    public static LoadedModel Build(ModelConfig c, int seed = 1, TensorType weightType = TensorType.F32)
    {
        if (Array.IndexOf(WeightTypes, weightType) < 0)
            throw MspgtException.ForSetting("weight_type", $"synthetic models support f32, bf16 and q8_0, not {weightType}");
        var rng = new Random(seed);
        var tensors = new List<TensorEntry>();
        WeightMatrix M(string name, int rows, int cols)
        {
            float range = 1.7f / MathF.Sqrt(cols);
            long n = (long)rows * cols;
            WeightMatrix w;
            switch (weightType)
            {
                case TensorType.F32:
                {
                    var v = GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);
                    for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * range;
                    w = WeightMatrix.FromFloats(name, rows, cols, v);
                    break;
                }
                case TensorType.BF16:
                {
                    var b = GC.AllocateUninitializedArray<byte>(checked((int)(2 * n)), pinned: true);
                    for (long i = 0; i < n; i++)
                    {
                        uint u = BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1) * range);
                        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16; // round to nearest even
                        b[2 * i] = (byte)u;
                        b[2 * i + 1] = (byte)(u >> 8);
                    }
                    w = WeightMatrix.FromBytes(name, rows, cols, TensorType.BF16, b);
                    break;
                }
                default:
                {
                    if (cols % 32 != 0) throw MspgtException.ForSetting("weight_type", $"q8_0 needs rows that are a multiple of 32 long, {name} has {cols}");
                    long blocks = n / 32;
                    var b = GC.AllocateUninitializedArray<byte>(checked((int)(blocks * QuantBlocks.Q8_0BlockBytes)), pinned: true);
                    ushort d = BitConverter.HalfToUInt16Bits((Half)(range / 127f));
                    for (long k = 0; k < blocks; k++)
                    {
                        long o = k * QuantBlocks.Q8_0BlockBytes;
                        b[o] = (byte)d;
                        b[o + 1] = (byte)(d >> 8);
                        for (int j = 0; j < 32; j++) b[o + 2 + j] = (byte)(sbyte)rng.Next(-127, 128);
                    }
                    w = WeightMatrix.FromBytes(name, rows, cols, TensorType.Q8_0, b);
                    break;
                }
            }
            tensors.Add(new TensorEntry(name, weightType, [rows, cols], w.StoredBytes));
            return w;
        }
        float[] Ones(string name, int n)
        {
            tensors.Add(new TensorEntry(name, TensorType.F32, [n], 4L * n));
            return Enumerable.Repeat(1f, n).ToArray();
        }
        float[]? Bias(string name, int n)
        {
            if (!c.QkvBias) return null;
            tensors.Add(new TensorEntry(name, TensorType.F32, [n], 4L * n));
            var b = new float[n];
            for (int i = 0; i < n; i++) b[i] = (float)(rng.NextDouble() * 2 - 1) * 0.1f;
            return b;
        }
        float[]? HeadNorm(string name) => c.QkNorm ? Ones(name, c.HeadDim) : null;
        var layers = new LayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
            layers[l] = new LayerWeights
            {
                AttnNorm = Ones($"blk.{l}.attn_norm", c.Dim), FfnNorm = Ones($"blk.{l}.ffn_norm", c.Dim),
                Q = M($"blk.{l}.q", c.QDim, c.Dim), K = M($"blk.{l}.k", c.KvDim, c.Dim), V = M($"blk.{l}.v", c.KvDim, c.Dim),
                O = M($"blk.{l}.o", c.Dim, c.QDim), Gate = M($"blk.{l}.gate", c.Ffn, c.Dim), Up = M($"blk.{l}.up", c.Ffn, c.Dim),
                Down = M($"blk.{l}.down", c.Dim, c.Ffn),
                QBias = Bias($"blk.{l}.q_bias", c.QDim), KBias = Bias($"blk.{l}.k_bias", c.KvDim), VBias = Bias($"blk.{l}.v_bias", c.KvDim),
                QNorm = HeadNorm($"blk.{l}.q_norm"), KNorm = HeadNorm($"blk.{l}.k_norm"),
            };
        var emb = M("embed", c.Vocab, c.Dim);
        var weights = new ModelWeights { Embedding = emb, Layers = layers, FinalNorm = Ones("final_norm", c.Dim), Output = c.TiedEmbeddings ? emb : M("output", c.Vocab, c.Dim) };
        weights.Validate(c, "synthetic");
        string typeName = weightType.ToString().ToLowerInvariant();
        return new LoadedModel
        {
            Config = c, Weights = weights, Path = "synthetic", Format = $"synthetic (random {typeName}, in memory)", Tensors = tensors,
        };
    }

    /// <summary>Multiply-add FLOPs of one prefill of T tokens: 2·(matrix params)·T plus attention scores and mixing.</summary>
    public static double PrefillFlops(ModelConfig c, int tokens)
    {
        double perToken = 2.0 * ((double)c.Dim * c.QDim * 2 + (double)c.Dim * c.KvDim * 2 + 3.0 * c.Dim * c.Ffn) * c.Layers
                          + 2.0 * c.Dim * c.Vocab;
        double attention = 2.0 * 2.0 * c.Layers * c.Heads * c.HeadDim * (tokens * (tokens + 1) / 2.0);
        return perToken * tokens + attention;
    }
}
