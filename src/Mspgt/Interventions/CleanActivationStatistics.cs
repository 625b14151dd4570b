using Mspgt.Numerics;
using Mspgt.Models;

namespace Mspgt.Interventions;

/// <summary>
/// What the noise and mean-ablation interventions are calibrated on, measured once on the clean corpus over every
/// position of every document (BOS included: the mean is position-independent, so it averages all positions).
/// </summary>
/// <param name="MeanResidNorm">Per block, the mean L2 norm of a <c>resid_post</c> row.</param>
/// <param name="MeanAttnOut">Per block, the mean <c>attn.out</c> vector.</param>
/// <param name="MeanMlpOut">Per block, the mean <c>mlp.out</c> vector.</param>
/// <param name="Positions">Number of positions averaged.</param>
public sealed record CleanActivationStatistics(double[] MeanResidNorm, float[][] MeanAttnOut, float[][] MeanMlpOut, long Positions)
{
    /// <summary>One clean forward pass per document; sums are accumulated in double, in document order.</summary>
    public static CleanActivationStatistics Compute(Transformer model, IReadOnlyList<int[]> documents)
    {
        var c = model.Config;
        if (documents.Count == 0) throw new MspgtException("corpus", "no documents to measure activations on");
        var normSum = new double[c.Layers];
        var attnSum = new double[c.Layers][];
        var mlpSum = new double[c.Layers][];
        for (int l = 0; l < c.Layers; l++) { attnSum[l] = new double[c.Dim]; mlpSum[l] = new double[c.Dim]; }
        long positions = 0;

        var hooks = new Hooks();
        for (int l = 0; l < c.Layers; l++)
        {
            int layer = l;
            hooks.Observe(HookPoint.ResidPost(l), t =>
            {
                for (int r = 0; r < t.Shape[0]; r++) normSum[layer] += Math.Sqrt(SumOfSquares(t.Row(r)));
            });
            hooks.Observe(HookPoint.AttnOut(l), t => AddRows(t, attnSum[layer]));
            hooks.Observe(HookPoint.MlpOut(l), t => AddRows(t, mlpSum[layer]));
        }
        foreach (var ids in documents)
        {
            model.Forward(ids, null, hooks, LogitRows.None);
            positions += ids.Length;
        }

        var meanNorm = new double[c.Layers];
        var meanAttn = new float[c.Layers][];
        var meanMlp = new float[c.Layers][];
        for (int l = 0; l < c.Layers; l++)
        {
            meanNorm[l] = normSum[l] / positions;
            meanAttn[l] = attnSum[l].Select(v => (float)(v / positions)).ToArray();
            meanMlp[l] = mlpSum[l].Select(v => (float)(v / positions)).ToArray();
            if (!double.IsFinite(meanNorm[l]) || meanAttn[l].Any(v => !float.IsFinite(v)) || meanMlp[l].Any(v => !float.IsFinite(v)))
                throw new MspgtException("corpus", $"block {l} produced non-finite activations on the clean corpus");
        }
        return new CleanActivationStatistics(meanNorm, meanAttn, meanMlp, positions);
    }

    private static double SumOfSquares(ReadOnlySpan<float> row)
    {
        double s = 0;
        foreach (float v in row) s += (double)v * v;
        return s;
    }

    private static void AddRows(HookTensor t, double[] sum)
    {
        for (int r = 0; r < t.Shape[0]; r++)
        {
            var row = t.Row(r);
            for (int d = 0; d < row.Length; d++) sum[d] += row[d];
        }
    }
}

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
    public static DonorActivations Capture(Transformer model, ReadOnlySpan<int> ids, int first, int last)
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

    internal ReadOnlySpan<float> Attn(int layer, int position) => _attn[layer].AsSpan(position * Dim, Dim);
    internal ReadOnlySpan<float> Mlp(int layer, int position) => _mlp[layer].AsSpan(position * Dim, Dim);
    internal ReadOnlySpan<float> Resid(int layer, int position) => _resid[layer].AsSpan(position * Dim, Dim);
}

/// <summary>
/// Gaussian noise that depends only on (seed, document, run, block, position): the same position of the same
/// document gets the same noise whether it is run in one prefill or token by token with a KV cache, in any order.
/// Standard normals come from SplitMix64 through the Box–Muller transform (reproducible across .NET versions).
/// </summary>
public readonly record struct NoiseKey(int Seed, int Document, int Run)
{
    /// <summary>Adds σ·z (z standard normal, one per coordinate) to <paramref name="row"/>.</summary>
    public void AddTo(Span<float> row, int layer, int position, double sigma)
    {
        var rng = new SplitMix64(Mix(Mix(Mix(Mix(Mix((ulong)(uint)Seed ^ 0x6E6F697365UL) ^ (ulong)(uint)Document) ^ (ulong)(uint)Run) ^ (ulong)(uint)layer) ^ (ulong)(uint)position));
        for (int d = 0; d < row.Length; d += 2)
        {
            // u1 in (0, 1] so the log is finite; 53 random bits each.
            double u1 = ((rng.NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));
            double u2 = (rng.NextUInt64() >> 11) * (1.0 / (1UL << 53));
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            row[d] += (float)(sigma * radius * Math.Cos(2 * Math.PI * u2));
            if (d + 1 < row.Length) row[d + 1] += (float)(sigma * radius * Math.Sin(2 * Math.PI * u2));
        }
    }

    /// <summary>The SplitMix64 finaliser: a bijective 64-bit mix, so distinct inputs give distinct states.</summary>
    internal static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

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
