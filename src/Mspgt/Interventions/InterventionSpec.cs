using System.Globalization;

namespace Mspgt.Interventions;

/// <summary>What is done to every block of a segment.</summary>
public enum InterventionKind
{
    /// <summary>Identity editors on every block: checks that hooking alone changes nothing.</summary>
    Noop,
    /// <summary>Gaussian noise added to <c>resid_post</c>, scaled to α × the block's mean residual norm.</summary>
    Noise,
    /// <summary>The component's output set to zero.</summary>
    Zero,
    /// <summary>The component's output replaced by its mean over all clean corpus positions (position-independent).</summary>
    Mean,
    /// <summary>The component's output replaced by another document's clean output at the same position.</summary>
    Resample,
    /// <summary>Attention and MLP outputs both zeroed: the residual passes through the block unchanged.</summary>
    Skip,
}

/// <summary>Which hook point an intervention edits.</summary>
public enum InterventionComponent
{
    /// <summary>No point is changed (no-op).</summary>
    None,
    /// <summary><c>blocks.l.resid_post</c> (noise).</summary>
    ResidPost,
    /// <summary><c>blocks.l.attn.out</c>.</summary>
    Attn,
    /// <summary><c>blocks.l.mlp.out</c>.</summary>
    Mlp,
    /// <summary><c>blocks.l.attn.out</c> and <c>blocks.l.mlp.out</c>.</summary>
    Both,
}

/// <summary>One intervention condition: kind, the component it edits and, for noise, the strength α.</summary>
public sealed record InterventionSpec(InterventionKind Kind, InterventionComponent Component, double? Alpha = null)
{
    public static InterventionSpec Noop { get; } = new(InterventionKind.Noop, InterventionComponent.None);

    public string KindName => KindNames[(int)Kind];

    public string ComponentName => Component switch
    {
        InterventionComponent.None => "none",
        InterventionComponent.ResidPost => "resid_post",
        InterventionComponent.Attn => "attn",
        InterventionComponent.Mlp => "mlp",
        _ => "both",
    };

    public bool EditsAttn => Component is InterventionComponent.Attn or InterventionComponent.Both;
    public bool EditsMlp => Component is InterventionComponent.Mlp or InterventionComponent.Both;

    /// <summary>Short label for tables and plots, e.g. "noise α=0.5", "zero attn", "skip".</summary>
    public string Label => Kind switch
    {
        InterventionKind.Noise => $"noise α={Alpha!.Value.ToString("0.###", CultureInfo.InvariantCulture)}",
        InterventionKind.Skip or InterventionKind.Noop => KindName,
        _ => $"{KindName} {ComponentName}",
    };

    public static readonly string[] KindNames = ["noop", "noise", "zero", "mean", "resample", "skip"];

    /// <summary>
    /// The conditions for the requested kinds: noise once per α, zero / mean / resample once per component, skip once.
    /// Order follows the kinds as given, then components / α as given. Duplicates are errors.
    /// </summary>
    public static IReadOnlyList<InterventionSpec> Expand(IReadOnlyList<string> kinds, IReadOnlyList<string> components, IReadOnlyList<double> alphas)
    {
        if (kinds.Count == 0) throw MspgtException.ForSetting("interventions", "no intervention given");
        var comps = new List<InterventionComponent>();
        foreach (var c in components)
        {
            var comp = c switch
            {
                "attn" => InterventionComponent.Attn,
                "mlp" => InterventionComponent.Mlp,
                "both" => InterventionComponent.Both,
                "resid" => InterventionComponent.ResidPost,
                _ => throw MspgtException.ForSetting("components", $"unknown component '{c}' (expected attn, mlp, both or resid)"),
            };
            if (comps.Contains(comp)) throw MspgtException.ForSetting("components", $"'{c}' is given twice");
            comps.Add(comp);
        }
        foreach (double a in alphas)
            if (!double.IsFinite(a) || a < 0) throw MspgtException.ForSetting("alpha", $"noise strength must be a finite number ≥ 0, got {a.ToString(CultureInfo.InvariantCulture)}");
        if (alphas.Distinct().Count() != alphas.Count) throw MspgtException.ForSetting("alpha", "a value is given twice");

        var specs = new List<InterventionSpec>();
        var seenKinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var k in kinds)
        {
            if (!seenKinds.Add(k)) throw MspgtException.ForSetting("interventions", $"'{k}' is given twice");
            switch (k)
            {
                case "noise":
                    if (alphas.Count == 0) throw MspgtException.ForSetting("alpha", "noise needs at least one α");
                    specs.AddRange(alphas.Select(a => new InterventionSpec(InterventionKind.Noise, InterventionComponent.ResidPost, a)));
                    break;
                case "zero" or "mean" or "resample":
                    if (comps.Count == 0) throw MspgtException.ForSetting("components", $"{k} needs at least one component");
                    var kind = k == "zero" ? InterventionKind.Zero : k == "mean" ? InterventionKind.Mean : InterventionKind.Resample;
                    // `resid` (the segment's residual stream itself) is a patching target only: resample replaces it
                    // with the donor's; zero / mean ablation apply to the components' outputs.
                    specs.AddRange(comps.Where(c => c != InterventionComponent.ResidPost || kind == InterventionKind.Resample)
                        .Select(c => new InterventionSpec(kind, c)));
                    break;
                case "skip":
                    specs.Add(new InterventionSpec(InterventionKind.Skip, InterventionComponent.Both));
                    break;
                default:
                    throw MspgtException.ForSetting("interventions", $"unknown intervention '{k}' (expected noise, zero, mean, resample, skip)");
            }
        }
        return specs;
    }
}
