using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Models;

public class HookTests
{
    private static readonly int[] Ids = [5, 17, 200, 33, 41, 8, 99, 250, 3, 77];

    private static (LoadedModel, Transformer) Open(string fixture)
    {
        var m = ModelLoader.Load(TestData.Path("fixtures", fixture), loadTokenizer: false);
        return (m, new Transformer(m.Config, m.Weights));
    }

    private static void Close(double[][] want, float[] got, int vocab)
    {
        for (int t = 0; t < want.Length; t++)
            Golden.Close(want[t], got.Skip(t * vocab).Take(vocab).Select(v => (double)v).ToArray(), $"logits row {t}");
    }

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-qwen3")]
    public void ReferenceForwardMatchesEngine(string fixture)
    {
        var (m, tf) = Open(fixture);
        using var _ = m;
        var reference = new ReferenceForward(m.Config, m.Weights);
        Close(reference.RunFrom(0, reference.Embed(Ids)), tf.Forward(Ids), m.Config.Vocab);
    }

    [Fact]
    public void EditingResidPostChangesDownstreamExactlyAsRecomputation()
    {
        var (m, tf) = Open("tiny-qwen2");
        using var _ = m;
        var cached = tf.RunWithCache(Ids, [HookPoint.ResidPost(1)], null, LogitRows.None).Cache[HookPoint.ResidPost(1)];
        float[][] clean = Enumerable.Range(0, cached.Shape[0]).Select(r => cached.Row(r).ToArray()).ToArray();
        var edited = tf.Forward(Ids, null, new Hooks().Edit(HookPoint.ResidPost(1), t =>
        {
            for (int r = 0; r < t.Shape[0]; r++) t.Row(r)[r % t.Shape[1]] += 3f;
        }));
        var x = clean.Select((row, r) => row.Select((v, d) => (double)v + (d == r % row.Length ? 3.0 : 0.0)).ToArray()).ToArray();
        var want = new ReferenceForward(m.Config, m.Weights).RunFrom(2, x);
        Close(want, edited, m.Config.Vocab);
        Assert.NotEqual(tf.Forward(Ids), edited);
    }

    [Fact]
    public void ZeroingAttentionOutputMatchesRecomputation()
    {
        var (m, tf) = Open("tiny-qwen3");
        using var _ = m;
        var got = tf.Forward(Ids, null, new Hooks().Edit(HookPoint.AttnOut(2), t => t.Data.Clear()));
        var r = new ReferenceForward(m.Config, m.Weights);
        r.ZeroAttnOut.Add(2);
        Close(r.RunFrom(0, r.Embed(Ids)), got, m.Config.Vocab);
    }

