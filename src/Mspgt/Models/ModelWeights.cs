using Mspgt.Numerics;

namespace Mspgt.Models;

/// <summary>One transformer block's weights, Hugging Face layout. Vectors are small and held as float32.</summary>
public sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }
    public required WeightMatrix Q { get; init; }
    public required WeightMatrix K { get; init; }
    public required WeightMatrix V { get; init; }
    public required WeightMatrix O { get; init; }
    public float[]? QBias { get; init; }
    public float[]? KBias { get; init; }
    public float[]? VBias { get; init; }
    public float[]? QNorm { get; init; }
    public float[]? KNorm { get; init; }
    public required float[] FfnNorm { get; init; }
    public required WeightMatrix Gate { get; init; }
    public required WeightMatrix Up { get; init; }
    public required WeightMatrix Down { get; init; }
}

public sealed class ModelWeights
{
    public required WeightMatrix Embedding { get; init; }
    public required LayerWeights[] Layers { get; init; }
    public required float[] FinalNorm { get; init; }
    /// <summary>The unembedding [vocab][dim]; the same object as Embedding when tied.</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>
    /// Per-frequency RoPE divisors (HeadDim/2 values) from a GGUF file's <c>rope_freqs.weight</c> (llama.cpp's way
    /// of storing Llama 3.1 rope scaling): the forward pass uses <c>inv_freq[i] / RopeFreqFactors[i]</c>.
    /// Null = no per-frequency scaling. Never set together with <see cref="ModelConfig.RopeScaling"/>.
    /// </summary>
    public float[]? RopeFreqFactors { get; init; }

    /// <summary>Bytes of the weight matrices as stored (a tied embedding counted once): what the memory bounds of the
    /// work that runs on them are set against.</summary>
    public long StoredBytes
    {
        get
        {
            var seen = new HashSet<WeightMatrix>(ReferenceEqualityComparer.Instance) { Embedding, Output };
            foreach (var l in Layers)
                foreach (var m in new[] { l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down }) seen.Add(m);
            return seen.Sum(m => m.StoredBytes);
        }
    }

    /// <summary>Checks every shape against the config; names the tensor and the file on mismatch.</summary>
    public void Validate(ModelConfig c, string source)
    {
        void Mat(WeightMatrix w, int rows, int cols)
        {
            if (w.Rows != rows || w.Cols != cols)
                throw new MspgtException(source, $"tensor {w.Name} has shape [{w.Rows}, {w.Cols}] but the config needs [{rows}, {cols}]");
        }
        void Vec(float[]? v, int n, string name, bool required)
        {
            if (v == null) { if (required) throw new MspgtException(source, $"missing tensor {name}"); return; }
            if (v.Length != n) throw new MspgtException(source, $"tensor {name} has {v.Length} values but the config needs {n}");
        }
        if (Layers.Length != c.Layers) throw new MspgtException(source, $"found {Layers.Length} layers but the config says {c.Layers}");
        Mat(Embedding, c.Vocab, c.Dim);
        Mat(Output, c.Vocab, c.Dim);
        Vec(FinalNorm, c.Dim, "final norm", true);
        if (RopeFreqFactors != null)
        {
            Vec(RopeFreqFactors, c.HeadDim / 2, "rope frequency factors", true);
            if (c.RopeScaling != null)
                throw new MspgtException(source, "both rope frequency factors and a rope scaling config are given; only one may scale RoPE");
            foreach (float f in RopeFreqFactors)
                if (!(f > 0) || !float.IsFinite(f))
                    throw new MspgtException(source, $"rope frequency factor {f} must be positive and finite");
        }
        for (int l = 0; l < Layers.Length; l++)
        {
            var L = Layers[l];
            Vec(L.AttnNorm, c.Dim, $"layer {l} attention norm", true);
            Vec(L.FfnNorm, c.Dim, $"layer {l} ffn norm", true);
            Mat(L.Q, c.QDim, c.Dim); Mat(L.K, c.KvDim, c.Dim); Mat(L.V, c.KvDim, c.Dim); Mat(L.O, c.Dim, c.QDim);
            Mat(L.Gate, c.Ffn, c.Dim); Mat(L.Up, c.Ffn, c.Dim); Mat(L.Down, c.Dim, c.Ffn);
            Vec(L.QBias, c.QDim, $"layer {l} q bias", c.QkvBias);
            Vec(L.KBias, c.KvDim, $"layer {l} k bias", c.QkvBias);
            Vec(L.VBias, c.KvDim, $"layer {l} v bias", c.QkvBias);
            Vec(L.QNorm, c.HeadDim, $"layer {l} q norm", c.QkNorm);
            Vec(L.KNorm, c.HeadDim, $"layer {l} k norm", c.QkNorm);
        }
    }
}
