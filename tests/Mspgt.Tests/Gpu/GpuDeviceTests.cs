using ILGPU;
using ILGPU.Runtime;
using Mspgt.Models.Gpu;

namespace Mspgt.Tests.Gpu;

/// <summary>Device selection and the GEMM kernel, on ILGPU's CPU accelerator emulating an NVIDIA device.</summary>
public class GpuDeviceTests
{
    [Theory]
    [InlineData("auto", "auto")]
    [InlineData("cpu", "cpu")]
    [InlineData("CUDA", "cuda:0")]
    [InlineData("cuda:3", "cuda:3")]
    public void ParsesDevices(string text, string expected) => Assert.Equal(expected, DeviceSpec.Parse(text).ToString());

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    public void BadDeviceIsOneLineNamingTheSetting(string text)
    {
        var e = Assert.Throws<MspgtException>(() => DeviceSpec.Parse(text));
        Assert.Equal("--device", e.Setting);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void CpuNeedsNoAccelerator() => Assert.Null(GpuDevice.Open(DeviceSpec.Cpu, emulate: true));

    [Fact]
    public void EmulatedCudaOpensAndMissingIndexFails()
    {
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true);
        Assert.NotNull(device);
        Assert.True(device!.Emulated);
        Assert.Equal("cuda:0 (emulated on CPU)", device.Description);
        var e = Assert.Throws<MspgtException>(() => GpuDevice.Open(DeviceSpec.Parse("cuda:7"), emulate: true));
        Assert.Contains("cuda:7", e.Message);
    }

    [Fact]
    public void ModelThatDoesNotFitFailsBeforeAllocating()
    {
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var e = Assert.Throws<MspgtException>(() => device.EnsureFits(long.MaxValue, "model weights"));
        Assert.Contains($"{long.MaxValue:N0} bytes", e.Message);
        Assert.Contains("free", e.Message);
        device.EnsureFits(1024, "model weights");
    }

    [Fact]
    public void GemmKernelMatchesCpuReference()
    {
        const int m = 5, n = 7, k = 33;
        var rng = new Random(12);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        using var da = acc.Allocate1D(a);
        using var db = acc.Allocate1D(b);
        using var dc = acc.Allocate1D<float>(m * n);
        new GemmKernel(acc).MatMulABt(da.View, db.View, dc.View, m, n, k);
        acc.Synchronize();
        var c = dc.GetAsArray1D();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double want = 0;
                for (int t = 0; t < k; t++) want += (double)a[i * k + t] * b[j * k + t];
                Assert.True(Math.Abs(c[i * n + j] - want) < 1e-5, $"C[{i},{j}] = {c[i * n + j]}, want {want}");
            }
    }

    /// <summary>
    /// The no-cuBLAS product where a CUDA grid's 65,535-group y limit lies (the emulator enforces it too): a head wider
    /// than that (the 151,936-token vocabulary), and more rows than one launch takes, in f32 and bf16. Before the
    /// columns went along x, the first failed its launch.
    /// </summary>
    [Theory]
    [InlineData(2, 70_000, 3)]
    [InlineData(GemmKernel.MaxGridRows + 2, 2, 2)]
    public void GemmKernelCoversShapesBeyondOneGridRow(int m, int n, int k)
    {
        var rng = new Random(m + n);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)Math.Round(rng.NextDouble() * 8 - 4)).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => (float)Math.Round(rng.NextDouble() * 8 - 4)).ToArray();
        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        var gemm = new GemmKernel(acc);
        using var da = acc.Allocate1D(a);
        using var db = acc.Allocate1D(b);
        using var dc = acc.Allocate1D<float>((long)m * n);
        gemm.MatMulABt(da.View, db.View, dc.View, m, n, k);
        // Small integers are exact in bf16 too.
        using var ha = acc.Allocate1D(a.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray());
        using var hb = acc.Allocate1D(b.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray());
        using var dc16 = acc.Allocate1D<float>((long)m * n);
        gemm.MatMulABt16(ha.View, hb.View, dc16.View, m, n, k, HalfBits.Bf16);
        acc.Synchronize();
        var c = dc.GetAsArray1D();
        var c16 = dc16.GetAsArray1D();
        foreach (int i in new[] { 0, 1, m / 2, m - 2, m - 1 })
            foreach (int j in new[] { 0, n / 3, n - 1 })
            {
                float want = 0;
                for (int t = 0; t < k; t++) want += a[i * k + t] * b[j * k + t];
                Assert.Equal(want, c[(long)i * n + j]);
                Assert.Equal(want, c16[(long)i * n + j]);
            }
    }
}
