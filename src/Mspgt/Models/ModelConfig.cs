namespace Mspgt.Models;

/// <summary>Llama 3.1-style RoPE frequency scaling (Hugging Face rope_type "llama3").</summary>
public sealed record RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalMaxPositions);

/// <summary>
/// Everything the forward pass needs to know about a model's shape. Always describes the Hugging Face layout:
/// loaders of other formats (GGUF, llama2.c) map their weights into it, so RoPE is always rotate-half here.
/// </summary>
public sealed record ModelConfig
{
    public required Architecture Architecture { get; init; }
    /// <summary>The architecture's row in the table.</summary>
    public ArchitectureSpec Spec => Architectures.Of(Architecture);
    public required int Dim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int Ffn { get; init; }
    public required int Vocab { get; init; }
    public required int MaxSeq { get; init; }
    public required float NormEps { get; init; }
    public required float RopeTheta { get; init; }
    public RopeScaling? RopeScaling { get; init; }
    public bool TiedEmbeddings { get; init; }
    /// <summary>q, k and v projections have biases (Qwen2).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Per-head RMSNorm on q and k before RoPE (Qwen3).</summary>
    public bool QkNorm { get; init; }
    /// <summary>Sliding-window attention width when the model enables it (Qwen2 use_sliding_window), else null.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Layers from this index on use the sliding window (Qwen2 max_window_layers); 0 = all.</summary>
    public int SlidingWindowFromLayer { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    /// <summary>Whether text prompts get BOS prepended (config / tokenizer metadata decides).</summary>
    public bool AddBos { get; init; } = true;

    public int QDim => Heads * HeadDim;
    public int KvDim => KvHeads * HeadDim;

    /// <summary>How many keys a query of <paramref name="layer"/> sees, its own included (int.MaxValue = all).</summary>
    public int AttentionWindow(int layer) => SlidingWindow is int w && layer >= SlidingWindowFromLayer ? w : int.MaxValue;

    /// <summary>Trainable parameter count (matrices, norms, biases).</summary>
    public long ParameterCount =>
        (long)Vocab * Dim * (TiedEmbeddings ? 1 : 2)
        + (long)Layers * ((long)Dim * QDim * 2 + (long)Dim * KvDim * 2 + 3L * Dim * Ffn + 2L * Dim
                          + (QkvBias ? QDim + 2L * KvDim : 0) + (QkNorm ? 2L * HeadDim : 0))
        + Dim;

    /// <summary>Checks internal consistency; source names the file for the error message.</summary>
    public void Validate(string source)
    {
        void Need(bool ok, string what) { if (!ok) throw new MspgtException(source, what); }
        Need(Dim > 0 && Layers > 0 && Heads > 0 && KvHeads > 0 && HeadDim > 0 && Ffn > 0 && Vocab > 0 && MaxSeq > 0,
            $"config has a non-positive size (dim {Dim}, layers {Layers}, heads {Heads}, kv heads {KvHeads}, head dim {HeadDim}, ffn {Ffn}, vocab {Vocab}, context {MaxSeq})");
        Need(Heads % KvHeads == 0, $"attention heads ({Heads}) is not a multiple of key/value heads ({KvHeads})");
        Need(HeadDim % 2 == 0, $"head dim {HeadDim} must be even for rotary embeddings");
        Need(NormEps > 0 && float.IsFinite(NormEps), $"rms norm eps {NormEps} must be positive");
        Need(RopeTheta > 0 && float.IsFinite(RopeTheta), $"rope theta {RopeTheta} must be positive");
    }
}
