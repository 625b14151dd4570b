using Mspgt.Models;

namespace Mspgt.Training;

/// <summary>Everything that defines a training run (shape, optimisation, data order). Stored in training.json; a
/// run resumes only with the same settings.</summary>
public sealed record TrainSettings
{
    public required Architecture Architecture { get; init; }
    public required int Layers { get; init; }
    public required int Dim { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int Ffn { get; init; }
    /// <summary>0 = dim / heads.</summary>
    public int HeadDim { get; init; }
    public bool Tied { get; init; }
    public required int Seq { get; init; }
    public required int Batch { get; init; }
    public required int Steps { get; init; }
    public double Lr { get; init; } = 3e-3;
    public int Warmup { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.1;
    public double Clip { get; init; } = 1.0;
    public int Seed { get; init; } = 1;
    public double InitStd { get; init; } = 0.02;
    public double RopeTheta { get; init; } = 10000;
    public double NormEps { get; init; } = 1e-5;
    /// <summary>max_position_embeddings written to config.json; 0 = seq (positions beyond seq were never trained).</summary>
    public int MaxPositions { get; init; }
    /// <summary>Checkpoint every N steps (0 = only the final one); step 0 (the initialisation) is always written.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Validation every N steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; }
    /// <summary>Most validation windows (consecutive, seq+1 tokens each, from the start of the held-out stream).</summary>
    public int EvalWindows { get; init; } = 32;

    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveHeadDim => HeadDim > 0 ? HeadDim : (Heads > 0 ? Dim / Heads : 0);

    public void Validate()
    {
        void Need(bool ok, string setting, string what) { if (!ok) throw MspgtException.ForSetting(setting, what); }
        Need(Layers > 0, "layers", $"must be ≥ 1, got {Layers}");
        Need(Dim > 0, "dim", $"must be ≥ 1, got {Dim}");
        Need(Heads > 0, "heads", $"must be ≥ 1, got {Heads}");
        Need(KvHeads > 0 && Heads % KvHeads == 0, "kv_heads", $"must divide heads ({Heads}), got {KvHeads}");
        Need(HeadDim > 0 || Dim % Heads == 0, "head_dim", $"dim {Dim} is not a multiple of heads {Heads}; give head_dim");
        Need(EffectiveHeadDim % 2 == 0, "head_dim", $"head dim {EffectiveHeadDim} must be even for rotary embeddings");
        Need(Ffn > 0, "ffn", $"must be ≥ 1, got {Ffn}");
        Need(Seq >= 2, "seq", $"must be ≥ 2, got {Seq}");
        Need(Batch >= 1, "batch", $"must be ≥ 1, got {Batch}");
        Need(Steps >= 1, "steps", $"must be ≥ 1, got {Steps}");
        Need(Lr > 0 && double.IsFinite(Lr), "lr", $"must be positive, got {Lr}");
        Need(Warmup >= 0, "warmup", $"must be ≥ 0, got {Warmup}");
        Need(WeightDecay >= 0 && double.IsFinite(WeightDecay), "weight_decay", $"must be ≥ 0, got {WeightDecay}");
        Need(Clip >= 0 && double.IsFinite(Clip), "clip", $"must be ≥ 0 (0 = off), got {Clip}");
        Need(CheckpointEvery >= 0, "checkpoint_every", $"must be ≥ 0, got {CheckpointEvery}");
        Need(EvalEvery >= 0, "eval_every", $"must be ≥ 0, got {EvalEvery}");
        Need(EvalWindows >= 1, "eval_windows", $"must be ≥ 1, got {EvalWindows}");
        Need(MaxPositions == 0 || MaxPositions >= Seq, "max_positions", $"must be ≥ seq ({Seq}), got {MaxPositions}");
    }

    /// <summary>The settings that change the weights (everything except how often checkpoints and evaluations happen).</summary>
    public TrainSettings WeightDefining() => this with { CheckpointEvery = 0, EvalEvery = 0, EvalWindows = 0 };

    public ModelConfig ToModelConfig(int vocab, int? bos, int? eos) => new()
    {
        Architecture = Architecture, Dim = Dim, Layers = Layers, Heads = Heads, KvHeads = KvHeads, HeadDim = EffectiveHeadDim,
        Ffn = Ffn, Vocab = vocab, MaxSeq = MaxPositions > 0 ? MaxPositions : Seq, NormEps = (float)NormEps, RopeTheta = (float)RopeTheta,
        TiedEmbeddings = Tied, QkvBias = Spec.QkvBias, QkNorm = Spec.QkNorm,
        BosId = bos, EosId = eos, AddBos = Spec.AddBos,
    };

    private ArchitectureSpec Spec => Architectures.Of(Architecture);

    public static Architecture ParseArchitecture(string s) =>
        Architectures.Find(s.ToLowerInvariant())?.Id
        ?? throw MspgtException.ForSetting("arch", $"unknown architecture \"{s}\"; supported: {Architectures.Names}");
}
