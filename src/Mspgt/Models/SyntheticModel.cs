using Mspgt.Checkpoints;
using Mspgt.Numerics;

namespace Mspgt.Models;

/// <summary>Random-weight Llama models built in memory, for benchmarks (no file needed).</summary>
public static class SyntheticModel
{
    /// <summary>Named sizes: "110m" = dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000 (llama2.c's 110M shape).</summary>
    public static ModelConfig Preset(string name) => name.ToLowerInvariant() switch
    {
        "110m" => Config(768, 12, 12, 12, 2048, 32000, 1024),
        "15m" => Config(288, 6, 6, 6, 768, 32000, 256),
        "42m" => Config(512, 8, 8, 8, 1376, 32000, 1024),
        _ => throw new MspgtException("--synthetic", $"unknown preset \"{name}\"; known: 15m, 42m, 110m"),
    };

    private static ModelConfig Config(int dim, int layers, int heads, int kv, int ffn, int vocab, int seq) => new()
    {
        Architecture = Architecture.Llama, Dim = dim, Layers = layers, Heads = heads, KvHeads = kv, HeadDim = dim / heads,
        Ffn = ffn, Vocab = vocab, MaxSeq = seq, NormEps = 1e-5f, RopeTheta = 10000f, TiedEmbeddings = false, BosId = 1, EosId = 2,
    };

    public static LoadedModel Build(ModelConfig c, int seed = 1)
    {
        var rng = new Random(seed);
        WeightMatrix M(string name, int rows, int cols)
        {
            var v = new float[rows * cols];
            float std = 1f / MathF.Sqrt(cols);
            for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * std * 1.7f;
            return WeightMatrix.FromFloats(name, rows, cols, v);
        }
        float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();
        var layers = new LayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
            layers[l] = new LayerWeights
            {
                AttnNorm = Ones(c.Dim), FfnNorm = Ones(c.Dim),
                Q = M($"blk.{l}.q", c.QDim, c.Dim), K = M($"blk.{l}.k", c.KvDim, c.Dim), V = M($"blk.{l}.v", c.KvDim, c.Dim),
                O = M($"blk.{l}.o", c.Dim, c.QDim), Gate = M($"blk.{l}.gate", c.Ffn, c.Dim), Up = M($"blk.{l}.up", c.Ffn, c.Dim),
                Down = M($"blk.{l}.down", c.Dim, c.Ffn),
            };
        var emb = M("embed", c.Vocab, c.Dim);
        var weights = new ModelWeights { Embedding = emb, Layers = layers, FinalNorm = Ones(c.Dim), Output = M("output", c.Vocab, c.Dim) };
        weights.Validate(c, "synthetic");
        return new LoadedModel
        {
            Config = c, Weights = weights, Path = "synthetic", Format = "synthetic (random F32, in memory)", Tensors = [],
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
