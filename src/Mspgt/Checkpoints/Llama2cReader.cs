using System.Buffers.Binary;

namespace Mspgt.Checkpoints;

/// <summary>The 7 int32 of a legacy llama2.c header; a negative vocab size in the file means an untied classifier.</summary>
public sealed record Llama2cHeader(int Dim, int Hidden, int Layers, int Heads, int KvHeads, int Vocab, int Seq, bool SharedClassifier)
{
    public int HeadDim => Dim / Heads;
    public int KvDim => KvHeads * HeadDim;
}

/// <summary>Byte offsets of the float32 arrays of a llama2.c file (run.c order) and the tensor list for inspect.</summary>
public sealed record Llama2cLayout(
    long TokenEmbedding, long RmsAtt, long Wq, long Wk, long Wv, long Wo, long RmsFfn, long W1, long W2, long W3,
    long RmsFinal, long Wcls, IReadOnlyList<TensorEntry> Tensors);

/// <summary>
/// Reads a llama2.c checkpoint in the legacy v0 layout: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size, seq_len), then float32 arrays in run.c order, the classifier last when it is not shared.
/// </summary>
public static class Llama2cReader
{
    public const int HeaderBytes = 28;

    /// <summary>True when the first 28 bytes look like a plausible legacy llama2.c header.</summary>
    public static bool LooksLikeLlama2c(ReadOnlySpan<byte> head)
    {
        if (head.Length < HeaderBytes) return false;
        Span<int> h = stackalloc int[7];
        for (int i = 0; i < 7; i++) h[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(4 * i)..]);
        return h[0] > 0 && h[0] < 1 << 16 && h[1] > 0 && h[1] < 1 << 20 && h[2] > 0 && h[2] < 1024 && h[3] > 0 && h[4] > 0
               && h[4] <= h[3] && h[5] != 0 && h[5] > -(1 << 22) && h[5] < 1 << 22 && h[6] > 0 && h[6] < 1 << 22;
    }

    public static Llama2cHeader ReadHeader(MappedFile file)
    {
        var head = file.Span(0, HeaderBytes, "llama2.c header");
        if (!LooksLikeLlama2c(head)) throw new MspgtException(file.Path, "not a llama2.c checkpoint (implausible header)");
        var h = new int[7];
        for (int i = 0; i < 7; i++) h[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(4 * i)..]);
        var header = new Llama2cHeader(h[0], h[1], h[2], h[3], h[4], Math.Abs(h[5]), h[6], SharedClassifier: h[5] > 0);
        if (header.Dim % header.Heads != 0) throw new MspgtException(file.Path, $"dim {header.Dim} is not a multiple of n_heads {header.Heads}");
        return header;
    }

    /// <summary>Where each array starts; the file must be exactly as long as the header implies.</summary>
    public static Llama2cLayout Layout(Llama2cHeader h, MappedFile file)
    {
        int dim = h.Dim, hidden = h.Hidden, layers = h.Layers, vocab = h.Vocab, seq = h.Seq, headDim = h.HeadDim, kvDim = h.KvDim;
        bool shared = h.SharedClassifier;
        long expected = HeaderBytes + 4L * (
            (long)vocab * dim + (long)layers * dim + (long)layers * dim * dim + 2L * layers * kvDim * dim
            + (long)layers * dim * dim + (long)layers * dim + 3L * layers * hidden * dim + dim
            + (long)seq * (headDim / 2) * 2 + (shared ? 0 : (long)vocab * dim));
        if (file.Length != expected)
            throw new MspgtException(file.Path, file.Length < expected
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
        long emb = Take("token_embedding", vocab, dim);
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
        long wcls = shared ? emb : Take("wcls", vocab, dim);
        return new Llama2cLayout(emb, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, wcls, tensors);
    }
}
