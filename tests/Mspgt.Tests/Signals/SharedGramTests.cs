using Mspgt.Numerics;
using Mspgt.Signals;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals;

/// <summary>
/// The per-document signals prepare each representation once (<see cref="CenteredGram"/>: centring, Gram matrix,
/// eigen-decomposition, PCA fit) and hand it to KSG, CKA, effective rank and TwoNN. That sharing must not change
/// what they estimate: the values equal, bit for bit, each estimator run on its own rows, for wide representations
/// (more dimensions than samples: the sample Gram) and narrow ones (the feature Gram). Between them (d ≤ n ≤ 2d) the
/// feature form gets the sample Gram as well, which TwoNN and CKA read: TwoNN's value is still its own bit for bit
/// (its candidates are re-measured exactly), and CKA's to round-off (tr(Kx Ky) instead of ‖XcᵀYc‖²).
/// </summary>
public class SharedGramTests
{
    [Theory]
    [InlineData(120, 300)]
    [InlineData(200, 24)]
    [InlineData(150, 90)]
    public void SharedPreparationGivesEachEstimatorsOwnValue(int samples, int dims)
    {
        var rng = new Random(samples + dims);
        var pre = Gaussian(samples + 1, dims, rng);
        var post = Gaussian(samples + 1, dims, rng);
        for (int i = 0; i < post.Data.Length; i++) post.Data[i] = 0.8 * pre.Data[i] + 0.6 * post.Data[i] * post.Data[i];
        var s = new SignalSettings { Seed = 4 };
        var shared = DocumentSignals.MeasureRepresentations(pre, post, s, layer: 3);
        var x = pre.SelectRows(Enumerable.Range(1, samples).ToArray());
        var y = post.SelectRows(Enumerable.Range(1, samples).ToArray());
        var ksg = new KsgMutualInformation { Neighbors = s.KsgNeighbors, Seed = s.Seed + 3 }.Estimate(x, y);
        Assert.Equal(ksg, shared.Ksg);
        bool both = dims <= samples && samples <= 2 * dims;   // feature form with the sample Gram added
        Assert.Equal(both, CenteredGram.Of(y).SampleForm == false && samples <= 2 * dims);
        if (both) Assert.Equal(LinearCka.Compute(x, y), shared.Cka, 1e-13);
        else Assert.Equal(BitConverter.DoubleToInt64Bits(LinearCka.Compute(x, y)), BitConverter.DoubleToInt64Bits(shared.Cka));
        Assert.Equal(BitConverter.DoubleToInt64Bits(EffectiveRank.Compute(y)), BitConverter.DoubleToInt64Bits(shared.EffectiveRank));
        double twonn = new TwoNnIntrinsicDimension { Seed = s.Seed + 3 }.Estimate(y).Dimension;
        Assert.Equal(BitConverter.DoubleToInt64Bits(twonn), BitConverter.DoubleToInt64Bits(shared.TwoNn));
        Assert.Equal(dims > samples, CenteredGram.Of(y).SampleForm);
    }