    [Fact]
    public void EditingAttentionPatternIsUsedByTheNextOp()
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        var got = tf.Forward(Ids, null, new Hooks().Edit(HookPoint.AttnPattern(1), t =>
        {
            int H = t.Shape[0], T = t.Shape[1], K = t.Shape[2];
            for (int h = 0; h < H; h++)
                for (int q = 0; q < T; q++)
                    for (int k = 0; k < K; k++)
                        t.Data[(h * T + q) * K + k] = k <= q ? 1f / (q + 1) : 0f;
        }));
        var r = new ReferenceForward(m.Config, m.Weights);
        r.UniformPattern.Add(1);
        Close(r.RunFrom(0, r.Embed(Ids)), got, m.Config.Vocab);
    }

    [Fact]
    public void SkippingEveryLayerGivesEmbeddingThroughFinalNormAndUnembedding()
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        var hooks = new Hooks();
        for (int l = 0; l < m.Config.Layers; l++)
        {
            hooks.Edit(HookPoint.AttnOut(l), t => t.Data.Clear());
            hooks.Edit(HookPoint.MlpOut(l), t => t.Data.Clear());
        }
        var got = tf.Forward(Ids, null, hooks);
        var r = new ReferenceForward(m.Config, m.Weights);
        Close(r.RunFrom(m.Config.Layers, r.Embed(Ids)), got, m.Config.Vocab);
    }

    [Fact]
    public void IncrementalDecodingWithCacheEqualsFullForward()
    {
        var (m, tf) = Open("tiny-qwen3");
        using var _ = m;
        int V = m.Config.Vocab;
        var full = tf.Forward(Ids);
        var cache = tf.NewCache(Ids.Length);
        var starts = new List<int>();
        var hooks = new Hooks().Observe(HookPoint.ResidPost(3), t => starts.Add(t.StartPosition));
        var first = tf.Forward(Ids.AsSpan(0, 4), cache, hooks);
        for (int t = 4; t < Ids.Length; t++)
        {
            var step = tf.Forward(Ids.AsSpan(t, 1), cache, hooks, LogitRows.Last);
            Golden.Close(full.Skip(t * V).Take(V).Select(v => (double)v).ToArray(), step.Select(v => (double)v).ToArray(), $"position {t}", 1e-5, 1e-5);
        }
        Assert.Equal([0, 4, 5, 6, 7, 8, 9], starts);
        Golden.Close(full.Take(4 * V).Select(v => (double)v).ToArray(), first.Select(v => (double)v).ToArray(), "prefill", 1e-5, 1e-5);
    }

    [Theory]
    [InlineData("blocks.0.attn.nope")]
    [InlineData("blocks.4.resid_post")]
    [InlineData("resid_post")]
    [InlineData("blocks.-1.resid_post")]
    public void UnknownHookIsAnError(string name)
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        var ex = Assert.Throws<MspgtException>(() => tf.Forward(Ids, null, new Hooks().Observe(HookPoint.Parse(name, m.Config.Layers), _ => { })));
        Assert.Contains(name, ex.Message);
    }

    [Theory]
    [InlineData("hook_embed", "embed")]
    [InlineData("blocks.3.hook_resid_pre", "blocks.3.resid_pre")]
    [InlineData("blocks.3.attn.hook_q", "blocks.3.attn.q")]
    [InlineData("blocks.3.attn.hook_k", "blocks.3.attn.k")]
    [InlineData("blocks.3.attn.hook_v", "blocks.3.attn.v")]
    [InlineData("blocks.3.attn.hook_attn_scores", "blocks.3.attn.scores")]
    [InlineData("blocks.3.attn.hook_pattern", "blocks.3.attn.pattern")]
    [InlineData("blocks.3.attn.hook_z", "blocks.3.attn.z")]
    [InlineData("blocks.3.hook_attn_out", "blocks.3.attn.out")]
    [InlineData("blocks.3.hook_resid_mid", "blocks.3.resid_mid")]
    [InlineData("blocks.3.mlp.hook_post", "blocks.3.mlp.post")]
    [InlineData("blocks.3.hook_mlp_out", "blocks.3.mlp.out")]
    [InlineData("blocks.3.hook_resid_post", "blocks.3.resid_post")]
    [InlineData("ln_final.hook_normalized", "final_norm")]
    [InlineData("logits", "logits")]
    public void TransformerLensNamesNameTheSamePoints(string lens, string mspgt)
    {
        var p = HookPoint.Parse(lens, 4);
        Assert.Equal(HookPoint.Parse(mspgt, 4), p);
        Assert.Equal(mspgt, p.Name);
        Assert.Equal(lens, p.LensName);
    }

    [Fact]
    public void FactoriesAndNamesAgree()
    {
        Assert.Equal(HookPoint.ResidPre(3), HookPoint.Parse("blocks.3.resid_pre", 4));
        Assert.Equal(HookPoint.AttnPattern(0), HookPoint.Parse("blocks.0.attn.hook_pattern", 4));
        Assert.Equal(HookPoint.Embed, HookPoint.At(HookKind.Embed, 7));
        Assert.False(HookPoint.Logits.IsPerBlock);
        Assert.Throws<ArgumentOutOfRangeException>(() => HookPoint.ResidPost(-1));
        // Observers get a read-only view; only editors may write.
        Assert.Equal(typeof(ReadOnlySpan<float>), typeof(HookTensor).GetProperty(nameof(HookTensor.Data))!.PropertyType);
        Assert.Equal(typeof(Span<float>), typeof(WritableHookTensor).GetProperty(nameof(WritableHookTensor.Data))!.PropertyType);
    }

    [Fact]
    public void RunWithCacheKeepsExactlyThePointsAskedFor()
    {
        var (m, tf) = Open("tiny-qwen3");
        using var _ = m;
        HookPoint[] points = [HookPoint.Embed, HookPoint.AttnScores(1), HookPoint.MlpPost(2), HookPoint.ResidPost(3), HookPoint.FinalNorm];
        var (logits, cache) = tf.RunWithCache(Ids, points);
        Assert.Equal(tf.Forward(Ids), logits);
        Assert.Equal(points.OrderBy(p => p.Name), cache.Points.OrderBy(p => p.Name));
        float[]? observed = null;
        tf.Forward(Ids, null, new Hooks().Observe(HookPoint.ResidPost(3), t => observed = t.Data.ToArray()));
        Assert.Equal(observed, cache[HookPoint.ResidPost(3)].Data);
        Assert.Equal([Ids.Length, m.Config.Ffn], cache[HookPoint.MlpPost(2)].Shape);
        Assert.Throws<KeyNotFoundException>(() => cache[HookPoint.ResidPre(0)]);
        Assert.False(tf.RunWithCache(Ids, [HookPoint.Logits], null, LogitRows.None).Cache.Contains(HookPoint.Logits));
    }

    [Fact]
    public void AttentionScoresAreScaledMaskedAndTheirSoftmaxIsThePattern()
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        var (logits, cache) = tf.RunWithCache(Ids, [HookPoint.AttnScores(1), HookPoint.AttnPattern(1), HookPoint.AttnQ(1), HookPoint.AttnK(1)]);
        Assert.Equal(tf.RunWithCache(Ids, [HookPoint.AttnPattern(1)]).Logits, logits);
        var scores = cache[HookPoint.AttnScores(1)];
        var pattern = cache[HookPoint.AttnPattern(1)];
        int H = m.Config.Heads, T = Ids.Length;
        Assert.Equal([H, T, T], scores.Shape);
        for (int h = 0; h < H; h++)
            for (int q = 0; q < T; q++)
            {
                var row = scores.Data.AsSpan((h * T + q) * T, T);
                Assert.All(row[(q + 1)..].ToArray(), v => Assert.Equal(float.NegativeInfinity, v));
                var live = row[..(q + 1)].ToArray().Select(v => (double)v).ToArray();
                double max = live.Max(), sum = live.Sum(v => Math.Exp(v - max));
                var want = live.Select(v => Math.Exp(v - max) / sum).ToArray();
                Golden.Close(want, pattern.Data.AsSpan((h * T + q) * T, q + 1).ToArray().Select(v => (double)v).ToArray(), $"pattern row {h},{q}", 1e-6, 1e-5);
            }
        // Editing the scores to equal values is uniform attention.
        var edited = tf.Forward(Ids, null, new Hooks().Edit(HookPoint.AttnScores(1), t => t.Data.Clear()));
        var r = new ReferenceForward(m.Config, m.Weights);
        r.UniformPattern.Add(1);
        Close(r.RunFrom(0, r.Embed(Ids)), edited, m.Config.Vocab);
    }

    [Fact]
    public void MlpPostIsTheHiddenActivationTheDownProjectionReads()
    {
        var (m, tf) = Open("tiny-qwen2");
        using var _ = m;
        var (_, cache) = tf.RunWithCache(Ids, [HookPoint.MlpPost(2), HookPoint.MlpOut(2)]);
        var down = new float[Ids.Length * m.Config.Dim];
        Mspgt.Numerics.Kernels.Linear(cache[HookPoint.MlpPost(2)].Data, Ids.Length, m.Weights.Layers[2].Down, default, down);
        Assert.Equal(cache[HookPoint.MlpOut(2)].Data, down);
        Assert.Equal(tf.Forward(Ids, null, new Hooks().Edit(HookPoint.MlpOut(2), t => t.Data.Clear())),
            tf.Forward(Ids, null, new Hooks().Edit(HookPoint.MlpPost(2), t => t.Data.Clear())));
    }

    [Fact]
    public void OutOfVocabularyAndOverlongInputsAreErrors()
    {
        var (m, tf) = Open("tiny-llama");
        using var _ = m;
        Assert.Contains("outside the vocabulary", Assert.Throws<MspgtException>(() => tf.Forward([1, 300])).Message);
        Assert.Contains("longer than the model's context", Assert.Throws<MspgtException>(() => tf.Forward(new int[257])).Message);
    }
}

