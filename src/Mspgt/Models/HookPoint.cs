namespace Mspgt.Models;

/// <summary>The activations a hook can see, in the order the forward pass reaches them within a block.</summary>
public enum HookKind
{
    /// <summary>Token embeddings [T, dim].</summary>
    Embed,
    /// <summary>Residual stream entering block l [T, dim].</summary>
    ResidPre,
    /// <summary>Queries after projection (+bias, +q_norm), before RoPE [T, heads, head_dim].</summary>
    AttnQ,
    /// <summary>Keys after projection (+bias, +k_norm), before RoPE [T, kv_heads, head_dim].</summary>
    AttnK,
    /// <summary>Values [T, kv_heads, head_dim].</summary>
    AttnV,
    /// <summary>Attention scores q·k/√head_dim before the softmax [heads, T, keys], −∞ where a query does not see the
    /// key (after its own position, or before a sliding window).</summary>
    AttnScores,
    /// <summary>Attention probabilities [heads, T, keys] (keys = cached + T).</summary>
    AttnPattern,
    /// <summary>Per-head weighted values before the output projection [T, heads, head_dim].</summary>
    AttnZ,
    /// <summary>Attention output added to the residual [T, dim].</summary>
    AttnOut,
    /// <summary>Residual after the attention add [T, dim].</summary>
    ResidMid,
    /// <summary>The MLP's hidden activation silu(gate)·up, before the down projection [T, ffn].</summary>
    MlpPost,
    /// <summary>MLP output added to the residual [T, dim].</summary>
    MlpOut,
    /// <summary>Residual leaving block l [T, dim].</summary>
    ResidPost,
    /// <summary>The final RMSNorm's output [T, dim].</summary>
    FinalNorm,
    /// <summary>Logits [rows, vocab] (only the rows the caller asked for).</summary>
    Logits,
}

