using Mspgt.Interventions;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Tests.Models;

namespace Mspgt.Tests.Interventions;

/// <summary>The editors against manual recomputations with the naive double-precision reference forward pass.</summary>
public class InterventionEditorTests
{
    private static readonly int[] Ids = [5, 17, 200, 33, 41, 8, 99, 250, 3, 77];
    private static readonly int[] Other = [5, 140, 2, 61, 19, 230];

    private static (LoadedModel, Transformer) Open(string fixture)
    {
        var m = ModelLoader.Load(TestData.Path("fixtures", fixture), loadTokenizer: false);
        return (m, new Transformer(m.Config, m.Weights));
    }

    private static void Close(double[][] want, float[] got, int vocab, double tol = 1e-4)
    {
        Assert.Equal(want.Length * vocab, got.Length);
        for (int t = 0; t < want.Length; t++)
            Golden.Close(want[t], got.Skip(t * vocab).Take(vocab).Select(v => (double)v).ToArray(), $"logits row {t}", tol, tol);
    }

    /// <summary>Rows of one hook point during a forward pass (observed after any editor at that point).</summary>
    private static double[][] Capture(Transformer tf, int[] ids, HookPoint point, Hooks? hooks = null)
    {
        var a = tf.RunWithCache(ids, [point], hooks, LogitRows.None).Cache[point];
        return Enumerable.Range(0, a.Shape[0]).Select(r => a.Row(r).ToArray().Select(v => (double)v).ToArray()).ToArray();
    }

    private static CleanActivationStatistics Stats(Transformer tf) => CleanActivationStatistics.Compute(tf, [Ids, Other]);

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-qwen3")]
    public void ZeroingTheAttentionOfASegmentMatchesTheReference(string fixture)
    {
        var (m, tf) = Open(fixture);
        using var _ = m;
        var hooks = InterventionEditors.Create(new InterventionSpec(InterventionKind.Zero, InterventionComponent.Attn), 1, 2);
        var got = tf.Forward(Ids, null, hooks);
        var r = new ReferenceForward(m.Config, m.Weights);
        r.ZeroAttnOut.Add(1);
        r.ZeroAttnOut.Add(2);
        Close(r.RunFrom(0, r.Embed(Ids)), got, m.Config.Vocab);
        Assert.NotEqual(tf.Forward(Ids), got);
    }

    [Fact]
    public void SkippingAMiddleSegmentPassesItsInputStraightToTheNextBlock()
    {
        var (m, tf) = Open("tiny-qwen2");
        using var _ = m;
        // Upstream of block 1 nothing changes, so the clean resid_pre of block 1 is what block 3 must receive.
        var residPre1 = Capture(tf, Ids, HookPoint.ResidPre(1));
        var got = tf.Forward(Ids, null, InterventionEditors.Create(new InterventionSpec(InterventionKind.Skip, InterventionComponent.Both), 1, 2));
        Close(new ReferenceForward(m.Config, m.Weights).RunFrom(3, residPre1), got, m.Config.Vocab);
        // And resid_post of the last skipped block equals resid_pre of the first, exactly.
        var post2 = Capture(tf, Ids, HookPoint.ResidPost(2), InterventionEditors.Create(new InterventionSpec(InterventionKind.Skip, InterventionComponent.Both), 1, 2));
        Assert.Equal(Capture(tf, Ids, HookPoint.ResidPre(1)), post2);
    }

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-qwen3")]
    public void SkippingEveryBlockGivesEmbeddingFinalNormUnembedding(string fixture)
    {
        var (m, tf) = Open(fixture);
        using var _ = m;
        int L = m.Config.Layers;
        var got = tf.Forward(Ids, null, InterventionEditors.Create(new InterventionSpec(InterventionKind.Skip, InterventionComponent.Both), 0, L - 1));
        // By hand: logits_t = W_out · (RMSNorm(e_t) ⊙ g_final), with e_t the embedding row of token t.
        var emb = m.Weights.Embedding.ToFloats();
        var wOut = m.Weights.Output.ToFloats();
        int dim = m.Config.Dim, V = m.Config.Vocab;
        var want = new double[Ids.Length][];
        for (int t = 0; t < Ids.Length; t++)
        {
            var e = emb.Skip(Ids[t] * dim).Take(dim).Select(v => (double)v).ToArray();
            double inv = 1 / Math.Sqrt(e.Sum(v => v * v) / dim + m.Config.NormEps);
            var h = e.Select((v, i) => v * inv * m.Weights.FinalNorm[i]).ToArray();
            want[t] = Enumerable.Range(0, V).Select(o => Enumerable.Range(0, dim).Sum(i => wOut[o * dim + i] * h[i])).ToArray();
        }
        Close(want, got, V);
    }

