using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Mspgt.Models.Gpu;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// Every kernel compiled to PTX the way a CUDA accelerator compiles it on first launch, here without a GPU. The other
/// GPU tests run the kernels on ILGPU's CPU accelerator, which executes their IL with .NET's own library: a call the
/// PTX backend has no instruction for (MathF.Exp and MathF.Log were two) passes there and fails on the first real
/// device. This catches it in CI.
/// </summary>
public class KernelCompilationTests
{
    /// <summary>The kernels: static void methods of Mspgt.Models.Gpu named *Kernel* (the convention every
    /// Load…Kernel call follows).</summary>
    public static MethodInfo[] Kernels() => typeof(GpuDevice).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(GpuDevice).Namespace)
        .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
        .Where(m => m.ReturnType == typeof(void) && m.Name.Contains("Kernel", StringComparison.Ordinal))
        .OrderBy(m => m.DeclaringType!.Name).ThenBy(m => m.Name).ToArray();

    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var m in Kernels()) data.Add($"{m.DeclaringType!.Name}.{m.Name}");
        return data;
    }

    [Fact]
    public void TheKernelListHoldsEveryLoadedKernel()
    {
        // Each Load…Kernel call in the GPU sources names one of these methods; a kernel named otherwise would be left
        // out of the compilation below, so the sources are read for the names they load.
        var root = Path.Combine(Cli.UsageTests.RepoRoot(), "src", "Mspgt", "Models", "Gpu");
        var loaded = Directory.GetFiles(root, "*.cs")
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), @"\.Load\w*Kernel<[^;]*?>\((\w+)\)")
                .Select(m => (Type: Path.GetFileNameWithoutExtension(f), Name: m.Groups[1].Value)))
            .ToList();
        Assert.True(loaded.Count >= 20, $"found only {loaded.Count} Load…Kernel calls; has the pattern changed?");
        var kernels = Kernels().Select(m => (m.DeclaringType!.Name, m.Name)).ToHashSet();
        foreach (var (type, name) in loaded)
            Assert.True(kernels.Contains((type, name)), $"{type}.{name} is loaded as a kernel but not compiled by this test (name it *Kernel*)");
    }

    /// <summary>Implicitly grouped kernels are loaded only through <see cref="KernelLoading"/>, whose launches take an
    /// empty extent as no work: ILGPU itself refuses an empty grid (on the emulator as on CUDA).</summary>
    [Fact]
    public void EveryImplicitlyGroupedKernelTakesAnEmptyLaunchAsNoWork()
    {
        var root = Path.Combine(Cli.UsageTests.RepoRoot(), "src", "Mspgt");
        var direct = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "KernelLoading.cs" && File.ReadAllText(f).Contains("LoadAutoGroupedStreamKernel"))
            .Select(Path.GetFileName).ToList();
        Assert.True(direct.Count == 0, $"{string.Join(", ", direct)} load kernels directly; use KernelLoading.LoadGroupedKernel");

        using var device = GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!;
        var acc = device.Accelerator;
        using var counter = acc.Allocate1D<int>(1);
        counter.MemSetToZero();
        var view = counter.View;
        var raw = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(CountKernel);
        Assert.ThrowsAny<ArgumentException>(() => { raw(new Index1D(0), view); });
        var launch = acc.LoadGroupedKernel<Index1D, ArrayView<int>>(CountKernel);
        launch(new Index1D(0), view);
        launch(new Index1D(3), view);
        acc.Synchronize();
        Assert.Equal(3, counter.GetAsArray1D()[0]);
    }

    static void CountKernel(Index1D i, ArrayView<int> count) => Atomic.Add(ref count[0], 1);

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToPtxForAmpereAndHopper(string kernel)
    {
        var method = Kernels().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == kernel);
        var first = method.GetParameters()[0].ParameterType;
        var entry = first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        using var context = Context.Create(b => b.Cuda());
        foreach (var arch in new[] { CudaArchitecture.SM_80, CudaArchitecture.SM_90 })
        {
            using var backend = new PTXBackend(context, arch, CudaInstructionSet.ISA_80, nvvmAPI: null!);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            Assert.Contains(".entry", compiled.PTXAssembly);
        }
    }

    /// <summary>A kernel that calls MathF.Exp does not compile to PTX: the failure this test class exists for.</summary>
    [Fact]
    public void MathFExpHasNoPtxInstruction()
    {
        using var context = Context.Create(b => b.Cuda());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null!);
        var entry = EntryPointDescription.FromImplicitlyGroupedKernel(
            typeof(KernelCompilationTests).GetMethod(nameof(LibraryExp), BindingFlags.Static | BindingFlags.NonPublic)!);
        var e = Assert.ThrowsAny<Exception>(() => backend.Compile(entry, KernelSpecialization.Empty));
        Assert.Contains("ExpF", e.ToString());
    }

    static void LibraryExp(Index1D i, ArrayView<float> x) => x[i] = MathF.Exp(x[i]);

    /// <summary>
    /// DeviceMath against double-precision exp and log, as the CPU accelerator runs it (exact 2^x): within 2e-7
    /// relative over float's whole finite range of results, subnormals included, and the special values as MathF's.
    /// On a GPU ex2.approx and lg2.approx add their 2⁻²² (2.4e-7).
    /// </summary>
    [Fact]
    public void DeviceMathMatchesDoublePrecision()
    {
        for (double x = -103.0; x <= 88.7; x += 0.0137)
        {
            float xf = (float)x;
            double want = Math.Exp(xf);
            double got = DeviceMath.Exp(xf);
            double tol = want < 1.2e-38 ? 1.5e-45 : 2e-7 * want;   // subnormals: within one step of 2^-149
            Assert.True(Math.Abs(got - want) <= tol, $"exp({xf:R}) = {got:R}, want {want:R}");
        }
        Assert.Equal(1f, DeviceMath.Exp(0f));
        Assert.Equal(0f, DeviceMath.Exp(float.NegativeInfinity));
        Assert.Equal(0f, DeviceMath.Exp(-200f));
        Assert.Equal(float.PositiveInfinity, DeviceMath.Exp(89f));
        Assert.Equal(float.PositiveInfinity, DeviceMath.Exp(float.PositiveInfinity));
        Assert.True(float.IsNaN(DeviceMath.Exp(float.NaN)));

        for (double x = 1e-30; x < 1e30; x *= 1.37)
        {
            float xf = (float)x;
            double want = Math.Log(xf), got = DeviceMath.Log(xf);
            Assert.True(Math.Abs(got - want) <= 2e-7 * Math.Max(1, Math.Abs(want)), $"log({xf:R}) = {got:R}, want {want:R}");
        }
        Assert.Equal(float.NegativeInfinity, DeviceMath.Log(0f));
        Assert.True(float.IsNaN(DeviceMath.Log(-1f)));
    }
}
