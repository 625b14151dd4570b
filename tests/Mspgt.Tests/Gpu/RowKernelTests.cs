using ILGPU;
using ILGPU.Runtime;
using Mspgt.Models.Gpu;
using Mspgt.Numerics;

namespace Mspgt.Tests.Gpu;

/// <summary>Each row kernel on the emulated device against the CPU reference in Numerics.Kernels.</summary>
public class RowKernelTests
{
    static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    static void Close(float[] want, float[] got, float tol = 1e-5f)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"[{i}] {got[i]} vs CPU {want[i]}");
    }

    /// <summary>RMSNorm's two forms (a warp per row, CUDA's default, and a thread per row) against the CPU: rows
    /// narrower than a warp, not a multiple of it, and 2,048 wide (the 1B shape's), row counts that leave the last
    /// group of warps part empty, in place as the q/k norms run it.</summary>
    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    [InlineData(true, 4)]   // four warps to a group, as a GPU launches it: rows leave the last group part empty
    public void RmsNormFormsMatchCpu(bool warpPerRow, int warpsPerGroup)
    {
        using var device = warpsPerGroup == 1 ? GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)! : GpuDevice.OpenEmulated(warpsPerGroup);
        var acc = device.Accelerator;
        var k = new RowKernels(acc, warpPerRow);
        Assert.Equal(warpPerRow, k.WarpPerRow);
        foreach (var (rows, d) in new[] { (1, 8), (5, 24), (3, 70), (9, 96), (2, 2048) })
        {
            var x = Random(rows * d, rows + d);
            var w = Random(d, d);
            var want = new float[x.Length];
            Kernels.RmsNormRows(x, rows, w, 1e-5f, want);
            using var dx = acc.Allocate1D(x);
            using var dw = acc.Allocate1D(w);
            using var dd = acc.Allocate1D<float>(x.Length);
            k.RmsNormRows(dx.View, rows, dw.View, 1e-5f, dd.View);
            Close(want, dd.GetAsArray1D());
            k.RmsNormRows(dx.View, rows, dw.View, 1e-5f, dx.View);
            Close(want, dx.GetAsArray1D());
        }
    }

    [Fact]
    public void KernelsMatchCpu()
    {
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        var k = new RowKernels(acc);
        const int rows = 3, d = 24;
        var x = Random(rows * d, 1);
        var w = Random(d, 2);

        var want = new float[x.Length];
        Kernels.RmsNormRows(x, rows, w, 1e-5f, want);
        using (var dx = acc.Allocate1D(x)) using (var dw = acc.Allocate1D(w)) using (var dd = acc.Allocate1D<float>(x.Length))
        {
            k.RmsNormRows(dx.View, rows, dw.View, 1e-5f, dd.View);
            Close(want, dd.GetAsArray1D());

            var soft = (float[])x.Clone();
            for (int r = 0; r < rows; r++) Kernels.Softmax(soft.AsSpan(r * d, d));
            k.SoftmaxRows(dx.View, rows, d);
            Close(soft, dx.GetAsArray1D());
        }

        var g = Random(rows * d, 3);
        var u = Random(rows * d, 4);
        var sw = new float[g.Length];
        Kernels.SwiGlu(g, u, sw);
        using (var dg = acc.Allocate1D(g)) using (var du = acc.Allocate1D(u))
        {
            k.SwiGlu(dg.View, du.View, dg.View);
            Close(sw, dg.GetAsArray1D());
            k.Add(du.View, dg.View);
            Close(u.Zip(sw, (a, b) => a + b).ToArray(), du.GetAsArray1D());
        }

        var bias = Random(d, 5);
        using (var dx = acc.Allocate1D(x)) using (var db = acc.Allocate1D(bias))
        {
            k.AddBias(dx.View, db.View);
            Close(x.Select((v, i) => v + bias[i % d]).ToArray(), dx.GetAsArray1D());
        }

        var table = Random(10 * d, 6);
        int[] ids = [7, 0, 7, 3];
        using (var dt = acc.Allocate1D(table)) using (var di = acc.Allocate1D(ids)) using (var de = acc.Allocate1D<float>(ids.Length * d))
        {
            k.Gather(dt.View, di.View, de.View, d);
            Close(ids.SelectMany(id => table.Skip(id * d).Take(d)).ToArray(), de.GetAsArray1D(), 0);
        }
    }
}
