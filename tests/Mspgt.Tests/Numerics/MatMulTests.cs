using Mspgt.Checkpoints;
using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The weight matmul (packed GEMM for T ≥ 4, matrix-vector below) against a naive double-precision product of the
/// decoded weights, on shapes that are not multiples of the micro-tile (6 × 16/32), the 256-long k slice or the
/// 144-row activation block, for every stored type. Two of them set the process-wide thread count, so the class runs
/// with the other tests that do, one at a time.
/// </summary>
[Collection(ParallelismCollection.Name)]
public class MatMulTests
{
    /// <summary>Random stored bytes of a type, with its fp16 scale fields set to small finite values.</summary>
    internal static WeightMatrix RandomWeights(TensorType type, int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        long rowBytes = TensorTypeInfo.RowBytes(type, cols);
        var b = new byte[rowBytes * rows];
        rng.NextBytes(b);
        void Half16(long at, float v)
        {
            ushort u = BitConverter.HalfToUInt16Bits((Half)v);
            b[at] = (byte)u;
            b[at + 1] = (byte)(u >> 8);
        }
        float Small() => (float)(rng.NextDouble() * 0.02 + 0.001);
        int bb = TensorTypeInfo.BlockBytes(type);
        long blocks = b.Length / bb;
        switch (type)
        {
            case TensorType.F32:
                for (long i = 0; i < b.Length; i += 4)
                    BitConverter.TryWriteBytes(b.AsSpan((int)i, 4), (float)(rng.NextDouble() * 2 - 1));
                break;
            case TensorType.F16:
                for (long i = 0; i < b.Length; i += 2) Half16(i, (float)(rng.NextDouble() * 2 - 1));
                break;
            case TensorType.BF16:
                for (long i = 0; i < b.Length; i += 2)
                {
                    uint u = BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1)) >> 16;
                    b[i] = (byte)u;
                    b[i + 1] = (byte)(u >> 8);
                }
                break;
            case TensorType.Q8_0 or TensorType.Q4_0:
                for (long k = 0; k < blocks; k++) Half16(k * bb, Small());
                break;
            case TensorType.Q4_K:
                for (long k = 0; k < blocks; k++) { Half16(k * bb, Small()); Half16(k * bb + 2, Small()); }
                break;
            case TensorType.Q6_K:
                for (long k = 0; k < blocks; k++) Half16(k * bb + 208, Small() * 0.1f);
                break;
        }
        return WeightMatrix.FromBytes("w", rows, cols, type, b);
    }

    private static float[] RandomActivations(int tokens, int cols, int seed)
    {
        var rng = new Random(seed);
        var x = new float[tokens * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>
    /// Checks y against Σ_k x·w in double. Any float32 summation order of K products is within K·u·Σ|x·w|
    /// (u = 2⁻²⁴), so that is the tolerance; a wrong index or a missed k slice is off by O(|x·w|).
    /// </summary>
    private static void CheckAgainstReference(float[] x, int tokens, WeightMatrix w, float[] y)
    {
        var wf = w.ToFloats();
        int K = w.Cols, N = w.Rows;
        double u = Math.Pow(2, -24);
        for (int t = 0; t < tokens; t++)
            for (int n = 0; n < N; n++)
            {
                double s = 0, abs = 0;
                for (int k = 0; k < K; k++)
                {
                    double p = (double)x[t * K + k] * wf[(long)n * K + k];
                    s += p;
                    abs += Math.Abs(p);
                }
                double tol = (K + 2) * u * abs + 1e-30;
                double got = y[t * N + n];
                Assert.True(Math.Abs(got - s) <= tol, $"{w.Type} T={tokens} {N}x{K}: y[{t},{n}] = {got:R}, reference {s:R} (tol {tol:G3})");
            }
    }

    public static TheoryData<TensorType, int, int, int> Shapes()
    {
        var d = new TheoryData<TensorType, int, int, int>();
        foreach (int tokens in new[] { 1, 3, 4, 7, 13 })
        {
            d.Add(TensorType.F32, tokens, 37, 301);  // k tail after one 256 slice; rows not a multiple of 16
            d.Add(TensorType.F16, tokens, 19, 96);
            d.Add(TensorType.BF16, tokens, 50, 270);
            d.Add(TensorType.Q8_0, tokens, 41, 288);
            d.Add(TensorType.Q4_0, tokens, 23, 320);
            d.Add(TensorType.Q4_K, tokens, 35, 512); // two k slices of a 256-value block type
            d.Add(TensorType.Q6_K, tokens, 17, 256);
        }
        d.Add(TensorType.F32, 150, 33, 40);          // more tokens than one 144-row activation block
        d.Add(TensorType.Q8_0, 151, 70, 64);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesDoublePrecisionReference(TensorType type, int tokens, int rows, int cols)
    {
        var w = RandomWeights(type, rows, cols, seed: rows * 31 + cols);
        var x = RandomActivations(tokens, cols, seed: tokens);
        // NaN first: every element must be written (the forward pass hands the product an uninitialised logits array).
        var y = new float[tokens * rows];
        Array.Fill(y, float.NaN);
        MatMul.Multiply(x, tokens, w, y);
        CheckAgainstReference(x, tokens, w, y);
    }

    [Fact]
    public void LargeParallelProductMatchesReferenceAndIsDeterministic()
    {
        // Enough work to take the parallel path, with a partial last tile.
        var w = RandomWeights(TensorType.Q4_K, 203, 768, seed: 5);
        var x = RandomActivations(29, 768, seed: 6);
        var y1 = new float[29 * 203];
        var y2 = new float[29 * 203];
        MatMul.Multiply(x, 29, w, y1);
        MatMul.Multiply(x, 29, w, y2);
        CheckAgainstReference(x, 29, w, y1);
        Assert.Equal(y1, y2);
    }

    [Fact]
    public void ActivationsPackedInParallelChunksGiveTheSameProductAtAnyThreadCount()
    {
        // 203 rows: 34 Mr-row panels, so several packing chunks and a padded last panel; enough values to pack in parallel.
        const int tokens = 203, rows = 60, cols = 400;
        var w = RandomWeights(TensorType.F32, rows, cols, seed: 12);
        var x = RandomActivations(tokens, cols, seed: 13);
        var results = new List<float[]>();
        try
        {
            foreach (int threads in new[] { 1, 2, 5 })
            {
                Parallelism.Set(threads);
                var y = new float[tokens * rows];
                MatMul.Multiply(x, tokens, w, y);
                results.Add(y);
            }
        }
        finally { Parallelism.Set(null); }
        CheckAgainstReference(x, tokens, w, results[0]);
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);
    }

    /// <summary>
    /// Several weights on the same activations (one packing, one loop over all their items) give each product bit for
    /// bit as its own call does, for mixed stored types and row counts (one weight with no rows), in a prefill and
    /// below it, at any thread count; mismatched inner dimensions and short outputs are refused.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(29)]
    [InlineData(203)]
    public void SharedActivationsGiveEachProductAsItsOwnCall(int tokens)
    {
        const int cols = 288;
        WeightMatrix[] weights =
        [
            RandomWeights(TensorType.Q8_0, 203, cols, seed: 21), RandomWeights(TensorType.F32, 37, cols, seed: 22),
            RandomWeights(TensorType.BF16, 0, cols, seed: 23), RandomWeights(TensorType.Q4_0, 70, cols, seed: 24),
        ];
        var x = RandomActivations(tokens, cols, seed: 25);
        var alone = weights.Select(w => { var y = new float[tokens * w.Rows]; MatMul.Multiply(x, tokens, w, y); return y; }).ToArray();
        try
        {
            // 3 threads with 32-wide panels: the weights' tiles together are enough (12), so the shared call splits no
            // tokens where each alone would; 5: too few even together, so all are split alike.
            foreach (int threads in new[] { 1, 2, 3, 5 })
            {
                Parallelism.Set(threads);
                var ys = weights.Select(w => new float[tokens * w.Rows]).ToArray();
                MatMul.Multiply(x, tokens, weights, ys);
                for (int i = 0; i < weights.Length; i++) Assert.Equal(alone[i], ys[i]);
            }
        }
        finally { Parallelism.Set(null); }
        CheckAgainstReference(x, tokens, weights[0], alone[0]);
        Assert.Throws<ArgumentException>(() => MatMul.Multiply(x, tokens, [weights[0], RandomWeights(TensorType.F32, 8, 64, seed: 26)],
            [new float[tokens * 203], new float[tokens * 8]]));
        Assert.Throws<ArgumentException>(() => MatMul.Multiply(x, tokens, [weights[0], weights[1]], [new float[tokens * 203], new float[tokens * 37 - 1]]));
        Assert.Throws<ArgumentException>(() => MatMul.Multiply(x, tokens, [weights[0]], [new float[tokens * 203], new float[1]]));
    }

    /// <summary>
    /// Weights whose tokens are split (many threads, few column tiles) share panels packed up front; held to a bound,
    /// the inner dimension goes in passes of k-slices (4 slices here, the last one short: one pass each, or two of 2),
    /// and every product is still bit for bit what one call with the whole buffer gives, and what 1 thread gives.
    /// </summary>
    [Theory]
    [InlineData(1L)]
    [InlineData(160L * 992 * 4 / 2)]   // half of the 5 tiles × 32 columns × 992 floats: two passes of 2 slices
    public void SharedPanelsInPassesOverTheInnerDimensionChangeNoValue(long sharedPanelBytes)
    {
        const int tokens = 203, cols = 992;
        WeightMatrix[] weights = [RandomWeights(TensorType.Q8_0, 70, cols, seed: 31), RandomWeights(TensorType.F32, 37, cols, seed: 32)];
        var x = RandomActivations(tokens, cols, seed: 33);
        float[][] Run(int threads, long bound)
        {
            Parallelism.Set(threads);
            var ys = weights.Select(w => new float[tokens * w.Rows]).ToArray();
            MatMul.Multiply(x, tokens, weights, ys, bound);
            return ys;
        }
        try
        {
            Assert.True(MatMul.GemmPartitions(tokens, [70, 37], threads: 5)[0].TokenBlocks > 1, "the tokens must be split");
            var one = Run(1, sharedPanelBytes);
            var whole = Run(5, long.MaxValue);
            var passes = Run(5, sharedPanelBytes);
            for (int i = 0; i < weights.Length; i++)
            {
                Assert.Equal(one[i], whole[i]);
                Assert.Equal(whole[i], passes[i]);
            }
            CheckAgainstReference(x, tokens, weights[0], passes[0]);
        }
        finally { Parallelism.Set(null); }
    }

    [Fact]
    public void RowMapSelectsStoredRows()
    {
        var w = RandomWeights(TensorType.BF16, 20, 64, seed: 9);
        int[] map = Enumerable.Range(0, 20).Reverse().ToArray();
        var mapped = w.WithRowMap(map);
        var x = RandomActivations(8, 64, seed: 10);
        var y = new float[8 * 20];
        var ym = new float[8 * 20];
        MatMul.Multiply(x, 8, w, y);
        MatMul.Multiply(x, 8, mapped, ym);
        for (int t = 0; t < 8; t++)
            for (int r = 0; r < 20; r++)
                Assert.Equal(y[t * 20 + map[r]], ym[t * 20 + r]);
    }

    [Fact]
    public void OutputRowsDoNotDependOnTheOtherTokensInTheBlock()
    {
        // Each output is one fixed-order chain, so a row computed inside a 13-token GEMM equals the same row
        // computed in a 6-token GEMM: prefill results do not depend on how tokens are grouped into tiles.
        var w = RandomWeights(TensorType.Q8_0, 45, 320, seed: 11);
        var x = RandomActivations(13, 320, seed: 12);
        var all = new float[13 * 45];
        MatMul.Multiply(x, 13, w, all);
        var part = new float[6 * 45];
        MatMul.Multiply(x.AsSpan(7 * 320, 6 * 320), 6, w, part);
        Assert.Equal(all.AsSpan(7 * 45, 6 * 45).ToArray(), part);
    }

    /// <summary>PackA's definition: dst[blk·Mr·k + kk·Mr + r] = A[min(blk·Mr + r, m − 1), kk], on row counts around
    /// Mr and lengths around the 8-column transpose groups; the floats after the packed ones stay untouched (the
    /// transpose's overlapping stores must not spill past a block).</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 8)]
    [InlineData(6, 9)]
    [InlineData(7, 16)]
    [InlineData(13, 17)]
    [InlineData(48, 768)]
    [InlineData(11, 2048)]
    public unsafe void PackedActivationsFollowTheDefinition(int m, int k)
    {
        const int mr = GemmKernel.Mr;
        int lda = k + 3;
        var a = RandomActivations(m, lda, seed: m * 31 + k);
        int blocks = (m + mr - 1) / mr;
        var dst = new float[blocks * mr * k + 16];
        Array.Fill(dst, float.NaN);
        fixed (float* pa = a, pd = dst) GemmKernel.PackA(pa, lda, m, k, pd);
        for (int blk = 0; blk < blocks; blk++)
            for (int kk = 0; kk < k; kk++)
                for (int r = 0; r < mr; r++)
                    Assert.Equal(a[Math.Min(blk * mr + r, m - 1) * lda + kk], dst[(long)blk * mr * k + kk * mr + r]);
        Assert.All(dst[(blocks * mr * k)..], v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Vector256AndVector512KernelsAgreeBitForBit()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return; // one kernel on this machine: nothing to compare
        var w = RandomWeights(TensorType.F32, 77, 300, seed: 13);
        var x = RandomActivations(11, 300, seed: 14);
        var wide = new float[11 * 77];
        var narrow = new float[11 * 77];
        MatMul.Multiply(x, 11, w, wide);
        try
        {
            GemmKernel.AllowVector512 = false;
            MatMul.Multiply(x, 11, w, narrow);
        }
        finally { GemmKernel.AllowVector512 = true; }
        Assert.Equal(wide, narrow);
    }

    [Fact]
    public void DecodeRowRangeRejectsPartialBlocks()
    {
        var w = RandomWeights(TensorType.Q4_K, 2, 512, seed: 1);
        Assert.Throws<ArgumentException>(() => w.DecodeRowRange(0, 128, new float[256]));
        var part = new float[256];
        w.DecodeRowRange(1, 256, part);
        Assert.Equal(w.ToFloats().AsSpan(512 + 256, 256).ToArray(), part);
    }

    [Fact]
    public void PrefetchHintsAreClampedToTheMatrixAndChangeNothing()
    {
        // PackWeights asks for the next 8 rows, which at a tile's end are past the matrix (or before a slice's start
        // through a row map): only existing rows are touched, and the values are what they were.
        foreach (var type in new[] { TensorType.Q8_0, TensorType.Q4_K, TensorType.BF16 })
        {
            var w = RandomWeights(type, 20, 512, seed: 3).WithRowMap(Enumerable.Range(0, 20).Reverse().ToArray());
            var before = w.ToFloats();
            w.Prefetch(-8, 8, 0, 256);
            w.Prefetch(16, 8, 256, 256);
            w.Prefetch(20, 8, 0, 512);
            w.RowSlice(12, 8).Prefetch(4, 8, 0, 512);
            Assert.Equal(before, w.ToFloats());
        }
    }
}
