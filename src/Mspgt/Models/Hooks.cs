using System.Text.RegularExpressions;

namespace Mspgt.Models;

/// <summary>The kinds of activation a hook can see, TransformerLens-style.</summary>
public enum HookKind
{
    /// <summary>`embed`: token embeddings [T, dim].</summary>
    Embed,
    /// <summary>`blocks.{l}.resid_pre`: residual stream entering block l [T, dim].</summary>
    ResidPre,
    /// <summary>`blocks.{l}.attn.q`: queries after projection (+bias, +q_norm), before RoPE [T, heads, head_dim].</summary>
    AttnQ,
    /// <summary>`blocks.{l}.attn.k`: keys after projection (+bias, +k_norm), before RoPE [T, kv_heads, head_dim].</summary>
    AttnK,
    /// <summary>`blocks.{l}.attn.v`: values [T, kv_heads, head_dim].</summary>
    AttnV,
    /// <summary>`blocks.{l}.attn.pattern`: attention probabilities [heads, T, keys] (keys = cached + T).</summary>
    AttnPattern,
    /// <summary>`blocks.{l}.attn.z`: per-head weighted values before the output projection [T, heads, head_dim].</summary>
    AttnZ,
    /// <summary>`blocks.{l}.attn.out`: attention output added to the residual [T, dim].</summary>
    AttnOut,
    /// <summary>`blocks.{l}.resid_mid`: residual after the attention add [T, dim].</summary>
    ResidMid,
    /// <summary>`blocks.{l}.mlp.out`: MLP output added to the residual [T, dim].</summary>
    MlpOut,
    /// <summary>`blocks.{l}.resid_post`: residual leaving block l [T, dim].</summary>
    ResidPost,
    /// <summary>`final_norm`: the final RMSNorm's output [T, dim].</summary>
    FinalNorm,
    /// <summary>`logits` [T, vocab] (only the rows the caller asked for).</summary>
    Logits,
}

/// <summary>A validated hook point: a kind and, for per-block kinds, a layer.</summary>
public readonly record struct HookPoint(HookKind Kind, int Layer)
{
    private static readonly Regex BlockPattern = new(@"^blocks\.(\d+)\.(resid_pre|attn\.q|attn\.k|attn\.v|attn\.pattern|attn\.z|attn\.out|resid_mid|mlp\.out|resid_post)$", RegexOptions.Compiled);

    public static readonly string[] Forms =
    [
        "embed", "blocks.{l}.resid_pre", "blocks.{l}.attn.q", "blocks.{l}.attn.k", "blocks.{l}.attn.v",
        "blocks.{l}.attn.pattern", "blocks.{l}.attn.z", "blocks.{l}.attn.out", "blocks.{l}.resid_mid",
        "blocks.{l}.mlp.out", "blocks.{l}.resid_post", "final_norm", "logits",
    ];

    public bool IsPerBlock => Kind is not (HookKind.Embed or HookKind.FinalNorm or HookKind.Logits);

    public string Name => Kind switch
    {
        HookKind.Embed => "embed",
        HookKind.FinalNorm => "final_norm",
        HookKind.Logits => "logits",
        _ => $"blocks.{Layer}.{Suffix(Kind)}",
    };

    public override string ToString() => Name;

    public static HookPoint Block(HookKind kind, int layer) => new(kind, layer);

    /// <summary>Parses a hook name; an unknown name or a layer outside [0, layers) is an error.</summary>
    public static HookPoint Parse(string name, int layers)
    {
        switch (name)
        {
            case "embed": return new HookPoint(HookKind.Embed, -1);
            case "final_norm": return new HookPoint(HookKind.FinalNorm, -1);
            case "logits": return new HookPoint(HookKind.Logits, -1);
        }
        var m = BlockPattern.Match(name);
        if (!m.Success)
            throw new MspgtException("hook", $"unknown hook name \"{name}\"; valid names: {string.Join(", ", Forms)}");
        if (!int.TryParse(m.Groups[1].Value, out int layer) || layer >= layers)
            throw new MspgtException("hook", $"hook \"{name}\" names layer {m.Groups[1].Value} but the model has layers 0..{layers - 1}");
        var kind = m.Groups[2].Value switch
        {
            "resid_pre" => HookKind.ResidPre,
            "attn.q" => HookKind.AttnQ,
            "attn.k" => HookKind.AttnK,
            "attn.v" => HookKind.AttnV,
            "attn.pattern" => HookKind.AttnPattern,
            "attn.z" => HookKind.AttnZ,
            "attn.out" => HookKind.AttnOut,
            "resid_mid" => HookKind.ResidMid,
            "mlp.out" => HookKind.MlpOut,
            _ => HookKind.ResidPost,
        };
        return new HookPoint(kind, layer);
    }

    private static string Suffix(HookKind k) => k switch
    {
        HookKind.ResidPre => "resid_pre",
        HookKind.AttnQ => "attn.q",
        HookKind.AttnK => "attn.k",
        HookKind.AttnV => "attn.v",
        HookKind.AttnPattern => "attn.pattern",
        HookKind.AttnZ => "attn.z",
        HookKind.AttnOut => "attn.out",
        HookKind.ResidMid => "resid_mid",
        HookKind.MlpOut => "mlp.out",
        HookKind.ResidPost => "resid_post",
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };
}