    /// <summary>
    /// analyze prepares its captured float rows with one float64 array, centred in place, the float rows serving as
    /// the raw values: every value is the two-array preparation's (<see cref="DocumentSignals.MeasureRepresentations(DenseMatrix, DenseMatrix, SignalSettings, int)"/>
    /// on the widened rows) bit for bit, in the sample form, the feature form with and without the added sample
    /// Gram, with position 0 in or out, and where a side is invalid (zero variance, a non-finite value), the same
    /// failure.
    /// </summary>
    [Theory]
    [InlineData(120, 300, false)]
    [InlineData(200, 24, false)]
    [InlineData(150, 90, false)]
    [InlineData(150, 90, true)]
    public void FloatRowsArePreparedAsTheirWidenedMatrix(int samples, int dims, bool includeBos)
    {
        var rng = new Random(samples + dims + 1);
        int T = samples + 1;
        var pre = Gaussian(T, dims, rng);
        var post = Gaussian(T, dims, rng);
        for (int i = 0; i < post.Data.Length; i++) post.Data[i] = 0.8 * pre.Data[i] + 0.6 * post.Data[i] * post.Data[i];
        float[] F(DenseMatrix m) => m.Data.Select(v => (float)v).ToArray();
        var (pf, qf) = (F(pre), F(post));
        var s = new SignalSettings { Seed = 4, IncludeBos = includeBos };
        var expected = DocumentSignals.MeasureRepresentations(DenseMatrix.FromFloats(pf, T, dims), DenseMatrix.FromFloats(qf, T, dims), s, layer: 3);
        var got = DocumentSignals.MeasureRepresentations(pf, qf, T, dims, s, layer: 3);
        Assert.Equal(expected.Ksg, got.Ksg);
        Assert.True(BitConverter.DoubleToInt64Bits(expected.Cka) == BitConverter.DoubleToInt64Bits(got.Cka), $"cka {expected.Cka:R} {got.Cka:R}");
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.EffectiveRank), BitConverter.DoubleToInt64Bits(got.EffectiveRank));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.TwoNn), BitConverter.DoubleToInt64Bits(got.TwoNn));

        // Invalid sides: every row of the output the same (zero variance), then one non-finite value in the input.
        var flat = (float[])qf.Clone();
        for (int t = 0; t < T; t++) Array.Copy(qf, 0, flat, t * dims, dims);
        var broken = (float[])pf.Clone();
        broken[5 * dims + 2] = float.NaN;
        foreach (var (a, b) in new[] { (pf, flat), (broken, qf) })
        {
            var want = Assert.Throws<MspgtException>(() => DocumentSignals.MeasureRepresentations(DenseMatrix.FromFloats(a, T, dims), DenseMatrix.FromFloats(b, T, dims), s, 3));
            var e = Assert.Throws<MspgtException>(() => DocumentSignals.MeasureRepresentations(a, b, T, dims, s, 3));
            Assert.Equal(want.Message, e.Message);
        }
    }

    [Fact]
    public void EigenvaluesAreTheSameWithOrWithoutTheVectors()
    {
        var g = CenteredGram.Of(Gaussian(60, 90, new Random(2)));
        var alone = CenteredGram.Of(Gaussian(60, 90, new Random(2)));
        Assert.Equal(alone.Eigenvalues, g.Eigen.Values);
        Assert.Equal(60, g.Gram.Rows);
    }

    [Fact]
    public void TheFeatureFormGetsTheSampleGramOnRequest()
    {
        var x = Gaussian(70, 40, new Random(5));
        var g = CenteredGram.Of(x);
        Assert.False(g.SampleForm);
        Assert.Null(g.SampleGram);
        g.DropCentered();
        Assert.NotNull(g.Centered);   // nothing else would serve TwoNN or CKA yet
        g.AddSampleGram();
        Assert.Equal(LinearAlgebra.SampleGram(g.Centered!).Data, g.SampleGram!.Data);
        var cka = LinearCka.Compute(g, CenteredGram.Of(x));   // one side with it, one without: the feature form
        Assert.Equal(1.0, cka, 1e-12);
        g.DropCentered();
        Assert.Null(g.Centered);
        // Samples never held together (pooled slabs) have no centred rows to form it from.
        var pooled = CenteredGram.FromFeatureGram(70, g.Mean, g.Gram);
        Assert.Throws<InvalidOperationException>(pooled.AddSampleGram);

        var wide = CenteredGram.Of(Gaussian(30, 40, new Random(6)));
        Assert.True(wide.SampleForm);
        Assert.Same(wide.Gram, wide.SampleGram);
        wide.AddSampleGram();   // nothing to add in the sample form
        Assert.Same(wide.Gram, wide.SampleGram);
    }
}
