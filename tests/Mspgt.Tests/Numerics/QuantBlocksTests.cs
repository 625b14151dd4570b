using Mspgt.Checkpoints;
using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// Hand-built ggml blocks (bytes written per the layouts in shared/fixtures/README.md) with hand-computed values.
/// Every case runs both the Vector256 path and the scalar path.
/// </summary>
public class QuantBlocksTests
{
    private delegate void Dequant(ReadOnlySpan<byte> src, Span<float> dst);

    private static float[] Run(Dequant f, byte[] src, int n)
    {
        var y = new float[n];
        f(src, y);
        return y;
    }

    private static void Both(Dequant vector, Dequant scalar, byte[] src, int n, Action<float[]> check)
    {
        check(Run(vector, src, n));
        check(Run(scalar, src, n));
    }

    [Fact]
    public void Q8_0_HandBuiltBlocks()
    {
        // block 0: d = 0.25 (fp16 0x3400), q = -128, -1, 0, 1, 127, then 2..28
        // block 1: d = -3.0 (fp16 0xC200), q = 5 then zeros
        var b = new byte[68];
        b[0] = 0x00; b[1] = 0x34;
        sbyte[] head = [-128, -1, 0, 1, 127];
        for (int i = 0; i < 5; i++) b[2 + i] = (byte)head[i];
        for (int i = 5; i < 32; i++) b[2 + i] = (byte)(i - 3);
        b[34] = 0x00; b[35] = 0xC2; b[36] = 5;
        Both(QuantBlocks.DequantizeQ8_0, QuantBlocks.DequantizeQ8_0Scalar, b, 64, y =>
        {
            Assert.Equal(-32f, y[0]);
            Assert.Equal(-0.25f, y[1]);
            Assert.Equal(0f, y[2]);
            Assert.Equal(0.25f, y[3]);
            Assert.Equal(31.75f, y[4]);
            Assert.Equal(0.5f, y[5]);    // q = 2
            Assert.Equal(7f, y[31]);     // q = 28
            Assert.Equal(-15f, y[32]);
            Assert.Equal(0f, y[33]);
            Assert.Equal(0f, y[63]);
        });
    }

    [Fact]
    public void Q4_0_HandBuiltBlock_LowNibbleFirstHalfHighNibbleSecondHalf()
    {
        // d = 2.0 (fp16 0x4000); byte 0 = 0x0F: value 0 = (15-8)*2 = 14, value 16 = (0-8)*2 = -16
        // byte 1 = 0x8A: value 1 = (10-8)*2 = 4, value 17 = (8-8)*2 = 0; other bytes 0x88 → 0
        var b = new byte[18];
        b[0] = 0x00; b[1] = 0x40;
        for (int j = 0; j < 16; j++) b[2 + j] = 0x88;
        b[2] = 0x0F; b[3] = 0x8A; b[17] = 0x3C; // byte 15: value 15 = (12-8)*2 = 8, value 31 = (3-8)*2 = -10
        Both(QuantBlocks.DequantizeQ4_0, QuantBlocks.DequantizeQ4_0Scalar, b, 32, y =>
        {
            Assert.Equal(14f, y[0]);
            Assert.Equal(4f, y[1]);
            Assert.Equal(0f, y[2]);
            Assert.Equal(8f, y[15]);
            Assert.Equal(-16f, y[16]);
            Assert.Equal(0f, y[17]);
            Assert.Equal(-10f, y[31]);
        });
    }

    // Q4_K test block: d = 1.0, dmin = 0.5, sub-block scales sc = [1,2,3,4,17,33,50,63], mins m = [0,1,2,3,20,40,63,5].
    // The 12 packed bytes were worked out by hand from get_scale_min_k4:
    //   s[0..3] = sc[0..3] | (sc[4..7] >> 4) << 6  = 41 82 C3 C4
    //   s[4..7] = m[0..3]  | (m[4..7] >> 4) << 6   = 40 81 C2 03
    //   s[8..11] = (sc[4..7] & 15) | (m[4..7] & 15) << 4 = 41 81 F2 5F
    private static readonly byte[] Q4KScales = [0x41, 0x82, 0xC3, 0xC4, 0x40, 0x81, 0xC2, 0x03, 0x41, 0x81, 0xF2, 0x5F];

    private static int Q4KNibble(int sub, int l) => (sub * 3 + l) % 16;

    private static byte[] Q4KBlock()
    {
        var b = new byte[144];
        b[0] = 0x00; b[1] = 0x3C; // d = 1.0
        b[2] = 0x00; b[3] = 0x38; // dmin = 0.5
        Q4KScales.CopyTo(b, 4);
        // byte 32c + l: low nibble = value l of sub-block 2c, high nibble = value l of sub-block 2c+1
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[16 + 32 * c + l] = (byte)(Q4KNibble(2 * c, l) | Q4KNibble(2 * c + 1, l) << 4);
        return b;
    }

