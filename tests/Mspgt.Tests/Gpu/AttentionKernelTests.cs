using ILGPU;
using ILGPU.Runtime;
using Mspgt.Models.Gpu;
using Mspgt.Numerics;

namespace Mspgt.Tests.Gpu;

/// <summary>Device attention (scores, masked softmax, mix) on the emulated device against AttentionReference.</summary>
public class AttentionKernelTests
{
    static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    static void Close(float[] want, float[] got, float tol = 1e-5f)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            if (float.IsNegativeInfinity(want[i])) { Assert.True(float.IsNegativeInfinity(got[i]), $"[{i}] {got[i]} vs −∞"); continue; }
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"[{i}] {got[i]} vs CPU {want[i]}");
        }
    }

    [Theory]
    [InlineData(5, 0, 4, 2, 8, int.MaxValue)]   // prefill, GQA group 2
    [InlineData(3, 4, 4, 1, 8, int.MaxValue)]   // after 4 cached positions, one kv head
    [InlineData(7, 2, 2, 2, 6, 3)]              // sliding window of 3
    public void MatchesReference(int tokens, int start, int heads, int kvHeads, int hd, int window)
    {
        var s = new AttentionShape(tokens, start, heads, kvHeads, hd, window);
        var q = Random((int)s.QueryLength, 1);
        var k = Random((int)s.KeyLength, 2);
        var v = Random((int)s.KeyLength, 3);
        var scores = new float[s.PatternLength];
        AttentionReference.Scores(q, k, s, scores);
        var pattern = (float[])scores.Clone();
        AttentionReference.Softmax(pattern, s);
        var z = new float[s.QueryLength];
        AttentionReference.Mix(pattern, v, s, z);

        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        var kernels = new AttentionKernels(acc);
        using var dq = acc.Allocate1D(q);
        using var dk = acc.Allocate1D(k);
        using var dv = acc.Allocate1D(v);
        using var dp = acc.Allocate1D<float>(s.PatternLength);
        using var dz = acc.Allocate1D<float>(s.QueryLength);
        kernels.Scores(dq.View, dk.View, s, dp.View);
        Close(scores, dp.GetAsArray1D());
        kernels.Softmax(dp.View, s);
        Close(pattern, dp.GetAsArray1D());
        kernels.Mix(dp.View, dv.View, s, dz.View);
        Close(z, dz.GetAsArray1D());

        int n = s.Heads * s.Tokens;
        var (entropy, distance) = (new double[n], new double[n]);
        AttentionRows.Compute(pattern, s.Heads, s.Tokens, s.Keys, s.Start, entropy, distance);
        using var de = acc.Allocate1D<double>(n);
        using var dd = acc.Allocate1D<double>(n);
        kernels.Rows(dp.View, s, de.View, dd.View);
        Close(entropy.Select(x => (float)x).ToArray(), de.GetAsArray1D().Select(x => (float)x).ToArray());
        Close(distance.Select(x => (float)x).ToArray(), dd.GetAsArray1D().Select(x => (float)x).ToArray());
        Assert.Contains(entropy, e => e > 0.1); // rows with several visible keys
    }

    /// <summary>
    /// The fused launch over a pass of several documents (each over its own keys, positions restarting at 0) and over
    /// a cached document (keys in their own buffer, positions from its start) gives each document the reference's z,
    /// entropy and distance; with a sliding window and grouped heads too.
    /// </summary>
    /// <summary>Both forms of the fused kernel (a thread or a warp per row and head) against the reference, per
    /// document of a three-document pass and of a cached one; the warp form also with head sizes that fill some of a
    /// lane's 8 elements (40: lanes 0-7 hold 2, the rest 1) or all of them (256).</summary>
    [Theory]
    [InlineData(4, 2, 8, int.MaxValue, false, false)]   // three documents, GQA group 2
    [InlineData(2, 2, 6, 3, false, false)]              // sliding window of 3
    [InlineData(4, 1, 8, int.MaxValue, true, false)]    // one document after cached positions
    [InlineData(2, 2, 6, 3, true, false)]               // cached, window
    [InlineData(4, 2, 8, int.MaxValue, false, true)]
    [InlineData(2, 2, 6, 3, false, true)]
    [InlineData(4, 1, 8, int.MaxValue, true, true)]
    [InlineData(2, 2, 6, 3, true, true)]
    [InlineData(2, 1, 40, int.MaxValue, false, true)]
    [InlineData(2, 2, 256, 4, true, true)]
    public void FusedMatchesReferencePerDocument(int heads, int kvHeads, int hd, int window, bool cached, bool warps)
    {
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        FusedAgainstReference(device, heads, kvHeads, hd, window, cached, warps);
    }

    /// <summary>
    /// The warp form with several warps to a group, as a GPU launches it (4 warps of 32; the emulator's default device
    /// has one warp to a group, so every other test runs a group of one): each warp finds its row and head from its
    /// global index, and the last group, only partly filled (5 rows × 2 heads = 10 warps), leaves its spare warps idle.
    /// </summary>
    [Theory]
    [InlineData(4, 2, 8, int.MaxValue, false)]
    [InlineData(2, 2, 40, 3, true)]
    public void FusedWarpFormWithFourWarpsToAGroup(int heads, int kvHeads, int hd, int window, bool cached)
    {
        using var device = GpuDevice.OpenEmulated(warpsPerGroup: 4);
        Assert.Equal(4 * 32, device.Accelerator.MaxNumThreadsPerGroup);
        FusedAgainstReference(device, heads, kvHeads, hd, window, cached, warps: true);
    }

    static void FusedAgainstReference(GpuDevice device, int heads, int kvHeads, int hd, int window, bool cached, bool warps)
    {
        (int Tokens, int Start)[] docs = cached ? [(5, 4)] : [(6, 0), (1, 0), (9, 0)];
        int rows = docs.Sum(x => x.Tokens), kvDim = kvHeads * hd;
        var acc = device.Accelerator;
        var kernels = new AttentionKernels(acc, warpPerRow: warps);
        Assert.Equal(warps, kernels.WarpPerRow);
        var q = new List<float>();
        var (k, v) = (new List<float>(), new List<float>());
        var (keyRows, positions) = (new int[rows], new int[rows]);
        var want = new List<(float[] Z, double[] Entropy, double[] Distance, int Offset, AttentionShape S)>();
        int offset = 0, keyOffset = 0;
        foreach (var (tokens, start) in docs)
        {
            var s = new AttentionShape(tokens, start, heads, kvHeads, hd, window);
            var (dq, dk, dv) = (Random((int)s.QueryLength, 10 + offset), Random((int)s.KeyLength, 20 + offset), Random((int)s.KeyLength, 30 + offset));
            var pattern = new float[s.PatternLength];
            AttentionReference.Scores(dq, dk, s, pattern);
            AttentionReference.Softmax(pattern, s);
            var z = new float[s.QueryLength];
            AttentionReference.Mix(pattern, dv, s, z);
            var (e, d) = (new double[heads * tokens], new double[heads * tokens]);
            AttentionRows.Compute(pattern, heads, tokens, s.Keys, start, e, d);
            want.Add((z, e, d, offset, s));
            q.AddRange(dq);
            k.AddRange(dk);
            v.AddRange(dv);
            for (int t = 0; t < tokens; t++) (keyRows[offset + t], positions[offset + t]) = (keyOffset, start + t);
            offset += tokens;
            keyOffset += s.Keys;
        }
        using var bq = acc.Allocate1D(q.ToArray());
        using var bk = acc.Allocate1D(k.ToArray());
        using var bv = acc.Allocate1D(v.ToArray());
        using var br = acc.Allocate1D(keyRows);
        using var bp = acc.Allocate1D(positions);
        using var bz = acc.Allocate1D<float>(q.Count);
        using var be = acc.Allocate1D<double>(heads * rows);
        using var bd = acc.Allocate1D<double>(heads * rows);
        var shape = new AttentionShape(rows, 0, heads, kvHeads, hd, window);
        kernels.Fused(bq.View, bk.View, bv.View, br.View, bp.View, new AttentionKernels.PassDims(rows, shape, true), bz.View, be.View, bd.View);
        var (gz, ge, gd) = (bz.GetAsArray1D(), be.GetAsArray1D(), bd.GetAsArray1D());
        foreach (var (z, e, d, o, s) in want)
        {
            Close(z, gz.AsSpan(o * heads * hd, z.Length).ToArray());
            for (int h = 0; h < heads; h++)
            {
                Close(e.AsSpan(h * s.Tokens, s.Tokens).ToArray().Select(x => (float)x).ToArray(), ge.AsSpan(h * rows + o, s.Tokens).ToArray().Select(x => (float)x).ToArray());
                Close(d.AsSpan(h * s.Tokens, s.Tokens).ToArray().Select(x => (float)x).ToArray(), gd.AsSpan(h * rows + o, s.Tokens).ToArray().Select(x => (float)x).ToArray());
            }
        }
        Assert.Contains(want.SelectMany(x => x.Entropy), e => e > 0.1);
        // Without statistics the same z, and the statistics buffers are not read or written.
        using var bz2 = acc.Allocate1D<float>(q.Count);
        using var one = acc.Allocate1D<double>(1);
        kernels.Fused(bq.View, bk.View, bv.View, br.View, bp.View, new AttentionKernels.PassDims(rows, shape, false), bz2.View, one.View, one.View);
        Assert.Equal(gz, bz2.GetAsArray1D());
    }
}
