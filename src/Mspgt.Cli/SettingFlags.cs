using System.CommandLine;

namespace Mspgt.Cli;

/// <summary>
/// The flag that sets each setting the library names in its errors (<see cref="MspgtException.Setting"/>): the
/// library speaks of <c>top_p</c>, the CLI of <c>--top-p</c>. One table for every command; a command shows the flag
/// only when it has that option, else the setting's own name.
/// </summary>
public static class SettingFlags
{
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // models, prompts, corpora
        ["model"] = "--model",
        ["synthetic"] = "--synthetic",
        ["weight_type"] = "--weight-type",
        ["tokenizer"] = "--tokenizer",
        ["text"] = "--text",
        ["prompt"] = "--prompt",
        ["chat"] = "--chat",
        ["corpus"] = "--corpus",
        ["documents"] = "--documents",
        ["max_tokens"] = "--max-tokens",
        ["temperature"] = "--temperature",
        ["top_k"] = "--top-k",
        ["top_p"] = "--top-p",
        ["tokens"] = "--tokens",
        ["context"] = "--ctx-size",
        ["file"] = "--file",
        ["runs"] = "--runs",
        ["batch"] = "--batch",
        // boundaries and analyze
        ["k"] = "--k",
        ["penalty"] = "--penalty",
        ["min_size"] = "--min-size",
        ["max_k"] = "--max-k",
        ["alpha"] = "--alpha",
        ["null_replicates"] = "--null-replicates",
        ["null_max_edf"] = "--null-max-edf",
        ["bootstrap"] = "--bootstrap",
        ["weights"] = "--weights",
        // study
        ["shard"] = "--shard",
        ["shards"] = "--shards",
        ["merge_only"] = "--merge-only",
        ["cpus_per_task"] = "--cpus-per-task",
        ["gpus_per_task"] = "--gpus-per-task",
        // intervene
        ["segments"] = "--segments",
        ["interventions"] = "--interventions",
        ["components"] = "--component",
        ["controls"] = "--controls",
        ["continuations"] = "--continuations",
        ["gen_tokens"] = "--gen-tokens",
        ["prompt_tokens"] = "--prompt-tokens",
        ["permutations"] = "--permutations",
        ["threads"] = "--threads",
        // train
        ["arch"] = "--arch",
        ["layers"] = "--layers",
        ["dim"] = "--dim",
        ["heads"] = "--heads",
        ["kv_heads"] = "--kv-heads",
        ["head_dim"] = "--head-dim",
        ["ffn"] = "--ffn",
        ["seq"] = "--seq",
        ["batch"] = "--batch",
        ["steps"] = "--steps",
        ["lr"] = "--lr",
        ["warmup"] = "--warmup",
        ["weight_decay"] = "--weight-decay",
        ["clip"] = "--clip",
        ["checkpoint_every"] = "--checkpoint-every",
        ["eval_every"] = "--eval-every",
        ["eval_windows"] = "--eval-windows",
        ["max_positions"] = "--max-positions",
        ["teacher_docs"] = "--teacher-docs",
        ["teacher_doc_tokens"] = "--teacher-doc-tokens",
    };

    /// <summary>The flag of <paramref name="setting"/>, when <paramref name="command"/> (any command, if null) has it.</summary>
    public static string? FlagOf(string setting, Command? command)
    {
        if (!All.TryGetValue(setting, out var flag)) return null;
        if (command is null) return flag;
        return command.Options.Any(o => o.Name == flag || o.Aliases.Contains(flag)) ? flag : null;
    }
}