    [Fact]
    public void Q4_K_HandBuiltBlock_IncludingHighSubBlockScalePacking()
    {
        Both(QuantBlocks.DequantizeQ4_K, QuantBlocks.DequantizeQ4_KScalar, Q4KBlock(), 256, y =>
        {
            Assert.Equal(0f, y[0]);                 // sub 0, q 0: 1*1*0 - 0.5*0
            Assert.Equal(9.5f, y[32 + 2]);          // sub 1, l 2, q 5: 2*5 - 0.5*1
            Assert.Equal(46f, y[5 * 32 + 3]);       // sub 5 (j>=4), q 2: 33*2 - 0.5*40
            Assert.Equal(118.5f, y[6 * 32 + 1]);    // sub 6, q 3: 50*3 - 0.5*63
            Assert.Equal(249.5f, y[7 * 32 + 31]);   // sub 7, q 4: 63*4 - 0.5*5
            Assert.Equal(-10f, y[4 * 32 + 4]);      // sub 4 (j>=4), q 0: 17*0 - 0.5*20
            Assert.Equal(7f, y[4 * 32 + 5]);        // sub 4, q 1: 17*1 - 0.5*20
        });
    }

    [Fact]
    public void Q4_K_EveryValueMatchesTheFormula()
    {
        int[] sc = [1, 2, 3, 4, 17, 33, 50, 63];
        int[] m = [0, 1, 2, 3, 20, 40, 63, 5];
        Both(QuantBlocks.DequantizeQ4_K, QuantBlocks.DequantizeQ4_KScalar, Q4KBlock(), 256, y =>
        {
            for (int sub = 0; sub < 8; sub++)
                for (int l = 0; l < 32; l++)
                    Assert.Equal(1f * sc[sub] * Q4KNibble(sub, l) - 0.5f * m[sub], y[sub * 32 + l]);
        });
    }

    [Fact]
    public void Q4_K_SubtractionRoundsOnceAfterExactProducts()
    {
        // d = 0.1 in fp16 (0x2E66 = 0.0999755859375), dmin = 1/3 in fp16 (0x3555 = 0.333251953125)
        var b = Q4KBlock();
        b[0] = 0x66; b[1] = 0x2E; b[2] = 0x55; b[3] = 0x35;
        double d = 0.0999755859375, dmin = 0.333251953125;
        Both(QuantBlocks.DequantizeQ4_K, QuantBlocks.DequantizeQ4_KScalar, b, 256, y =>
        {
            // sub 6, l 1: q 3, sc 50, m 63 → round_f32(0.0999755859375*50*3 - 0.333251953125*63), products exact
            Assert.Equal((float)(d * 50 * 3 - dmin * 63), y[6 * 32 + 1]);
            Assert.Equal((float)(d * 17 * 0 - dmin * 20), y[4 * 32 + 4]);
        });
    }