    [Fact]
    public void NoiseWithAlphaZeroEqualsTheCleanRunBitForBit()
    {
        var (m, tf) = Open("tiny-qwen3");
        using var _ = m;
        var stats = Stats(tf);
        var clean = tf.Forward(Ids);
        for (int first = 0; first < m.Config.Layers; first++)
        {
            var hooks = InterventionEditors.Create(new InterventionSpec(InterventionKind.Noise, InterventionComponent.ResidPost, 0), first, m.Config.Layers - 1, stats, new NoiseKey(3, 0, -1));
            Assert.Equal(clean, tf.Forward(Ids, null, hooks));
        }
        var noisy = tf.Forward(Ids, null, InterventionEditors.Create(new InterventionSpec(InterventionKind.Noise, InterventionComponent.ResidPost, 0.5), 1, 1, stats, new NoiseKey(3, 0, -1)));
        Assert.NotEqual(clean, noisy);
    }

    [Fact]
    public void NoiseHasTheRequestedScaleAndChangesDownstreamAsRecomputed()
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        var stats = Stats(tf);
        const double alpha = 0.7;
        var spec = new InterventionSpec(InterventionKind.Noise, InterventionComponent.ResidPost, alpha);
        var before = Capture(tf, Ids, HookPoint.ResidPost(1));
        var after = Capture(tf, Ids, HookPoint.ResidPost(1), InterventionEditors.Create(spec, 1, 1, stats, new NoiseKey(11, 2, -1)));
        // RMS length of the added noise vectors ≈ α × mean ‖resid_post‖ (dim·T Gaussian draws; 10% is > 4 sd).
        double ms = before.Zip(after).Average(p => p.First.Zip(p.Second).Sum(x => (x.Second - x.First) * (x.Second - x.First)));
        Assert.InRange(Math.Sqrt(ms) / (alpha * stats.MeanResidNorm[1]), 0.9, 1.1);
        // Downstream, the noisy residual is processed like any other.
        var got = tf.Forward(Ids, null, InterventionEditors.Create(spec, 1, 1, stats, new NoiseKey(11, 2, -1)));
        Close(new ReferenceForward(m.Config, m.Weights).RunFrom(2, after), got, m.Config.Vocab);
    }

    [Fact]
    public void NoiseDependsOnPositionNotOnHowTheSequenceIsRun()
    {
        var (m, tf) = Open("tiny-qwen3");
        using var _ = m;
        var stats = Stats(tf);
        var spec = new InterventionSpec(InterventionKind.Noise, InterventionComponent.ResidPost, 0.5);
        Hooks H(int seed) => InterventionEditors.Create(spec, 0, 2, stats, new NoiseKey(seed, 1, 4));
        var full = tf.Forward(Ids, null, H(9));
        Assert.Equal(full, tf.Forward(Ids, null, H(9)));
        Assert.NotEqual(full, tf.Forward(Ids, null, H(10)));
        var cache = tf.NewCache(Ids.Length);
        int V = m.Config.Vocab;
        tf.Forward(Ids.AsSpan(0, 4), cache, H(9));
        for (int t = 4; t < Ids.Length; t++)
        {
            var step = tf.Forward(Ids.AsSpan(t, 1), cache, H(9), LogitRows.Last);
            Golden.Close(full.Skip(t * V).Take(V).Select(v => (double)v).ToArray(), step.Select(v => (double)v).ToArray(), $"position {t}", 1e-5, 1e-5);
        }
    }

    [Fact]
    public void MeanAblationWritesThePerBlockCorpusMean()
    {
        var (m, tf) = Open("tiny-qwen2");
        using var _ = m;
        var stats = Stats(tf);
        // The mean by hand over both documents' positions.
        var rows = Capture(tf, Ids, HookPoint.MlpOut(2)).Concat(Capture(tf, Other, HookPoint.MlpOut(2))).ToArray();
        var want = Enumerable.Range(0, m.Config.Dim).Select(d => rows.Average(r => r[d])).ToArray();
        Golden.Close(want, stats.MeanMlpOut[2].Select(v => (double)v).ToArray(), "mean mlp.out", 1e-6, 1e-5);
        var norms = Capture(tf, Ids, HookPoint.ResidPost(0)).Concat(Capture(tf, Other, HookPoint.ResidPost(0))).Select(r => Math.Sqrt(r.Sum(v => v * v)));
        Assert.Equal(norms.Average(), stats.MeanResidNorm[0], 6);
        Assert.Equal(Ids.Length + Other.Length, stats.Positions);

        var spec = new InterventionSpec(InterventionKind.Mean, InterventionComponent.Mlp);
        var edited = Capture(tf, Ids, HookPoint.MlpOut(2), InterventionEditors.Create(spec, 2, 2, stats));
        Assert.All(edited, r => Assert.Equal(stats.MeanMlpOut[2].Select(v => (double)v), r));
        Assert.Equal(Capture(tf, Ids, HookPoint.AttnOut(2)), Capture(tf, Ids, HookPoint.AttnOut(2), InterventionEditors.Create(spec, 2, 2, stats)));
    }

    [Fact]
    public void ResampleCopiesTheDonorsOutputsUpToItsLength()
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        var donor = DonorActivations.Capture(tf, Other, 1, 2);
        var spec = new InterventionSpec(InterventionKind.Resample, InterventionComponent.Attn);
        var donorRows = Capture(tf, Other, HookPoint.AttnOut(1));
        var edited = Capture(tf, Ids, HookPoint.AttnOut(1), InterventionEditors.Create(spec, 1, 2, donor: donor));
        var cleanRows = Capture(tf, Ids, HookPoint.AttnOut(1));
        for (int t = 0; t < Ids.Length; t++)
            Assert.Equal(t < Other.Length ? donorRows[t] : cleanRows[t], edited[t]);
    }

    [Fact]
    public void ResamplingEveryBlockReplacesTheWholeResidualUpdate()
    {
        var (m, tf) = Open("tiny-qwen3");
        using var _ = m;
        int L = m.Config.Layers;
        int[] a = Ids[..Other.Length];
        var donor = DonorActivations.Capture(tf, Other, 0, L - 1);
        var got = tf.Forward(a, null, InterventionEditors.Create(new InterventionSpec(InterventionKind.Resample, InterventionComponent.Both), 0, L - 1, donor: donor));
        // resid_post(L−1) = embed(a) + Σ donor updates = embed(a) + (donor's resid_post(L−1) − embed(donor)).
        var embA = Capture(tf, a, HookPoint.Embed);
        var embB = Capture(tf, Other, HookPoint.Embed);
        var lastB = Capture(tf, Other, HookPoint.ResidPost(L - 1));
        var x = embA.Select((row, t) => row.Select((v, d) => v + lastB[t][d] - embB[t][d]).ToArray()).ToArray();
        Close(new ReferenceForward(m.Config, m.Weights).RunFrom(L, x), got, m.Config.Vocab);
    }

    [Fact]
    public void NoopEditorsChangeNothing()
    {
        var (m, tf) = Open("tiny-qwen2");
        using var _ = m;
        Assert.Equal(tf.Forward(Ids), tf.Forward(Ids, null, InterventionEditors.Create(InterventionSpec.Noop, 0, m.Config.Layers - 1)));
    }
}

