namespace Mspgt.Models;

/// <summary>The decoder architectures the engine runs; what sets each apart is its row in <see cref="Architectures"/>.</summary>
public enum Architecture
{
    Llama,
    Qwen2,
    Qwen3,
}

/// <summary>Which two elements of a head RoPE rotates together.</summary>
public enum RopeForm
{
    /// <summary>Hugging Face / NEOX: (x[i], x[i + hd/2]). The form the engine runs every model in.</summary>
    RotateHalf,
    /// <summary>llama.cpp's NORM / llama2.c / Meta: (x[2i], x[2i+1]).</summary>
    AdjacentPairs,
}

/// <summary>One architecture: its names in checkpoints and the flags the loaders, the forward pass and training read.</summary>
/// <param name="Name">model_type in config.json, general.architecture in GGUF, <c>--arch</c> for training.</param>
/// <param name="HfClass">architectures[0] in a config.json that transformers writes.</param>
/// <param name="QkvBias">q, k and v projections have biases.</param>
/// <param name="QkNorm">Per-head RMSNorm on q and k before RoPE.</param>
/// <param name="GgufRope">The RoPE form llama.cpp runs it in, hence the order of q/k rows in a GGUF file (llama.cpp's
/// converter permutes Hugging Face's llama rows for adjacent pairs; the engine reads them back through a row map).</param>
/// <param name="GgufRopeFreqs">A GGUF file may carry Llama 3.1 rope scaling as rope_freqs.weight divisors.</param>
/// <param name="SlidingWindow">config.json may turn on sliding-window attention (use_sliding_window, max_window_layers).</param>
/// <param name="TiedByDefault">tie_word_embeddings when config.json does not say (transformers' default).</param>
/// <param name="AddBos">Whether text gets BOS prepended when a Hugging Face checkpoint does not say.</param>
public sealed record ArchitectureSpec(
    Architecture Id, string Name, string HfClass, bool QkvBias, bool QkNorm, RopeForm GgufRope, bool GgufRopeFreqs,
    bool SlidingWindow, bool TiedByDefault, bool AddBos);

/// <summary>The architecture table: every loader and training map names and flags through it, so adding an
/// architecture is one row here plus any op it needs in the forward pass.</summary>
public static class Architectures
{
    /// <summary>One row per <see cref="Architecture"/>, in enum order.</summary>
    public static readonly IReadOnlyList<ArchitectureSpec> All =
    [
        new(Architecture.Llama, "llama", "LlamaForCausalLM", QkvBias: false, QkNorm: false, GgufRope: RopeForm.AdjacentPairs,
            GgufRopeFreqs: true, SlidingWindow: false, TiedByDefault: false, AddBos: true),
        new(Architecture.Qwen2, "qwen2", "Qwen2ForCausalLM", QkvBias: true, QkNorm: false, GgufRope: RopeForm.RotateHalf,
            GgufRopeFreqs: false, SlidingWindow: true, TiedByDefault: false, AddBos: false),
        new(Architecture.Qwen3, "qwen3", "Qwen3ForCausalLM", QkvBias: false, QkNorm: true, GgufRope: RopeForm.RotateHalf,
            GgufRopeFreqs: false, SlidingWindow: true, TiedByDefault: false, AddBos: false),
    ];

    public static ArchitectureSpec Of(Architecture id) => All[(int)id];

    /// <summary>The row named <paramref name="name"/> (exact, lower case), or null.</summary>
    public static ArchitectureSpec? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    /// <summary>"llama, qwen2, qwen3", for error messages.</summary>
    public static string Names => string.Join(", ", All.Select(a => a.Name));
}