    /// <summary>Packs 256 six-bit codes into a Q6_K block per the README layout.</summary>
    private static byte[] Q6KBlock(int[] q, sbyte[] scales, ushort dBits)
    {
        var b = new byte[210];
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++)
            {
                int v0 = q[128 * h + l], v1 = q[128 * h + l + 32], v2 = q[128 * h + l + 64], v3 = q[128 * h + l + 96];
                b[64 * h + l] = (byte)((v0 & 15) | (v2 & 15) << 4);
                b[64 * h + l + 32] = (byte)((v1 & 15) | (v3 & 15) << 4);
                b[128 + 32 * h + l] = (byte)((v0 >> 4) | (v1 >> 4) << 2 | (v2 >> 4) << 4 | (v3 >> 4) << 6);
            }
        for (int i = 0; i < 16; i++) b[192 + i] = (byte)scales[i];
        b[208] = (byte)dBits; b[209] = (byte)(dBits >> 8);
        return b;
    }

    [Fact]
    public void Q6_K_ExplicitBytes_QhBitPositions()
    {
        var b = new byte[210];
        b[0] = 0x21;          // ql[0]: value 0 low nibble 1, value 64 low nibble 2
        b[128] = 0xE4;        // qh[0] = 11 10 01 00: high bits of values 0, 32, 64, 96 = 0, 1, 2, 3
        b[64 + 5] = 0xF0;     // ql[64+5] (half 1): value 133 low nibble 0, value 197 low nibble 15
        b[128 + 32 + 5] = 0x30; // qh[32+5]: value 197 high bits 3 → q = 63
        for (int i = 0; i < 16; i++) b[192 + i] = 1;
        b[192 + 4] = 2;       // values 64..79
        b[192 + 6] = 0xFF;    // -1: values 96..111
        b[192 + 12] = 3;      // values 192..207
        b[208] = 0x00; b[209] = 0x3C; // d = 1.0
        Both(QuantBlocks.DequantizeQ6_K, QuantBlocks.DequantizeQ6_KScalar, b, 256, y =>
        {
            Assert.Equal(-31f, y[0]);   // q = 1
            Assert.Equal(-32f, y[1]);   // q = 0
            Assert.Equal(-16f, y[32]);  // q = 16
            Assert.Equal(4f, y[64]);    // q = 2 | 2<<4 = 34, scale 2
            Assert.Equal(-16f, y[96]);  // q = 48, scale -1
            Assert.Equal(-32f, y[133]); // q = 0
            Assert.Equal(93f, y[197]);  // q = 63, scale 3
            Assert.Equal(32f, y[100]);  // q = 0, scale -1
        });
    }

    [Fact]
    public void Q6_K_PackedCodes_HandValues()
    {
        var q = new int[256];
        for (int i = 0; i < 256; i++) q[i] = i * 7 % 64;
        var scales = new sbyte[16];
        for (int k = 0; k < 16; k++) scales[k] = (sbyte)(k % 2 == 0 ? k + 1 : -(k + 1));
        var b = Q6KBlock(q, scales, 0x3800); // d = 0.5
        Both(QuantBlocks.DequantizeQ6_K, QuantBlocks.DequantizeQ6_KScalar, b, 256, y =>
        {
            Assert.Equal(-16f, y[0]);    // q 0, scale 1
            Assert.Equal(98f, y[100]);   // q 60 (high bits 3 from qh bits 6-7), scale 7: 0.5*7*28
            Assert.Equal(33f, y[170]);   // q 38, scale 11
            Assert.Equal(156f, y[200]);  // q 56, scale 13
            Assert.Equal(80f, y[250]);   // q 22, scale -16: 0.5*-16*-10
            for (int i = 0; i < 256; i++) Assert.Equal(0.5f * scales[i / 16] * (q[i] - 32), y[i]);
        });
    }

    [Fact]
    public void Q6_K_ProductOrderIsDTimesScaleThenCode()
    {
        // d = 0.1 (fp16 0x2E66): (d*scale)*(q-32) can differ from d*(scale*(q-32)) in the last bit; ggml does the former.
        var q = new int[256];
        for (int i = 0; i < 256; i++) q[i] = (i * 13 + 5) % 64;
        var scales = new sbyte[16];
        for (int k = 0; k < 16; k++) scales[k] = (sbyte)(127 - 17 * k);
        var b = Q6KBlock(q, scales, 0x2E66);
        float d = 0.0999755859375f;
        Both(QuantBlocks.DequantizeQ6_K, QuantBlocks.DequantizeQ6_KScalar, b, 256, y =>
        {
            for (int i = 0; i < 256; i++)
            {
                float ds = d * scales[i / 16]; // exact
                Assert.Equal(ds * (q[i] - 32), y[i]);
            }
        });
    }

    [Fact]
    public void VectorAndScalarPathsAgreeBitForBit_OnRandomBlocks()
    {
        var rng = new Random(4242);
        void Check(int blockBytes, int blockValues, int[] halfOffsets, Dequant vec, Dequant sca)
        {
            for (int trial = 0; trial < 20; trial++)
            {
                int nb = 1 + trial % 4;
                var b = new byte[nb * blockBytes];
                rng.NextBytes(b);
                for (int k = 0; k < nb; k++)
                    foreach (int off in halfOffsets)
                        b[k * blockBytes + off + 1] &= 0x3B; // keep fp16 finite and moderate
                var y1 = Run(vec, b, nb * blockValues);
                var y2 = Run(sca, b, nb * blockValues);
                Assert.Equal(BitConverter.SingleToInt32Bits(y1[0]), BitConverter.SingleToInt32Bits(y2[0]));
                for (int i = 0; i < y1.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(y1[i]) == BitConverter.SingleToInt32Bits(y2[i]),
                        $"value {i}: {y1[i]} vs {y2[i]}");
            }
        }
        Check(34, 32, [0], QuantBlocks.DequantizeQ8_0, QuantBlocks.DequantizeQ8_0Scalar);
        Check(18, 32, [0], QuantBlocks.DequantizeQ4_0, QuantBlocks.DequantizeQ4_0Scalar);
        Check(144, 256, [0, 2], QuantBlocks.DequantizeQ4_K, QuantBlocks.DequantizeQ4_KScalar);
        Check(210, 256, [208], QuantBlocks.DequantizeQ6_K, QuantBlocks.DequantizeQ6_KScalar);
    }

    [Fact]
    public void SecondBlockOfARowUsesItsOwnScale()
    {
        var b = new byte[2 * 144];
        Q4KBlock().CopyTo(b, 0);
        Q4KBlock().CopyTo(b, 144);
        b[144 + 1] = 0x40; // block 1: d = 2.0
        Both(QuantBlocks.DequantizeQ4_K, QuantBlocks.DequantizeQ4_KScalar, b, 512, y =>
        {
            Assert.Equal(46f, y[5 * 32 + 3]);
            Assert.Equal(2f * 33 * 2 - 20f, y[256 + 5 * 32 + 3]);
        });
    }

    [Fact]
    public void RowLengthNotAMultipleOfTheBlockIsRefused()
    {
        Assert.Throws<ArgumentException>(() => QuantBlocks.DequantizeQ8_0(new byte[34], new float[31]));
        Assert.Throws<ArgumentException>(() => QuantBlocks.DequantizeQ6_K(new byte[209], new float[256]));
    }

    [Fact]
    public void RowDecoderDispatchesToTheBlockFormats()
    {
        var y = new float[256];
        RowDecoder.Decode(TensorType.Q4_K, Q4KBlock(), y);
        Assert.Equal(118.5f, y[6 * 32 + 1]);
    }
}
