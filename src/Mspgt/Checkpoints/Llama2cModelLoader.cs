using System.Buffers.Binary;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Checkpoints;

/// <summary>
/// Opens a llama2.c checkpoint in the legacy v0 layout: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size, seq_len; negative vocab = untied classifier stored at the end), then float32 arrays in run.c order.
/// q/k rows are in Meta's adjacent-pair RoPE layout and are read through a row map (see <see cref="RopeLayout"/>).
/// </summary>
public static class Llama2cModelLoader
{
    private const int HeaderBytes = 28;

    /// <summary>True when the first 28 bytes look like a plausible legacy llama2.c header.</summary>
    public static bool LooksLikeLlama2c(ReadOnlySpan<byte> head)
    {
        if (head.Length < HeaderBytes) return false;
        Span<int> h = stackalloc int[7];
        for (int i = 0; i < 7; i++) h[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(4 * i)..]);
        return h[0] > 0 && h[0] < 1 << 16 && h[1] > 0 && h[1] < 1 << 20 && h[2] > 0 && h[2] < 1024 && h[3] > 0 && h[4] > 0
               && h[4] <= h[3] && h[5] != 0 && Math.Abs(h[5]) < 1 << 22 && h[6] > 0 && h[6] < 1 << 22;
    }

    public static LoadedModel Load(string path)
    {
        var file = MappedFile.Open(path);
        try
        {
            var head = file.Span(0, HeaderBytes, "llama2.c header");
            if (!LooksLikeLlama2c(head)) throw new MspgtException(path, "not a llama2.c checkpoint (implausible header)");
            var h = new int[7];
            for (int i = 0; i < 7; i++) h[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(4 * i)..]);
            int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocabSigned = h[5], seq = h[6];
            bool shared = vocabSigned > 0;
            int vocab = Math.Abs(vocabSigned);
            if (dim % heads != 0) throw new MspgtException(path, $"dim {dim} is not a multiple of n_heads {heads}");
            int headDim = dim / heads;
            int kvDim = kvHeads * headDim;
            var config = new ModelConfig
            {
                Architecture = Architecture.Llama, Dim = dim, Layers = layers, Heads = heads, KvHeads = kvHeads,
                HeadDim = headDim, Ffn = hidden, Vocab = vocab, MaxSeq = seq, NormEps = 1e-5f, RopeTheta = 10000f,
                TiedEmbeddings = shared, BosId = 1, EosId = 2, AddBos = true,
            };
            config.Validate(path);

            long expected = HeaderBytes + 4L * (
                (long)vocab * dim + (long)layers * dim + (long)layers * dim * dim + 2L * layers * kvDim * dim
                + (long)layers * dim * dim + (long)layers * dim + 3L * layers * hidden * dim + dim
                + (long)seq * (headDim / 2) * 2 + (shared ? 0 : (long)vocab * dim));
            if (file.Length != expected)
                throw new MspgtException(path, file.Length < expected
                    ? $"truncated: {file.Length} bytes but the header (dim {dim}, {layers} layers, vocab {vocab}) needs {expected}"
                    : $"{file.Length} bytes but the header (dim {dim}, {layers} layers, vocab {vocab}) needs {expected}: not a legacy v0 llama2.c file");

            long off = HeaderBytes;
            var tensors = new List<TensorEntry>();
            long Take(string name, params long[] shape)
            {
                long n = shape.Aggregate(1L, (a, b) => a * b);
                long at = off;
                off += 4 * n;
                tensors.Add(new TensorEntry(name, TensorType.F32, shape, 4 * n));
                return at;
            }
            long embOff = Take("token_embedding", vocab, dim);
            long rmsAtt = Take("rms_att", layers, dim);
            long wq = Take("wq", layers, dim, dim);
            long wk = Take("wk", layers, kvDim, dim);
            long wv = Take("wv", layers, kvDim, dim);
            long wo = Take("wo", layers, dim, dim);
            long rmsFfn = Take("rms_ffn", layers, dim);
            long w1 = Take("w1", layers, hidden, dim);
            long w2 = Take("w2", layers, dim, hidden);
            long w3 = Take("w3", layers, hidden, dim);
            long rmsFinal = Take("rms_final", dim);
            Take("freq_cis_real", seq, headDim / 2);
            Take("freq_cis_imag", seq, headDim / 2);
            long wcls = shared ? embOff : Take("wcls", vocab, dim);

            var qMap = RopeLayout.AdjacentPairsToHalvesRowMap(heads, headDim);
            var kMap = RopeLayout.AdjacentPairsToHalvesRowMap(kvHeads, headDim);
            WeightMatrix M(string name, long at, int rows, int cols) => StoredTensors.Matrix(file, name, at, TensorType.F32, rows, cols);
            float[] V(string name, long at, int n) => StoredTensors.Vector(file, name, at, TensorType.F32, n);
            var ls = new LayerWeights[layers];
            for (int l = 0; l < layers; l++)
            {
                ls[l] = new LayerWeights
                {
                    AttnNorm = V($"rms_att[{l}]", rmsAtt + 4L * l * dim, dim),
                    Q = M($"wq[{l}]", wq + 4L * l * dim * dim, dim, dim).WithRowMap(qMap),
                    K = M($"wk[{l}]", wk + 4L * l * kvDim * dim, kvDim, dim).WithRowMap(kMap),
                    V = M($"wv[{l}]", wv + 4L * l * kvDim * dim, kvDim, dim),
                    O = M($"wo[{l}]", wo + 4L * l * dim * dim, dim, dim),
                    FfnNorm = V($"rms_ffn[{l}]", rmsFfn + 4L * l * dim, dim),
                    Gate = M($"w1[{l}]", w1 + 4L * l * hidden * dim, hidden, dim),
                    Down = M($"w2[{l}]", w2 + 4L * l * dim * hidden, dim, hidden),
                    Up = M($"w3[{l}]", w3 + 4L * l * hidden * dim, hidden, dim),
                };
            }
            var emb = M("token_embedding", embOff, vocab, dim);
            var weights = new ModelWeights
            {
                Embedding = emb, Layers = ls, FinalNorm = V("rms_final", rmsFinal, dim),
                Output = shared ? emb : M("wcls", wcls, vocab, dim),
            };
            weights.Validate(config, path);
            return new LoadedModel
            {
                Config = config, Weights = weights, Path = path, Format = "llama2.c v0", Tensors = tensors,
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
