using Mspgt.Models;

namespace Mspgt.Tests.Models;

/// <summary>
/// <see cref="Rope.Rotate"/> against its definition written out pair by pair: for rotate-half, (a, b) = (v[i],
/// v[i + hd/2]) becomes (a·cos − b·sin, b·cos + a·sin), each product rounded to float before the sum (no fused
/// multiply-add), and the inverse uses −sin. Head sizes with and without a remainder past the 8-pair vector steps.
/// </summary>
public class RopeTests
{
    [Theory]
    [InlineData(64, false)]
    [InlineData(64, true)]
    [InlineData(20, false)]
    [InlineData(6, true)]
    [InlineData(128, false)]
    public void RotateHalfIsTheDefinitionBitForBit(int hd, bool inverse)
    {
        const int tokens = 5, heads = 3;
        int half = hd / 2;
        var rng = new Random(hd);
        var x = Enumerable.Range(0, tokens * heads * hd).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var angle = Enumerable.Range(0, tokens * half).Select(_ => rng.NextDouble() * 6).ToArray();
        var cos = angle.Select(a => (float)Math.Cos(a)).ToArray();
        var sin = angle.Select(a => (float)Math.Sin(a)).ToArray();
        var want = (float[])x.Clone();
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++)
                {
                    int ia = (t * heads + h) * hd + i, ib = ia + half;
                    float a = x[ia], b = x[ib], c = cos[t * half + i], s = inverse ? -sin[t * half + i] : sin[t * half + i];
                    float ac = a * c, bs = b * s, bc = b * c, as_ = a * s;
                    want[ia] = ac - bs;
                    want[ib] = bc + as_;
                }
        Rope.Rotate(x, tokens, heads, hd, cos, sin, RopeForm.RotateHalf, inverse);
        Assert.Equal(want, x);
    }

    /// <summary>The tables a forward pass keeps (grown by doubling as positions are asked for) hold exactly what
    /// <see cref="Rope.Tables"/> computes for the same positions, whatever order the positions are asked in.</summary>
    [Fact]
    public void KeptTablesAreTheComputedOnesBitForBit()
    {
        var c = new ModelConfig
        {
            Architecture = Architecture.Llama, Dim = 64, Layers = 1, Heads = 2, KvHeads = 2, HeadDim = 32, Ffn = 64,
            Vocab = 10, MaxSeq = 300, NormEps = 1e-5f, RopeTheta = 10000f,
        };
        var rope = new Rope(c, null);
        foreach (var (start, tokens) in new[] { (0, 7), (5, 1), (7, 40), (0, 300), (299, 1), (3, 120) })
        {
            var (cos, sin) = rope.Tables(start, tokens);
            var (keptCos, keptSin) = rope.KeptTables(start, tokens);
            Assert.Equal(cos, keptCos.ToArray());
            Assert.Equal(sin, keptSin.ToArray());
        }
    }
}
