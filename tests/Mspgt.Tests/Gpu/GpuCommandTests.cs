using System.Text.Json;
using Mspgt.Models.Gpu;
using Mspgt.Tests.Cli;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// --device and --dtype on the commands: one line when CUDA is asked for and absent, auto's fallback note, bf16
/// refused on the CPU, the dtype recorded, and analyze / the parity check on the emulated device (MSPGT_GPU_EMULATE=1, set only inside these
/// serialised tests) agreeing with the CPU path.
/// </summary>
[Collection("Console")]
public class GpuCommandTests
{
    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");
    private static string Sample => TestData.Path("corpora", "tinystories-sample", "stories.jsonl");

    /// <summary>Whether this machine has a real CUDA device (then the no-device checks do not apply).</summary>
    private static bool RealCuda()
    {
        using var d = GpuDevice.Open(DeviceSpec.Auto, emulate: false);
        return d != null;
    }

    private static T Emulated<T>(Func<T> run)
    {
        Environment.SetEnvironmentVariable(GpuDevice.EmulateVariable, "1");
        try { return run(); }
        finally { Environment.SetEnvironmentVariable(GpuDevice.EmulateVariable, null); }
    }

    [Fact]
    public void CudaWithoutADeviceIsOneLineAndAutoFallsBackWithANote()
    {
        if (RealCuda()) return;
        string line = CliHarness.AssertOneLineError("run", "--model", Stories, "--ids", "1,2,3", "--device", "cuda");
        Assert.Contains("no CUDA device", line);
        var (code, output, err) = CliHarness.Run("run", "--model", Stories, "--ids", "1,2,3", "--device", "auto", "--json");
        Assert.Equal(0, code);
        Assert.Contains("running on the CPU", err);
        Assert.StartsWith("{", output.TrimStart());
    }

    [Theory]
    [InlineData("bf16", "--device cuda only")]
    [InlineData("f16", "--device cuda only")]
    [InlineData("f8", "not a dtype")]
    public void UnsupportedDtypesAreRefusedInOneLine(string dtype, string says)
    {
        string line = CliHarness.AssertOneLineError("run", "--model", Stories, "--ids", "1,2,3", "--dtype", dtype);
        Assert.Contains("--dtype", line);
        Assert.Contains(says, line);
    }

    /// <summary>
    /// analyze on stories260K, on the CPU and on the emulated device, gives the same boundaries, segments and
    /// two-boundary fit. A reduced run (the TinyStories sample cut to 64 tokens per document, 10 bootstrap
    /// resamples): the full sample takes minutes on the emulated device with 2 cores.
    /// </summary>
    [Fact]
    public void AnalyzeOnTheEmulatedDeviceFindsTheCpuBoundaries()
    {
        string[] args = ["analyze", "--model", Stories, "--corpus", Sample, "--max-tokens", "64", "--bootstrap", "10", "--json"];
        var (code, cpuOut, err) = CliHarness.Run(args);
        Assert.True(code == 0, err);
        var (code2, gpuOut, err2) = Emulated(() => CliHarness.Run([.. args, "--device", "cuda", "--dtype", "f32"]));
        Assert.True(code2 == 0, err2);
        using var cpu = JsonDocument.Parse(cpuOut);
        using var gpu = JsonDocument.Parse(gpuOut);
        var (c, g) = (cpu.RootElement, gpu.RootElement);
        foreach (var key in new[] { "k_selected", "boundaries", "segments" })
            Assert.Equal(c.GetProperty(key).GetRawText(), g.GetProperty(key).GetRawText());
        Assert.Equal(c.GetProperty("forced_k2").GetProperty("boundaries").GetRawText(), g.GetProperty("forced_k2").GetProperty("boundaries").GetRawText());
        Assert.Equal("cpu", c.GetProperty("manifest").GetProperty("device").GetString());
        Assert.Equal("cuda:0 (emulated on CPU, f32)", g.GetProperty("manifest").GetProperty("device").GetString());
        foreach (var s in c.GetProperty("signals").EnumerateObject())
        {
            var want = s.Value.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var got = g.GetProperty("signals").GetProperty(s.Name).EnumerateArray().Select(x => x.GetDouble()).ToArray();
            for (int l = 0; l < want.Length; l++)
                Assert.True(Math.Abs(want[l] - got[l]) <= 1e-4 * (1 + Math.Abs(want[l])), $"{s.Name}[{l}]: device {got[l]} vs CPU {want[l]}");
        }
    }

