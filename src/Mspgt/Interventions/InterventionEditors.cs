using Mspgt.Models;

namespace Mspgt.Interventions;

/// <summary>Builds the editors that apply one intervention to every block of one segment.</summary>
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
                    hooks.Edit(resid, t =>
                    {
                        for (int r = 0; r < t.Shape[0]; r++) key.AddTo(t.Row(r), layer, t.StartPosition + r, sigma);
                    });
                    break;
                }
                case InterventionKind.Zero or InterventionKind.Skip:
                    if (spec.EditsAttn) hooks.Edit(attn, t => t.Data.Clear());
                    if (spec.EditsMlp) hooks.Edit(mlp, t => t.Data.Clear());
                    break;
                case InterventionKind.Mean:
                {
                    var stats = statistics ?? throw new ArgumentException("mean ablation needs the clean activation statistics");
                    if (spec.EditsAttn) hooks.Edit(attn, t => FillRows(t, stats.MeanAttnOut[layer]));
                    if (spec.EditsMlp) hooks.Edit(mlp, t => FillRows(t, stats.MeanMlpOut[layer]));
                    break;
                }
                case InterventionKind.Resample:
                {
                    var d = donor ?? throw new ArgumentException("resample needs donor activations");
                    if (spec.EditsAttn) hooks.Edit(attn, t => CopyDonorRows(t, p => d.Attn(layer, p), d.Length));
                    if (spec.EditsMlp) hooks.Edit(mlp, t => CopyDonorRows(t, p => d.Mlp(layer, p), d.Length));
                    // Cross-document patching of the residual stream itself: every block of the segment hands on the
                    // donor's resid_post, so what leaves the segment is the donor's stream at the same positions.
                    if (spec.Component == InterventionComponent.ResidPost) hooks.Edit(resid, t => CopyDonorRows(t, p => d.Resid(layer, p), d.Length));
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(spec));
            }
        }
        return hooks;
    }

    private static void FillRows(WritableHookTensor t, float[] value)
    {
        for (int r = 0; r < t.Shape[0]; r++) value.CopyTo(t.Row(r));
    }

    private delegate ReadOnlySpan<float> RowAt(int position);

    private static void CopyDonorRows(WritableHookTensor t, RowAt donorRow, int donorLength)
    {
        for (int r = 0; r < t.Shape[0]; r++)
        {
            int p = t.StartPosition + r;
            if (p < donorLength) donorRow(p).CopyTo(t.Row(r));
        }
    }
}