public class ResidualPatchingTests
{
    /// <summary>
    /// Patching the residual stream itself (`--component resid`) hands the donor's stream to every later block at
    /// every position, so the output is exactly the donor's clean output, whichever segment is patched: the reason
    /// the default resample patches the segment's own writes (attn.out / mlp.out) instead.
    /// </summary>
    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 2)]
    public void ResidPatchingGivesTheDonorsLogits(int first, int last)
    {
        using var m = Mspgt.Loading.ModelLoader.Load(TestData.Path("fixtures", "tiny-qwen3"), loadTokenizer: false);
        var tf = new Mspgt.Models.Transformer(m.Config, m.Weights);
        int[] doc = [5, 17, 200, 33, 41, 8];
        int[] donorIds = [9, 120, 7, 250, 64, 3, 11];
        var donor = Mspgt.Interventions.DonorActivations.Capture(tf, donorIds, first, last);
        var spec = new Mspgt.Interventions.InterventionSpec(Mspgt.Interventions.InterventionKind.Resample, Mspgt.Interventions.InterventionComponent.ResidPost);
        var got = tf.Forward(doc, null, Mspgt.Interventions.InterventionEditors.Create(spec, first, last, donor: donor));
        var want = tf.Forward(donorIds).Take(doc.Length * m.Config.Vocab).ToArray();
        Golden.Close(want.Select(v => (double)v).ToArray(), got.Select(v => (double)v).ToArray(), "logits", 1e-5, 1e-5);
        Assert.Contains(Mspgt.Interventions.InterventionSpec.Expand(["resample", "zero"], ["resid", "attn"], [0.5]),
            s => s.Kind == Mspgt.Interventions.InterventionKind.Resample && s.Component == Mspgt.Interventions.InterventionComponent.ResidPost);
        Assert.DoesNotContain(Mspgt.Interventions.InterventionSpec.Expand(["zero"], ["resid", "attn"], [0.5]),
            s => s.Component == Mspgt.Interventions.InterventionComponent.ResidPost);
    }
}