/// <summary>
/// The activation handed to a hook: a view of the engine's own buffer for this forward call. Observers read it;
/// editors write it in place, and the next op uses the edited values. It is only valid during the call.
/// </summary>
public sealed class HookTensor
{
    public HookPoint Point { get; internal set; }
    public string Name => Point.Name;
    /// <summary>Shape, outermost first, e.g. [T, dim] or [heads, T, keys].</summary>
    public int[] Shape { get; internal set; } = [];
    /// <summary>Absolute position of the first of the T rows (non-zero when decoding with a KV cache).</summary>
    public int StartPosition { get; internal set; }
    /// <summary>Index of the sequence in the caller's batch (the caller's own bookkeeping; 0 unless set).</summary>
    public int Sequence { get; internal set; }
    internal float[] Buffer = [];
    internal int Offset;
    internal int Count;

    public Span<float> Data => Buffer.AsSpan(Offset, Count);

    /// <summary>Row r of a [T, width] tensor.</summary>
    public Span<float> Row(int r)
    {
        int w = Shape[^1];
        return Buffer.AsSpan(Offset + r * w, w);
    }
}

public delegate void HookFn(HookTensor tensor);

/// <summary>
/// Observers and editors registered by hook name. Only hooked activations are handed out: an attention pattern
/// is materialised for a layer only when a hook asks for it, handed to the hooks and dropped. Hooks at one point
/// run in the order they were added. Names are validated against the model when the forward pass starts.
/// </summary>
public sealed class Hooks
{
    private readonly List<(string Name, HookFn Fn, bool Edits)> _entries = [];
    private Dictionary<HookPoint, HookFn[]>? _resolved;
    private int _resolvedLayers = -1;

    public Hooks Observe(string name, HookFn fn) { _entries.Add((name, fn, false)); _resolved = null; return this; }

    public Hooks Edit(string name, HookFn fn) { _entries.Add((name, fn, true)); _resolved = null; return this; }

    /// <summary>Adds the same hook for one kind at every layer (per-block kinds) or at the single point.</summary>
    public Hooks ObserveEveryLayer(HookKind kind, int layers, HookFn fn)
    {
        if (new HookPoint(kind, 0).IsPerBlock)
            for (int l = 0; l < layers; l++) Observe(new HookPoint(kind, l).Name, fn);
        else Observe(new HookPoint(kind, -1).Name, fn);
        return this;
    }

    public bool IsEmpty => _entries.Count == 0;

    internal Dictionary<HookPoint, HookFn[]> Resolve(int layers)
    {
        if (_resolved != null && _resolvedLayers == layers) return _resolved;
        var d = new Dictionary<HookPoint, List<HookFn>>();
        foreach (var (name, fn, _) in _entries)
        {
            var p = HookPoint.Parse(name, layers);
            if (!d.TryGetValue(p, out var list)) d[p] = list = [];
            list.Add(fn);
        }
        _resolved = d.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        _resolvedLayers = layers;
        return _resolved;
    }
}
