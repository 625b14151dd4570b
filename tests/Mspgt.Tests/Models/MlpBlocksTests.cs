using Mspgt.Checkpoints;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Models;

/// <summary>
/// A prefill longer than <see cref="Transformer.MlpTokens"/> runs its MLP in blocks of tokens; a hook on mlp_post
/// (which must see the hidden rows whole) makes one block. Both must give the same logits and residual streams bit
/// for bit, quantized or not, and a pass with a cache after a blocked prefill must continue it exactly.
/// </summary>
public class MlpBlocksTests
{
    private static ModelConfig Config() => KeptBuffersTests.Config() with { MaxSeq = 1024 };   // 2 layers, a 300-entry vocabulary

    private static int[] Ids(int n) => Enumerable.Range(0, n).Select(i => (i * 37 + 5) % 300).ToArray();

    /// <summary>Logits and the last block's output, with observers on every layer's mlp_post when <paramref name="whole"/>.</summary>
    private static (float[] Logits, float[] Residual) Pass(Transformer tf, int[] ids, bool whole)
    {
        var hooks = new Hooks();
        float[]? resid = null;
        hooks.Observe(HookPoint.ResidPost(tf.Config.Layers - 1), t => resid = t.Data.ToArray());
        if (whole)
            for (int l = 0; l < tf.Config.Layers; l++) hooks.Observe(HookPoint.MlpPost(l), t => Assert.Equal(ids.Length * tf.Config.Ffn, t.Data.Length));
        return (tf.Forward(ids, null, hooks, LogitRows.All), resid!);
    }

    [Theory]
    [InlineData(257, "F32")]    // two blocks of 128 and 129
    [InlineData(700, "F32")]    // three blocks
    [InlineData(700, "Q8_0")]
    [InlineData(256, "BF16")]   // one block: nothing changes
    public void BlocksGiveTheWholePassBitForBit(int tokens, string type)
    {
        using var m = SyntheticModel.Build(Config(), seed: 9, weightType: Enum.Parse<TensorType>(type));
        var tf = new Transformer(m.Config, m.Weights);
        Assert.Equal((tokens + 255) / 256, Transformer.MlpChunks(tokens));
        var blocked = Pass(tf, Ids(tokens), whole: false);
        var whole = Pass(new Transformer(m.Config, m.Weights), Ids(tokens), whole: true);
        Assert.Equal(whole.Logits, blocked.Logits);
        Assert.Equal(whole.Residual, blocked.Residual);
    }

    [Fact]
    public void ACachedPassContinuesABlockedPrefillExactly()
    {
        using var m = SyntheticModel.Build(Config(), seed: 10, weightType: TensorType.Q8_0);
        var ids = Ids(600);
        float[] Continue(bool whole)
        {
            var tf = new Transformer(m.Config, m.Weights);
            var cache = new KvCache(m.Config, 600);
            var hooks = new Hooks();
            if (whole)
                for (int l = 0; l < m.Config.Layers; l++) hooks.Observe(HookPoint.MlpPost(l), _ => { });
            tf.Forward(ids.AsSpan(0, 520), cache, hooks, LogitRows.None);   // 3 blocks unless hooked
            return tf.Forward(ids.AsSpan(520), cache, null, LogitRows.All);
        }
        Assert.Equal(Continue(whole: true), Continue(whole: false));
    }
}
