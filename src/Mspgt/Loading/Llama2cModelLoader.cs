using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Loading;

/// <summary>
/// Opens a llama2.c checkpoint (legacy v0, read by <see cref="Llama2cReader"/>) as a Llama model. q/k rows are in
/// Meta's adjacent-pair RoPE layout and are read through a row map (see <see cref="RopeLayout"/>).
/// </summary>
public static class Llama2cModelLoader
{
    public static LoadedModel Load(string path)
    {
        var file = MappedFile.Open(path);
        try
        {
            var h = Llama2cReader.ReadHeader(file);
            int dim = h.Dim, hidden = h.Hidden, layers = h.Layers, vocab = h.Vocab, headDim = h.HeadDim, kvDim = h.KvDim;
            bool shared = h.SharedClassifier;
            var config = new ModelConfig
            {
                Architecture = Architecture.Llama, Dim = dim, Layers = layers, Heads = h.Heads, KvHeads = h.KvHeads,
                HeadDim = headDim, Ffn = hidden, Vocab = vocab, MaxSeq = h.Seq, NormEps = 1e-5f, RopeTheta = 10000f,
                TiedEmbeddings = shared, BosId = 1, EosId = 2, AddBos = true,
            };
            config.Validate(path);
            var at = Llama2cReader.Layout(h, file);

            var qMap = RopeLayout.AdjacentPairsToHalvesRowMap(h.Heads, headDim);
            var kMap = RopeLayout.AdjacentPairsToHalvesRowMap(h.KvHeads, headDim);
            WeightMatrix M(string name, long offset, int rows, int cols) => StoredTensors.Matrix(file, name, offset, TensorType.F32, rows, cols);
            float[] V(string name, long offset, int n) => StoredTensors.Vector(file, name, offset, TensorType.F32, n);
            var ls = new LayerWeights[layers];
            for (int l = 0; l < layers; l++)
            {
                ls[l] = new LayerWeights
                {
                    AttnNorm = V($"rms_att[{l}]", at.RmsAtt + 4L * l * dim, dim),
                    Q = M($"wq[{l}]", at.Wq + 4L * l * dim * dim, dim, dim).WithRowMap(qMap),
                    K = M($"wk[{l}]", at.Wk + 4L * l * kvDim * dim, kvDim, dim).WithRowMap(kMap),
                    V = M($"wv[{l}]", at.Wv + 4L * l * kvDim * dim, kvDim, dim),
                    O = M($"wo[{l}]", at.Wo + 4L * l * dim * dim, dim, dim),
                    FfnNorm = V($"rms_ffn[{l}]", at.RmsFfn + 4L * l * dim, dim),
                    Gate = M($"w1[{l}]", at.W1 + 4L * l * hidden * dim, hidden, dim),
                    Down = M($"w2[{l}]", at.W2 + 4L * l * dim * hidden, dim, hidden),
                    Up = M($"w3[{l}]", at.W3 + 4L * l * hidden * dim, hidden, dim),
                };
            }
            var emb = M("token_embedding", at.TokenEmbedding, vocab, dim);
            var weights = new ModelWeights
            {
                Embedding = emb, Layers = ls, FinalNorm = V("rms_final", at.RmsFinal, dim),
                Output = shared ? emb : M("wcls", at.Wcls, vocab, dim),
            };
            weights.Validate(config, path);
            return new LoadedModel
            {
                Config = config, Weights = weights, Path = path, Format = "llama2.c v0", Tensors = at.Tensors,
                Info = new Dictionary<string, string> { ["classifier"] = shared ? "tied to token_embedding" : "separate (wcls)" },
                WeightFiles = [path], Owned = [file],
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
