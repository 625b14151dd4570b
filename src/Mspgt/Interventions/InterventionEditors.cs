using Mspgt.Models;

namespace Mspgt.Interventions;

/// <summary>
/// Builds the editors that apply one intervention to every block of one segment, as <see cref="ActivationEdit"/>s:
/// data the forward pass applies itself, so on a GPU the edit runs on the device (no copy of the activation to the
/// host and back) and on the CPU exactly as before.
/// </summary>
public static class InterventionEditors
{
    /// <summary>
    /// Editors for <paramref name="spec"/> on blocks first..last. Noise needs <paramref name="statistics"/> and
    /// <paramref name="noise"/>; mean needs <paramref name="statistics"/>; resample needs <paramref name="donor"/>.
    /// Returns a fresh <see cref="Hooks"/>; callers may add observers to it.
    /// </summary>
    public static Hooks Create(InterventionSpec spec, int first, int last, CleanActivationStatistics? statistics = null,
        NoiseKey? noise = null, DonorActivations? donor = null)
    {
        var hooks = new Hooks();
        for (int l = first; l <= last; l++)
        {
            int layer = l;
            var (resid, attn, mlp) = (HookPoint.ResidPost(l), HookPoint.AttnOut(l), HookPoint.MlpOut(l));
            switch (spec.Kind)
            {
                case InterventionKind.Noop:
                    hooks.Edit(resid, _ => { });
                    break;
                case InterventionKind.Noise:
                {
                    var stats = statistics ?? throw new ArgumentException("noise needs the clean activation statistics");
                    var key = noise ?? throw new ArgumentException("noise needs a noise key");
                    // Per-coordinate σ so that the noise vector's root-mean-square length is α × the mean ‖resid_post‖.
                    double sigma = spec.Alpha!.Value * stats.MeanResidNorm[layer] / Math.Sqrt(stats.MeanAttnOut[layer].Length);
                    hooks.Edit(resid, new ActivationEdit.AddRows((position, row) => key.Write(row, layer, position, sigma)));
                    break;
                }
                case InterventionKind.Zero or InterventionKind.Skip:
                    if (spec.EditsAttn) hooks.Edit(attn, new ActivationEdit.Zero());
                    if (spec.EditsMlp) hooks.Edit(mlp, new ActivationEdit.Zero());
                    break;
                case InterventionKind.Mean:
                {
                    var stats = statistics ?? throw new ArgumentException("mean ablation needs the clean activation statistics");
                    if (spec.EditsAttn) hooks.Edit(attn, new ActivationEdit.FillRows(stats.MeanAttnOut[layer]));
                    if (spec.EditsMlp) hooks.Edit(mlp, new ActivationEdit.FillRows(stats.MeanMlpOut[layer]));
                    break;
                }
                case InterventionKind.Resample:
                {
                    var d = donor ?? throw new ArgumentException("resample needs donor activations");
                    if (spec.EditsAttn) hooks.Edit(attn, new ActivationEdit.CopyRows(d.AttnRows(layer), d.Length));
                    if (spec.EditsMlp) hooks.Edit(mlp, new ActivationEdit.CopyRows(d.MlpRows(layer), d.Length));
                    // Cross-document patching of the residual stream itself: every block of the segment hands on the
                    // donor's resid_post, so what leaves the segment is the donor's stream at the same positions.
                    if (spec.Component == InterventionComponent.ResidPost) hooks.Edit(resid, new ActivationEdit.CopyRows(d.ResidRows(layer), d.Length));
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(spec));
            }
        }
        return hooks;
    }
}
