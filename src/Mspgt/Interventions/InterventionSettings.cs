using Mspgt.Interventions.Statistics;

namespace Mspgt.Interventions;

/// <summary>Everything that defines an <c>mspgt intervene</c> run besides the model and the corpus.</summary>
public sealed record InterventionSettings
{
    /// <summary>The named segments (local / intermediate / global), validated against the model.</summary>
    public required IReadOnlyList<LayerSegment> Segments { get; init; }
    /// <summary>Where the segments came from (for the manifest).</summary>
    public string SegmentsSource { get; init; } = "--segments";
    /// <summary>The intervention conditions (<see cref="InterventionSpec.Expand"/>); the no-op is always added.</summary>
    public required IReadOnlyList<InterventionSpec> Interventions { get; init; }
    /// <summary>Control windows per named segment: distinct same-width windows that do not overlap it, drawn without
    /// replacement (seeded), or all of them when fewer exist (<see cref="ControlWindows"/>).</summary>
    public int Controls { get; init; } = ControlWindows.DefaultCount;
    /// <summary>Sampled continuations per prompt; 0 measures next-token outcomes only.</summary>
    public int Continuations { get; init; } = 2;
    /// <summary>Most new tokens per continuation.</summary>
    public int GenTokens { get; init; } = 48;
    /// <summary>The prompt is the first this-many tokens of each document (the whole document if shorter).</summary>
    public int PromptTokens { get; init; } = 32;
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int Seed { get; init; }
    public int BootstrapResamples { get; init; } = PairedStatistics.DefaultBootstrapResamples;
    public int PermutationResamples { get; init; } = PairedStatistics.DefaultPermutationResamples;
    /// <summary>Documents processed at once (null: one per CPU): their continuations, and on a device without batches
    /// their passes; on the CPU each full-document pass and head comparison runs alone, spread over the process's
    /// threads. Results do not depend on it.</summary>
    public int? Threads { get; init; }
    /// <summary>
    /// Most bytes of clean logits held for all documents at once (null: none on the CPU, min(512 MB, max(32 MB,
    /// weights / 8)) on a device); above it the CPU keeps each document's clean final-norm rows instead and remakes
    /// the clean logits a vocabulary slice at a time for each comparison, and a device takes the documents a batch at
    /// a time. Memory and time only: results do not depend on it.
    /// </summary>
    public long? CleanLogitsBudget { get; init; }

    /// <summary>The checks that need no model; every error names its setting (as a study's intervene keys do).</summary>
    public void Validate()
    {
        if (Interventions.Count == 0) throw MspgtException.ForSetting("interventions", "no intervention given");
        if (Controls < 1) throw MspgtException.ForSetting("controls", $"must be ≥ 1, got {Controls}");
        if (Continuations < 0) throw MspgtException.ForSetting("continuations", $"must be ≥ 0, got {Continuations}");
        if (Continuations > 0 && GenTokens < 1) throw MspgtException.ForSetting("gen_tokens", $"must be ≥ 1, got {GenTokens}");
        if (PromptTokens < 1) throw MspgtException.ForSetting("prompt_tokens", $"must be ≥ 1, got {PromptTokens}");
        if (BootstrapResamples < 1) throw MspgtException.ForSetting("bootstrap", $"must be ≥ 1, got {BootstrapResamples}");
        if (PermutationResamples < 1) throw MspgtException.ForSetting("permutations", $"must be ≥ 1, got {PermutationResamples}");
        if (Threads is < 1) throw MspgtException.ForSetting("threads", $"must be ≥ 1, got {Threads}");
        new Models.SamplingOptions(Temperature, 0, TopP, 0).Validate();
    }

    /// <summary>Every check: <see cref="Validate()"/> and the segments and prompt length against the model.</summary>
    public void Validate(int layers, int maxSeq)
    {
        LayerSegments.Validate(Segments, layers);
        Validate();
        if (Continuations > 0 && PromptTokens >= maxSeq)
            throw MspgtException.ForSetting("prompt_tokens", $"{PromptTokens} leaves no room to generate in the model's context of {maxSeq}");
    }
}
