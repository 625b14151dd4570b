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
    public static DonorActivations Capture(IDecoder model, ReadOnlySpan<int> ids, int first, int last) =>
        CaptureBatch(model, [ids.ToArray()], first, last)[0];

    /// <summary><see cref="Capture"/> for several donor sequences in one <see cref="IDecoder.ForwardBatch"/>.</summary>
    public static DonorActivations[] CaptureBatch(IDecoder model, IReadOnlyList<int[]> sequences, int first, int last)
    {
        int dim = model.Config.Dim;
        var donors = new DonorActivations[sequences.Count];
        var hooks = new Hooks?[sequences.Count];
        for (int i = 0; i < sequences.Count; i++)
        {
            var donor = donors[i] = new DonorActivations(sequences[i].Length, dim);
            var h = hooks[i] = new Hooks();
            for (int l = first; l <= last; l++)
            {
                int layer = l;
                h.Observe(HookPoint.AttnOut(l), t => donor._attn[layer] = t.Data.ToArray());
                h.Observe(HookPoint.MlpOut(l), t => donor._mlp[layer] = t.Data.ToArray());
                h.Observe(HookPoint.ResidPost(l), t => donor._resid[layer] = t.Data.ToArray());
            }
        }
        model.ForwardBatch(sequences, hooks, LogitRows.None);
        return donors;
    }

    /// <summary>Block <paramref name="layer"/>'s attn.out rows [Length, Dim] (shared, not to be changed).</summary>
    internal float[] AttnRows(int layer) => _attn[layer];
    internal float[] MlpRows(int layer) => _mlp[layer];
    internal float[] ResidRows(int layer) => _resid[layer];
}
