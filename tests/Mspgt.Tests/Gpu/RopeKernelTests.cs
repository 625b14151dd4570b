using ILGPU;
using ILGPU.Runtime;
using Mspgt.Models;
using Mspgt.Models.Gpu;

namespace Mspgt.Tests.Gpu;

public class RopeKernelTests
{
    [Theory]
    [InlineData(RopeForm.RotateHalf)]
    [InlineData(RopeForm.AdjacentPairs)]
    public void MatchesCpuRotate(RopeForm form)
    {
        const int tokens = 5, heads = 3, hd = 8, half = hd / 2;
        var rng = new Random(3);
        var x = Enumerable.Range(0, tokens * heads * hd).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var cos = new float[tokens * half];
        var sin = new float[tokens * half];
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < half; i++)
            {
                double a = t * Math.Pow(10000, -2.0 * i / hd);
                cos[t * half + i] = (float)Math.Cos(a);
                sin[t * half + i] = (float)Math.Sin(a);
            }
        var want = (float[])x.Clone();
        Rope.Rotate(want, tokens, heads, hd, cos, sin, form);

        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        using var dx = acc.Allocate1D(x);
        using var dc = acc.Allocate1D(cos);
        using var ds = acc.Allocate1D(sin);
        new RopeKernel(acc).Rotate(dx.View, tokens, heads, hd, dc.View, ds.View, form);
        var got = dx.GetAsArray1D();
        Assert.NotEqual(x, want);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(got[i] - want[i]) < 1e-6, $"[{i}] {got[i]} vs {want[i]}");
    }
}