/// <summary>
/// A place in the forward pass where hooks run: a kind and, for per-block kinds, a layer (−1 otherwise). Code names
/// points with the factories (<c>HookPoint.ResidPre(3)</c>); names typed by users go through <see cref="Parse"/>
/// once, at the edge.
/// </summary>
public readonly record struct HookPoint
{
    public HookKind Kind { get; }
    public int Layer { get; }

    private HookPoint(HookKind kind, int layer) { Kind = kind; Layer = layer; }

    public static HookPoint Embed => new(HookKind.Embed, -1);
    public static HookPoint ResidPre(int layer) => At(HookKind.ResidPre, layer);
    public static HookPoint AttnQ(int layer) => At(HookKind.AttnQ, layer);
    public static HookPoint AttnK(int layer) => At(HookKind.AttnK, layer);
    public static HookPoint AttnV(int layer) => At(HookKind.AttnV, layer);
    public static HookPoint AttnScores(int layer) => At(HookKind.AttnScores, layer);
    public static HookPoint AttnPattern(int layer) => At(HookKind.AttnPattern, layer);
    public static HookPoint AttnZ(int layer) => At(HookKind.AttnZ, layer);
    public static HookPoint AttnOut(int layer) => At(HookKind.AttnOut, layer);
    public static HookPoint ResidMid(int layer) => At(HookKind.ResidMid, layer);
    public static HookPoint MlpPost(int layer) => At(HookKind.MlpPost, layer);
    public static HookPoint MlpOut(int layer) => At(HookKind.MlpOut, layer);
    public static HookPoint ResidPost(int layer) => At(HookKind.ResidPost, layer);
    public static HookPoint FinalNorm => new(HookKind.FinalNorm, -1);
    public static HookPoint Logits => new(HookKind.Logits, -1);

    /// <summary>The point of <paramref name="kind"/> at <paramref name="layer"/> (ignored for the kinds outside blocks).</summary>
    public static HookPoint At(HookKind kind, int layer)
    {
        if (!Row(kind).PerBlock) return new HookPoint(kind, -1);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        return new HookPoint(kind, layer);
    }

    public bool IsPerBlock => Row(Kind).PerBlock;

    /// <summary>mspgt's name, e.g. <c>blocks.3.attn.pattern</c>.</summary>
    public string Name => IsPerBlock ? $"blocks.{Layer}.{Row(Kind).Name}" : Row(Kind).Name;

    /// <summary>TransformerLens's name, e.g. <c>blocks.3.attn.hook_pattern</c> (logits have none: <c>logits</c>).</summary>
    public string LensName => IsPerBlock ? $"blocks.{Layer}.{Row(Kind).LensName}" : Row(Kind).LensName;

    public override string ToString() => Name;

    /// <summary>
    /// One row per kind, in enum order: mspgt's name and TransformerLens's (per-block names follow <c>blocks.{l}.</c>).
    /// The only place hook names are written.
    /// </summary>
    private static readonly (HookKind Kind, string Name, string LensName, bool PerBlock)[] Names =
    [
        (HookKind.Embed, "embed", "hook_embed", false),
        (HookKind.ResidPre, "resid_pre", "hook_resid_pre", true),
        (HookKind.AttnQ, "attn.q", "attn.hook_q", true),
        (HookKind.AttnK, "attn.k", "attn.hook_k", true),
        (HookKind.AttnV, "attn.v", "attn.hook_v", true),
        (HookKind.AttnScores, "attn.scores", "attn.hook_attn_scores", true),
        (HookKind.AttnPattern, "attn.pattern", "attn.hook_pattern", true),
        (HookKind.AttnZ, "attn.z", "attn.hook_z", true),
        (HookKind.AttnOut, "attn.out", "hook_attn_out", true),
        (HookKind.ResidMid, "resid_mid", "hook_resid_mid", true),
        (HookKind.MlpPost, "mlp.post", "mlp.hook_post", true),
        (HookKind.MlpOut, "mlp.out", "hook_mlp_out", true),
        (HookKind.ResidPost, "resid_post", "hook_resid_post", true),
        (HookKind.FinalNorm, "final_norm", "ln_final.hook_normalized", false),
        (HookKind.Logits, "logits", "logits", false),
    ];

    private static (HookKind Kind, string Name, string LensName, bool PerBlock) Row(HookKind kind) => Names[(int)kind];

    /// <summary>Every accepted form, for error messages and help: mspgt's name and TransformerLens's.</summary>
    public static IReadOnlyList<string> Forms { get; } = Names
        .Select(r => r.PerBlock ? $"blocks.{{l}}.{r.Name} | blocks.{{l}}.{r.LensName}" : r.Name == r.LensName ? r.Name : $"{r.Name} | {r.LensName}")
        .ToArray();

    /// <summary>
    /// Parses mspgt's names (<c>blocks.3.resid_pre</c>) and TransformerLens's (<c>blocks.3.hook_resid_pre</c>,
    /// <c>hook_embed</c>, <c>ln_final.hook_normalized</c>). An unknown name or a layer outside [0, layers) is an error.
    /// </summary>
    public static HookPoint Parse(string name, int layers)
    {
        const string blocks = "blocks.";
        if (name.StartsWith(blocks, StringComparison.Ordinal))
        {
            int dot = name.IndexOf('.', blocks.Length);
            string number = dot < 0 ? "" : name[blocks.Length..dot];
            if (number.Length > 0 && number.All(char.IsAsciiDigit))
            {
                string suffix = name[(dot + 1)..];
                foreach (var r in Names)
                    if (r.PerBlock && (suffix == r.Name || suffix == r.LensName))
                    {
                        if (!int.TryParse(number, out int layer) || layer >= layers)
                            throw new MspgtException("hook", $"hook \"{name}\" names layer {number} but the model has layers 0..{layers - 1}");
                        return new HookPoint(r.Kind, layer);
                    }
            }
        }
        else
        {
            foreach (var r in Names)
                if (!r.PerBlock && (name == r.Name || name == r.LensName)) return new HookPoint(r.Kind, -1);
        }
        throw new MspgtException("hook", $"unknown hook name \"{name}\"; valid names: {string.Join(", ", Forms)}");
    }

    /// <summary>
    /// A comma-separated list of names, where <c>blocks.*.NAME</c> stands for NAME at every layer
    /// (<c>blocks.*.hook_resid_post</c>: the residual stream after each block); duplicates are dropped, order kept.
    /// </summary>
    public static IReadOnlyList<HookPoint> ParseList(string names, int layers)
    {
        var points = new List<HookPoint>();
        foreach (var name in names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (name.StartsWith("blocks.*.", StringComparison.Ordinal))
                for (int l = 0; l < layers; l++) points.Add(Parse($"blocks.{l}.{name["blocks.*.".Length..]}", layers));
            else points.Add(Parse(name, layers));
        }
        if (points.Count == 0) throw new MspgtException("hook", "no hook names given");
        return points.Distinct().ToArray();
    }
}