    /// <summary>What scripts/gpu-check.sh runs on a GPU machine, here on the emulated device: f32 and bf16.</summary>
    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    public void TheParityCheckPassesOnTheEmulatedDevice(string dtype)
    {
        var (code, output, err) = Emulated(() => CliHarness.Run("bench", "--parity", TestData.SharedDir, "--device", "cuda", "--dtype", dtype));
        Assert.True(code == 0, err + output);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(5, doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("model").GetString()).Distinct().Count());
        Assert.Equal($"cuda:0 (emulated on CPU, {dtype})", doc.RootElement.GetProperty("device").GetString());
        Assert.Equal(dtype, doc.RootElement.GetProperty("dtype").GetString());
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            Assert.Equal(dtype == "bf16", c.TryGetProperty("weights_rounded_cpu_diff", out _));
    }

    /// <summary>Without --dtype a CUDA device computes in bf16, and bench records it with the weights' bytes there (half of f32's, less the f32 norms).</summary>
    [Fact]
    public void BenchOnCudaDefaultsToBf16AndRecordsIt()
    {
        string[] args = ["bench", "--model", Stories, "--tokens", "8", "--runs", "1", "--json", "--device", "cuda"];
        var (code, output, err) = Emulated(() => CliHarness.Run(args));
        Assert.True(code == 0, err + output);
        var (code32, output32, err32) = Emulated(() => CliHarness.Run([.. args, "--dtype", "f32"]));
        Assert.True(code32 == 0, err32 + output32);
        using var doc = JsonDocument.Parse(output);
        using var doc32 = JsonDocument.Parse(output32);
        var (r, r32) = (doc.RootElement, doc32.RootElement);
        Assert.Equal("bf16", r.GetProperty("dtype").GetString());
        Assert.Equal("cuda:0 (emulated on CPU, bf16)", r.GetProperty("device").GetString());
        Assert.Equal("f32", r32.GetProperty("dtype").GetString());
        double ratio = (double)r.GetProperty("device_weight_bytes").GetInt64() / r32.GetProperty("device_weight_bytes").GetInt64();
        Assert.InRange(ratio, 0.5, 0.52);
        Assert.Contains("resid_post copied to the host", r.GetProperty("workload").GetString());
        // The same passes without the capture are timed beside it, and where the capture's copies landed is said.
        Assert.True(r.GetProperty("tokens_per_s_without_capture").GetDouble() > 0);
        Assert.Equal("page-locked", r.GetProperty("host_copies").GetString());   // the emulator page-locks trivially
        Assert.Equal("thread per row", r.GetProperty("attention_kernel").GetString());   // the emulator's default
    }
}

/// <summary>A study file's "device": parsed once, recorded in the manifest; a bad one is one line naming the file.</summary>
public class StudyDeviceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-study-device").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string device)
    {
        string path = Path.Combine(_dir, "study.yaml");
        File.WriteAllText(path, $"""
            output: out
            device: {device}
            models:
              - path: {TestData.Path("models", "stories260K", "stories260K.bin")}
                family: llama
                size: 260K
            """);
        return path;
    }

    [Fact]
    public void DeviceIsReadAndNormalised() =>
        Assert.Equal("cuda:1", Mspgt.Experiments.StudyFile.Load(Write("CUDA:1")).Device);

    [Fact]
    public void ABadDeviceNamesTheFile()
    {
        string file = Write("gpu");
        var e = Assert.Throws<MspgtException>(() => Mspgt.Experiments.StudyFile.Load(file));
        Assert.EndsWith("study.yaml", e.Source);
        Assert.Contains("not a device", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