public class SlidingWindowTests
{
    /// <summary>Qwen2 with use_sliding_window: each query sees only the last `sliding_window` keys.</summary>
    [Fact]
    public void Qwen2SlidingWindowIsHonoured()
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-swa").FullName;
        try
        {
            string cfg = File.ReadAllText(TestData.Path("fixtures", "tiny-qwen2", "config.json"));
            var node = System.Text.Json.Nodes.JsonNode.Parse(cfg)!.AsObject();
            node["use_sliding_window"] = true;
            node["sliding_window"] = 4;
            node["max_window_layers"] = 0;
            File.WriteAllText(Path.Combine(dir, "config.json"), node.ToJsonString());
            File.Copy(TestData.Path("fixtures", "tiny-qwen2", "model.safetensors"), Path.Combine(dir, "model.safetensors"));
            using var m = ModelLoader.Load(dir, loadTokenizer: false);
            Assert.Equal(4, m.Config.SlidingWindow);
            int[] ids = [5, 17, 200, 33, 41, 8, 99, 250, 3, 77];
            var got = new Transformer(m.Config, m.Weights).Forward(ids);
            var want = new ReferenceForward(m.Config, m.Weights) { Window = 4 };
            var wantLogits = want.RunFrom(0, want.Embed(ids));
            for (int t = 0; t < ids.Length; t++)
                Golden.Close(wantLogits[t], got.Skip(t * 300).Take(300).Select(v => (double)v).ToArray(), $"row {t}");
            // Within the window the result equals full attention; beyond it, it must differ.
            using var full = ModelLoader.Load(TestData.Path("fixtures", "tiny-qwen2"), loadTokenizer: false);
            var fl = new Transformer(full.Config, full.Weights).Forward(ids);
            Assert.Equal(fl.Take(4 * 300), got.Take(4 * 300));
            Assert.NotEqual(fl.Skip(9 * 300), got.Skip(9 * 300));
        }
        finally { Directory.Delete(dir, true); }
    }
}
