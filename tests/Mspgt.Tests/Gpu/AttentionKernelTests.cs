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
}
