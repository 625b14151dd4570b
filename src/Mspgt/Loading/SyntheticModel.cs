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
        var tensors = new List<TensorEntry>();
        WeightMatrix M(string name, int rows, int cols, TensorDraws draws)
        {
            float range = WeightRange(cols);
            long n = (long)rows * cols;
            WeightMatrix w;
            switch (weightType)
            {
                case TensorType.F32:
                {
                    var v = GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);
                    InParallel(v.Length, (start, length) => draws.FillWeights(v.AsSpan(start, length), start, range));
                    w = WeightMatrix.FromFloats(name, rows, cols, v);
                    break;
                }
                case TensorType.BF16:
                {
                    var b = GC.AllocateUninitializedArray<byte>(checked((int)(2 * n)), pinned: true);
                    InParallel(checked((int)n), (start, length) =>
                    {
                        var f = System.Buffers.ArrayPool<float>.Shared.Rent(length);
                        draws.FillWeights(f.AsSpan(0, length), start, range);
                        var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(b.AsSpan(2 * start, 2 * length));
                        for (int i = 0; i < length; i++) h[i] = ToBf16(f[i]);   // little-endian, as the file stores them
                        System.Buffers.ArrayPool<float>.Shared.Return(f);
                    });
                    w = WeightMatrix.FromBytes(name, rows, cols, TensorType.BF16, b);
                    break;
                }
                default:
                {
                    if (cols % 32 != 0) throw MspgtException.ForSetting("weight_type", $"q8_0 needs rows that are a multiple of 32 long, {name} has {cols}");
                    var b = GC.AllocateUninitializedArray<byte>(checked((int)(n / 32 * QuantBlocks.Q8_0BlockBytes)), pinned: true);
                    ushort d = BitConverter.HalfToUInt16Bits((Half)(range / 127f));
                    InParallel(checked((int)n), (start, length) =>
                    {
                        for (long k = start / 32; k < (start + length) / 32; k++)   // chunks are whole blocks
                        {
                            long o = k * QuantBlocks.Q8_0BlockBytes;
                            b[o] = (byte)d;
                            b[o + 1] = (byte)(d >> 8);
                            for (int j = 0; j < 32; j++) b[o + 2 + j] = (byte)draws.Quant(k * 32 + j);
                        }
                    });
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
        float[] Bias(string name, int n, TensorDraws draws)
        {
            tensors.Add(new TensorEntry(name, TensorType.F32, [n], 4L * n));
            var b = new float[n];
            draws.FillBiases(b, 0);
            return b;
        }
        // Each tensor draws from its own stream (its place in DrawOrder), as SyntheticCheckpoint and SyntheticGguf do.
        var made = new Dictionary<string, object>(StringComparer.Ordinal);
        int ordinal = 0;
        foreach (var t in DrawOrder(c))
        {
            var draws = new TensorDraws(seed, ordinal++);
            made[t.Name] = t.Kind switch
            {
                SyntheticTensorKind.Matrix => M(t.Name, t.Rows, t.Cols, draws),
                SyntheticTensorKind.Bias => Bias(t.Name, t.Rows, draws),
                _ => Ones(t.Name, t.Rows),
            };
        }
        WeightMatrix Mat(string name) => (WeightMatrix)made[name];
        float[] Vec(string name) => (float[])made[name];
        float[]? OptVec(string name) => made.TryGetValue(name, out var v) ? (float[])v : null;
        var layers = new LayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
            layers[l] = new LayerWeights
            {
                AttnNorm = Vec($"blk.{l}.attn_norm"), FfnNorm = Vec($"blk.{l}.ffn_norm"),
                Q = Mat($"blk.{l}.q"), K = Mat($"blk.{l}.k"), V = Mat($"blk.{l}.v"), O = Mat($"blk.{l}.o"),
                Gate = Mat($"blk.{l}.gate"), Up = Mat($"blk.{l}.up"), Down = Mat($"blk.{l}.down"),
                QBias = OptVec($"blk.{l}.q_bias"), KBias = OptVec($"blk.{l}.k_bias"), VBias = OptVec($"blk.{l}.v_bias"),
                QNorm = OptVec($"blk.{l}.q_norm"), KNorm = OptVec($"blk.{l}.k_norm"),
            };
        var emb = Mat("embed");
        var weights = new ModelWeights { Embedding = emb, Layers = layers, FinalNorm = Vec("final_norm"), Output = c.TiedEmbeddings ? emb : Mat("output") };
        weights.Validate(c, "synthetic");
        string typeName = weightType.ToString().ToLowerInvariant();
        return new LoadedModel
        {
            Config = c, Weights = weights, Path = "synthetic", Format = $"synthetic (random {typeName}, in memory)", Tensors = tensors,
        };
    }

    /// <summary>What a tensor of a synthetic model holds: a random matrix, a random bias, or ones (norm weights).</summary>
    internal enum SyntheticTensorKind { Matrix, Bias, Ones }

    /// <summary>One tensor of a synthetic model: engine name, Hugging Face name, kind and shape (Cols = 1 for vectors).</summary>
    internal sealed record SyntheticTensor(string Name, string HfName, SyntheticTensorKind Kind, int Rows, int Cols);

    /// <summary>
    /// Every tensor of a synthetic model in the order its values are drawn from the seeded generator (layer by layer:
    /// norms, q, k, v, o, gate, up, down, q/k/v biases, q/k norms; then the embedding, the final norm and an untied
    /// output). <see cref="Build"/> and <see cref="SyntheticCheckpoint"/> both follow it, so a model written to disk
    /// holds the values the in-memory one has for the same seed.
    /// </summary>
    internal static IEnumerable<SyntheticTensor> DrawOrder(ModelConfig c)
    {
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            yield return new($"blk.{l}.attn_norm", p + "input_layernorm.weight", SyntheticTensorKind.Ones, c.Dim, 1);
            yield return new($"blk.{l}.ffn_norm", p + "post_attention_layernorm.weight", SyntheticTensorKind.Ones, c.Dim, 1);
            yield return new($"blk.{l}.q", p + "self_attn.q_proj.weight", SyntheticTensorKind.Matrix, c.QDim, c.Dim);
            yield return new($"blk.{l}.k", p + "self_attn.k_proj.weight", SyntheticTensorKind.Matrix, c.KvDim, c.Dim);
            yield return new($"blk.{l}.v", p + "self_attn.v_proj.weight", SyntheticTensorKind.Matrix, c.KvDim, c.Dim);
            yield return new($"blk.{l}.o", p + "self_attn.o_proj.weight", SyntheticTensorKind.Matrix, c.Dim, c.QDim);
            yield return new($"blk.{l}.gate", p + "mlp.gate_proj.weight", SyntheticTensorKind.Matrix, c.Ffn, c.Dim);
            yield return new($"blk.{l}.up", p + "mlp.up_proj.weight", SyntheticTensorKind.Matrix, c.Ffn, c.Dim);
            yield return new($"blk.{l}.down", p + "mlp.down_proj.weight", SyntheticTensorKind.Matrix, c.Dim, c.Ffn);
            if (c.QkvBias)
            {
                yield return new($"blk.{l}.q_bias", p + "self_attn.q_proj.bias", SyntheticTensorKind.Bias, c.QDim, 1);
                yield return new($"blk.{l}.k_bias", p + "self_attn.k_proj.bias", SyntheticTensorKind.Bias, c.KvDim, 1);
                yield return new($"blk.{l}.v_bias", p + "self_attn.v_proj.bias", SyntheticTensorKind.Bias, c.KvDim, 1);
            }
            if (c.QkNorm)
            {
                yield return new($"blk.{l}.q_norm", p + "self_attn.q_norm.weight", SyntheticTensorKind.Ones, c.HeadDim, 1);
                yield return new($"blk.{l}.k_norm", p + "self_attn.k_norm.weight", SyntheticTensorKind.Ones, c.HeadDim, 1);
            }
        }
        yield return new("embed", "model.embed_tokens.weight", SyntheticTensorKind.Matrix, c.Vocab, c.Dim);
        yield return new("final_norm", "model.norm.weight", SyntheticTensorKind.Ones, c.Dim, 1);
        if (!c.TiedEmbeddings) yield return new("output", "lm_head.weight", SyntheticTensorKind.Matrix, c.Vocab, c.Dim);
    }

    /// <summary>Matrix values are uniform in ±1.7/√cols: unit-variance inputs give outputs of about unit variance.</summary>
    internal static float WeightRange(int cols) => 1.7f / MathF.Sqrt(cols);

    /// <summary>
    /// The random values of one tensor: value i of the tensor at place <c>ordinal</c> of <see cref="DrawOrder"/> is
    /// output i of a SplitMix64 stream keyed by the seed and that place, computed on its own
    /// (<see cref="SplitMix64.At"/>). So any chunk of any tensor can be drawn in parallel, and <see cref="Build"/>,
    /// <see cref="SyntheticCheckpoint"/> and <see cref="SyntheticGguf"/> get the same values for a seed whatever the
    /// thread count or chunking. (An 8B model was drawn serially from one System.Random before: 2 minutes to write.)
    /// </summary>
    internal readonly struct TensorDraws(int seed, int ordinal)
    {
        private readonly ulong _key = SplitMix64.ForStream(seed, 0x53594E5448UL + (ulong)ordinal).NextUInt64();

        /// <summary>Value i, uniform in [0, 1) from the top 53 bits.</summary>
        private double Uniform(long i) => (SplitMix64.At(_key, i) >> 11) * (1.0 / (1UL << 53));

        /// <summary>Values [start, start + dst.Length) of a matrix, uniform in ±<paramref name="range"/>.</summary>
        public void FillWeights(Span<float> dst, long start, float range)
        {
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)(Uniform(start + i) * 2 - 1) * range;
        }

        /// <summary>Values [start, start + dst.Length) of a bias, uniform in ±0.1.</summary>
        public void FillBiases(Span<float> dst, long start)
        {
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)(Uniform(start + i) * 2 - 1) * 0.1f;
        }

        /// <summary>Value i as a Q8_0 quant, uniform on −127…127 (the top 32 bits scaled, no modulo).</summary>
        public sbyte Quant(long i) => (sbyte)((int)(((SplitMix64.At(_key, i) >> 32) * 255) >> 32) - 127);
    }

    /// <summary>Values per work item of <see cref="InParallel"/> (a multiple of 256: whole Q8_0 and K-quant blocks).</summary>
    internal const int DrawChunk = 1 << 16;

    /// <summary>body(start, length) over [0, n) in fixed chunks of <see cref="DrawChunk"/> (<see cref="Parallelism.ForChunks"/>).</summary>
    internal static void InParallel(int n, Action<int, int> body) =>
        Parallelism.ForChunks(n, DrawChunk, n, (start, end) => body(start, end - start));

    /// <summary>float32 → bfloat16 bits, rounded to nearest even.</summary>
    internal static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        return (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
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
