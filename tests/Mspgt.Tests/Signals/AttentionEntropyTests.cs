using Mspgt.Signals;

namespace Mspgt.Tests.Signals;

/// <summary>The streaming attention observers on patterns with closed-form entropy and distance.</summary>
public class AttentionEntropyTests
{
    /// <summary>[heads, T, keys] with query t (absolute position start + t) uniform over its visible keys.</summary>
    private static float[] Uniform(int heads, int T, int start)
    {
        int keys = start + T;
        var p = new float[heads * T * keys];
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < T; t++)
                for (int j = 0; j <= start + t; j++) p[(h * T + t) * keys + j] = 1f / (start + t + 1);
        return p;
    }

    [Theory]
    [InlineData(0, 37)]
    [InlineData(5, 19)] // decoding after cached positions; rows of 6..24 keys (vector body and scalar tail)
    public void UniformRowsHaveLogNEntropyAndHalfPositionDistance(int start, int T)
    {
        var e = new AttentionEntropy();
        var d = new AttentionDistance();
        e.Add(Uniform(2, T, start), 2, T, start + T, start);
        d.Add(Uniform(2, T, start), 2, T, start + T, start);
        double wantE = 0, wantNorm = 0, wantD = 0;
        for (int t = 0; t < T; t++)
        {
            int n = start + t + 1;
            float p = 1f / n; // the float the pattern holds
            wantE += -n * (double)p * Math.Log(p);
            wantNorm += n > 1 ? -n * (double)p * Math.Log(p) / Math.Log(n) : 0;
            wantD += (double)p * n * (n - 1) / 2; // Σ_k p·(pos − k) with pos = n − 1
        }
        Assert.Equal(2 * T, e.Count);
        Assert.Equal(wantE / T, e.Mean, 1e-12);
        Assert.Equal(wantNorm / T, e.MeanNormalised, 1e-12);
        Assert.Equal(wantD / T, d.Mean, 1e-9);
        Assert.True(Math.Abs(e.Mean - Enumerable.Range(start + 1, T).Average(n => Math.Log(n))) < 1e-5);
    }

    [Fact]
    public void OneHotRowsHaveZeroEntropyAndTheirOffsetAsDistance()
    {
        int T = 20, keys = 20;
        var p = new float[T * keys];
        for (int t = 0; t < T; t++) p[t * keys + t / 2] = 1f; // query t attends to key t/2
        var e = new AttentionEntropy();
        var d = new AttentionDistance();
        e.Add(p, 1, T, keys, 0);
        d.Add(p, 1, T, keys, 0);
        Assert.Equal(0.0, e.Mean);
        Assert.Equal(0.0, e.MeanNormalised);
        Assert.Equal(Enumerable.Range(0, T).Average(t => t - t / 2), d.Mean, 1e-12);
    }

    [Fact]
    public void VectorisedRowEntropyMatchesScalarSum()
    {
        var rng = new Random(3);
        foreach (int n in new[] { 1, 7, 8, 9, 64, 203 })
        {
            var row = new float[n];
            double s = 0;
            for (int i = 0; i < n; i++) { row[i] = rng.Next(4) == 0 ? 0f : (float)rng.NextDouble(); s += row[i]; }
            for (int i = 0; i < n; i++) row[i] = (float)(row[i] / Math.Max(s, 1e-30));
            double want = 0;
            foreach (float v in row) if (v > 0) want -= v * Math.Log(v);
            Assert.Equal(want, AttentionEntropy.Entropy(row), 1e-14);
        }
    }

    /// <summary>
    /// The 8-lane entropy gives the 4-lane path's bits (so a machine with AVX-512 and one without report the same
    /// values), on rows of every length through two vector steps and with zeros, tiny and large probabilities; where
    /// this machine has no 512-bit vectors both run the same path and the check is the scalar one above.
    /// </summary>
    [Fact]
    public void WideRowEntropyHasTheBitsOfTheFourLanePath()
    {
        var rng = new Random(5);
        for (int n = 1; n <= 40; n++)
            for (int trial = 0; trial < 20; trial++)
            {
                var row = new float[n];
                for (int i = 0; i < n; i++)
                    row[i] = rng.Next(5) switch { 0 => 0f, 1 => (float)(rng.NextDouble() * 1e-30), 2 => 1f, _ => (float)rng.NextDouble() };
                double narrow = Mspgt.Numerics.AttentionRows.Entropy256(row), wide = Mspgt.Numerics.AttentionRows.Entropy512(row);
                Assert.Equal(BitConverter.DoubleToInt64Bits(narrow), BitConverter.DoubleToInt64Bits(wide));
            }
    }

    [Fact]
    public void VectorisedRowDistanceMatchesScalarSum()
    {
        var rng = new Random(4);
        foreach (int n in new[] { 1, 7, 8, 9, 16, 64, 203, 1000 })
        {
            var row = new float[n + 5]; // longer than the query sees: keys past pos are not read
            double s = 0;
            for (int i = 0; i < n; i++) { row[i] = rng.Next(4) == 0 ? 0f : (float)rng.NextDouble(); s += row[i]; }
            for (int i = 0; i < n; i++) row[i] = (float)(row[i] / Math.Max(s, 1e-30));
            for (int i = n; i < row.Length; i++) row[i] = 1000f;
            int pos = n - 1;
            double want = 0;
            for (int k = 0; k <= pos; k++) want += row[k] * (double)(pos - k);
            double got = Mspgt.Numerics.AttentionRows.Distance(row, pos);
            Assert.Equal(want, got, Math.Max(1e-14, 1e-14 * Math.Abs(want)));
        }
    }
}
