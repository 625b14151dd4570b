using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The GGUF writer's quantisers against the readers' dequantisers: values come back within the format's rounding
/// error (half a step of the block's stored scale), exactly where the block can represent them, and the packed
/// Q4_K scales and mins decode to the codes that were chosen.
/// </summary>
public class BlockQuantizerTests
{
    private static float[] Random(int n, int seed, float scale)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale * (1 + i % 7);
        return x;
    }

    [Fact]
    public void Q8_0RoundTripsWithinHalfAStep()
    {
        var x = Random(32 * 40, 1, 0.02f);
        x[5] = 0; x[40] = -x[41];
        Array.Fill(x, 0f, 64, 32); // an all-zero block: d = 0, every value back as 0
        var q = new byte[40 * QuantBlocks.Q8_0BlockBytes];
        BlockQuantizer.QuantizeQ8_0(x, q);
        var y = new float[x.Length];
        QuantBlocks.DequantizeQ8_0(q, y);
        for (int b = 0; b < 40; b++)
        {
            float d = (float)BitConverter.UInt16BitsToHalf((ushort)(q[b * 34] | (q[b * 34 + 1] << 8)));
            float amax = x.AsSpan(32 * b, 32).ToArray().Max(MathF.Abs);
            Assert.Equal(amax / 127f, d, amax / 127f * 1e-3f + 1e-12f); // fp16 rounding of the scale only
            for (int j = 32 * b; j < 32 * b + 32; j++)
                Assert.True(MathF.Abs(x[j] - y[j]) <= 0.5f * d + 127 * MathF.Abs(amax / 127f - d) + 1e-9f, $"value {j}: {x[j]} came back {y[j]}");
        }
        Assert.All(y.AsSpan(64, 32).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Q8_0KeepsRepresentableValuesExactly()
    {
        var x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = (j * 9 % 255 - 127) * 0.0078125f; // q·d with d = 2⁻⁷ and |q| ≤ 127
        x[0] = 127 * 0.0078125f;
        var q = new byte[QuantBlocks.Q8_0BlockBytes];
        BlockQuantizer.QuantizeQ8_0(x, q);
        var y = new float[32];
        QuantBlocks.DequantizeQ8_0Scalar(q, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public unsafe void Q4_KRoundTripsWithinItsCodedSteps()
    {
        const int blocks = 12;
        var x = Random(256 * blocks, 2, 0.05f);
        for (int j = 0; j < 32; j++) x[256 + 32 + j] = 0.01f + j * 1e-3f; // a sub-block with no negative value: min 0
        Array.Fill(x, 0f, 512, 256);                                       // an all-zero super-block
        var q = new byte[blocks * QuantBlocks.Q4_KBlockBytes];
        BlockQuantizer.QuantizeQ4_K(x, q);
        var y = new float[x.Length];
        var ys = new float[x.Length];
        QuantBlocks.DequantizeQ4_K(q, y);
        QuantBlocks.DequantizeQ4_KScalar(q, ys);
        Assert.Equal(ys, y);
        double sumErr = 0, sumStep = 0;
        for (int b = 0; b < blocks; b++)
        {
            float d = (float)BitConverter.UInt16BitsToHalf((ushort)(q[b * 144] | (q[b * 144 + 1] << 8)));
            float dmin = (float)BitConverter.UInt16BitsToHalf((ushort)(q[b * 144 + 2] | (q[b * 144 + 3] << 8)));
            for (int s = 0; s < 8; s++)
            {
                var xs = x.AsSpan(256 * b + 32 * s, 32).ToArray();
                float lo = Math.Min(0, xs.Min()), hi = Math.Max(0, xs.Max());
                int sc, m;
                fixed (byte* p = &q[b * 144 + 4]) QuantBlocks.ScaleMinK4(s, p, out sc, out m);
                // the 6-bit codes are the nearest to the sub-block's own scale and min
                Assert.True(MathF.Abs(sc * d - (hi - lo) / 15f) <= 0.5f * d + 1e-6f, $"block {b}.{s}: scale code {sc}");
                Assert.True(MathF.Abs(m * dmin + lo) <= 0.5f * dmin + 1e-6f, $"block {b}.{s}: min code {m}");
                // every value within half a coded step, plus what coding the scale and min moved the grid by
                float step = sc * d, bound = 0.5f * step + 0.5f * dmin + 15 * 0.5f * d + 1e-6f;
                for (int j = 0; j < 32; j++)
                {
                    int i = 256 * b + 32 * s + j;
                    Assert.True(MathF.Abs(x[i] - y[i]) <= bound, $"value {i}: {x[i]} came back {y[i]} (bound {bound})");
                    sumErr += Math.Abs(x[i] - y[i]);
                    sumStep += step;
                }
            }
        }
        Assert.All(y.AsSpan(512, 256).ToArray(), v => Assert.Equal(0f, v));
        Assert.True(sumErr <= 0.35 * sumStep, $"mean error {sumErr / x.Length} for mean step {sumStep / x.Length}"); // uniform rounding: step/4
    }

    [Fact]
    public void RowsThatAreNotWholeBlocksAreRefused()
    {
        Assert.Throws<ArgumentException>(() => BlockQuantizer.QuantizeQ8_0(new float[48], new byte[68]));
        Assert.Throws<ArgumentException>(() => BlockQuantizer.QuantizeQ4_K(new float[256], new byte[100]));
    }
}
