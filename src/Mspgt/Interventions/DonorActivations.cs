using Mspgt.Models;

namespace Mspgt.Interventions;

/// <summary>
/// Clean per-block component outputs of one donor sequence, for resample ablation: row p of a block's array is
/// the output at absolute position p. Positions beyond <see cref="Length"/> have no donor value.
/// </summary>
public sealed class DonorActivations
{
    private readonly Dictionary<int, float[]> _attn = [];
    private readonly Dictionary<int, float[]> _mlp = [];
    private readonly Dictionary<int, float[]> _resid = [];
    public int Length { get; }
    public int Dim { get; }

    private DonorActivations(int length, int dim) { Length = length; Dim = dim; }

    /// <summary>Runs the clean model over <paramref name="ids"/> and keeps attn.out, mlp.out and resid_post of blocks first..last.</summary>
    public static DonorActivations Capture(IDecoder model, ReadOnlySpan<int> ids, int first, int last)
    {
        int dim = model.Config.Dim;
        var donor = new DonorActivations(ids.Length, dim);
        var hooks = new Hooks();
        for (int l = first; l <= last; l++)
        {
            int layer = l;
            hooks.Observe(HookPoint.AttnOut(l), t => donor._attn[layer] = t.Data.ToArray());
            hooks.Observe(HookPoint.MlpOut(l), t => donor._mlp[layer] = t.Data.ToArray());
            hooks.Observe(HookPoint.ResidPost(l), t => donor._resid[layer] = t.Data.ToArray());
        }
        model.Forward(ids, null, hooks, LogitRows.None);
        return donor;
    }

    /// <summary>Block <paramref name="layer"/>'s attn.out rows [Length, Dim] (shared, not to be changed).</summary>
    internal float[] AttnRows(int layer) => _attn[layer];
    internal float[] MlpRows(int layer) => _mlp[layer];
    internal float[] ResidRows(int layer) => _resid[layer];
}
