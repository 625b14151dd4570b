using Mspgt.Interventions.Outcomes;

namespace Mspgt.Tests.Interventions;

public class NextTokenDivergenceTests
{
    [Fact]
    public void KlOfIdenticalOrShiftedLogitsIsZero()
    {
        float[] x = [1.5f, -2f, 0.25f, 7f];
        Assert.Equal(0.0, NextTokenDivergence.KlDivergence(x, x));
        Assert.InRange(NextTokenDivergence.KlDivergence(x, x.Select(v => v + 100f).ToArray()), 0, 1e-12);
    }

    [Fact]
    public void KlOfKnownDistributions()
    {
        // P = (½, ½), Q = (¼, ¾): ½·ln 2 + ½·ln(2/3) = ½·ln(4/3).
        float[] p = [MathF.Log(0.5f), MathF.Log(0.5f)], q = [MathF.Log(0.25f), MathF.Log(0.75f)];
        Assert.Equal(0.5 * Math.Log(4.0 / 3), NextTokenDivergence.KlDivergence(p, q), 6);
        // Logits exact in float: P uniform, Q = (1, e)/(1 + e).
        double q0 = 1 / (1 + Math.E), q1 = Math.E / (1 + Math.E);
        Assert.Equal(0.5 * Math.Log(0.5 / q0) + 0.5 * Math.Log(0.5 / q1), NextTokenDivergence.KlDivergence([0f, 0f], [0f, 1f]), 12);
        // KL is not symmetric: KL(Q‖P) = q0 ln(2 q0) + q1 ln(2 q1).
        Assert.Equal(q0 * Math.Log(2 * q0) + q1 * Math.Log(2 * q1), NextTokenDivergence.KlDivergence([0f, 1f], [0f, 0f]), 12);
    }

    [Fact]
    public void KlIsStableForHugeLogits()
    {
        // P ≈ (1, e^−1000), Q ≈ (e^−1000, 1): KL = 1000 nats; a naive exp would overflow.
        Assert.Equal(1000.0, NextTokenDivergence.KlDivergence([1000f, 0f], [0f, 1000f]), 9);
    }

    [Fact]
    public void NllAndDeltaNll()
    {
        Assert.Equal(Math.Log(4), NextTokenDivergence.Nll([0f, 0f, 0f, 0f], 2), 12);
        Assert.Equal(Math.Log((1 + Math.E) / 2), NextTokenDivergence.DeltaNll([0f, 0f], [0f, 1f], 0), 12);
        Assert.Throws<MspgtException>(() => NextTokenDivergence.Nll([0f, 0f], 2));
        Assert.Throws<MspgtException>(() => NextTokenDivergence.Nll([0f, 0f], -1));
    }

    [Fact]
    public void Top1Agreement()
    {
        Assert.True(NextTokenDivergence.Top1Agreement([1f, 3f, 2f], [0f, 5f, 1f]));
        Assert.False(NextTokenDivergence.Top1Agreement([1f, 3f, 2f], [4f, 0f, 0f]));
        Assert.Equal(0, NextTokenDivergence.Argmax([2f, 2f]));
    }

    [Fact]
    public void CompareMatchesTheSingleMetrics()
    {
        float[] a = [0.3f, -1f, 2f, 0.5f], b = [1f, 0.2f, 1.5f, -0.7f];
        var c = NextTokenDivergence.Compare(a, b, 3);
        Assert.Equal(NextTokenDivergence.KlDivergence(a, b), c.Kl, 14);
        Assert.Equal(NextTokenDivergence.DeltaNll(a, b, 3), c.DeltaNll!.Value, 12);
        Assert.True(c.Top1Agrees);
        Assert.Null(NextTokenDivergence.Compare(a, b, null).DeltaNll);
        Assert.Throws<MspgtException>(() => NextTokenDivergence.Compare(a, b, 4));
    }

    [Fact]
    public void MeasureRowsAveragesOverPositions()
    {
        // Row 0: identical (KL 0, ΔNLL 0, agree). Row 1: clean uniform, intervened (0, 1): KL as above,
        // ΔNLL of target 0 = ln((1+e)/2), argmax 0 vs 1 disagree.
        float[] clean = [0f, 1f, 0f, 0f], intervened = [0f, 1f, 0f, 1f];
        double q0 = 1 / (1 + Math.E), q1 = Math.E / (1 + Math.E);
        double kl1 = 0.5 * Math.Log(0.5 / q0) + 0.5 * Math.Log(0.5 / q1);
        var m = NextTokenDivergence.MeasureRows(clean, intervened, 2, [1, 0]);
        Assert.Equal(kl1 / 2, m["brittleness_kl"]!.Value, 12);
        Assert.Equal(Math.Log((1 + Math.E) / 2) / 2, m["delta_nll"]!.Value, 12);
        Assert.Equal(0.5, m["top1_agreement"]);
        Assert.Null(NextTokenDivergence.MeasureRows(clean, intervened, 2, [])["delta_nll"]);
        Assert.Throws<MspgtException>(() => NextTokenDivergence.MeasureRows(clean, intervened, 3, []));
        Assert.Throws<MspgtException>(() => NextTokenDivergence.MeasureRows(clean, intervened, 2, [0]));
    }

    [Fact]
    public void BadLogitsThrow()
    {
        Assert.Throws<MspgtException>(() => NextTokenDivergence.KlDivergence([0f, float.NaN], [0f, 0f]));
        Assert.Throws<MspgtException>(() => NextTokenDivergence.KlDivergence([0f, float.NegativeInfinity], [0f, 0f]));
        Assert.Throws<MspgtException>(() => NextTokenDivergence.KlDivergence([0f, 0f], [0f, 0f, 0f]));
        Assert.Throws<MspgtException>(() => NextTokenDivergence.KlDivergence([], []));
    }

    [Fact]
    public void LogSoftmaxSumsToOne()
    {
        var l = NextTokenDivergence.LogSoftmax([1f, 2f, 3f]);
        Assert.Equal(1.0, l.Sum(Math.Exp), 12);
        Assert.Equal(1 - Math.Log(Math.E + Math.E * Math.E + Math.E * Math.E * Math.E), l[0], 12);
    }
}
