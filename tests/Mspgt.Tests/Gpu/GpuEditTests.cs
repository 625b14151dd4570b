using Mspgt.Interventions;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// intervene's editors as device edits on the emulated device: each gives the CPU editor's activations and logits
/// within f32 tolerance, without copying the activation to the host.
/// </summary>
public class GpuEditTests
{
    static readonly int[] Ids = [5, 17, 200, 33, 41, 8, 99, 250, 3, 77];
    static readonly int[] Other = [5, 140, 2, 61, 19, 230];

    public static TheoryData<string, InterventionKind, InterventionComponent, double?> Editors() => new()
    {
        { "tiny-llama", InterventionKind.Zero, InterventionComponent.Attn, null },
        { "tiny-qwen2", InterventionKind.Zero, InterventionComponent.Mlp, null },
        { "tiny-llama", InterventionKind.Skip, InterventionComponent.Both, null },
        { "tiny-qwen2", InterventionKind.Mean, InterventionComponent.Both, null },
        { "tiny-llama", InterventionKind.Noise, InterventionComponent.ResidPost, 0.5 },
        { "tiny-qwen3", InterventionKind.Noise, InterventionComponent.ResidPost, 1.0 },
        { "tiny-llama", InterventionKind.Resample, InterventionComponent.Both, null },
        { "tiny-qwen2", InterventionKind.Resample, InterventionComponent.ResidPost, null },
    };

    static void Close(float[] want, float[] got, string what, float tol = 1e-4f)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"{what}[{i}]: device {got[i]} vs CPU {want[i]}");
    }

    [Theory]
    [MemberData(nameof(Editors))]
    public void EachEditorOnTheDeviceMatchesTheCpu(string fixture, InterventionKind kind, InterventionComponent component, double? alpha)
    {
        using var m = ModelLoader.Load(TestData.Path("fixtures", fixture), loadTokenizer: false);
        var cpu = new Transformer(m.Config, m.Weights);
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, 64);
        var spec = new InterventionSpec(kind, component, alpha);
        var stats = CleanActivationStatistics.Compute(cpu, [Ids, Other]);
        const int first = 1, last = 2;
        Hooks Editors(IDecoder model) => InterventionEditors.Create(spec, first, last, stats, new NoiseKey(7, 3, -1),
            kind == InterventionKind.Resample ? DonorActivations.Capture(model, Other, first, last) : null);

        // Edits alone: the activations never leave the device.
        var gpuHooks = Editors(gpu);
        long before = gpu.HookDownloads;
        var got = gpu.Forward(Ids, null, gpuHooks);
        Assert.Equal(before, gpu.HookDownloads);
        var want = cpu.Forward(Ids, null, Editors(cpu));
        Close(want, got, "logits");
        Assert.NotEqual(cpu.Forward(Ids), want); // the editor changed something

        // What the edited points hold afterwards, observed on both devices.
        HookPoint[] points = [HookPoint.AttnOut(first), HookPoint.MlpOut(first), HookPoint.ResidPost(first), HookPoint.ResidPost(last)];
        var (_, cpuCache) = cpu.RunWithCache(Ids, points, Editors(cpu), LogitRows.None);
        var (_, gpuCache) = gpu.RunWithCache(Ids, points, Editors(gpu), LogitRows.None);
        foreach (var p in points) Close(cpuCache[p].Data, gpuCache[p].Data, p.Name, 1e-5f);
    }

    [Fact]
    public void DeviceEditsAndHostHooksAtOnePointRunInTheirOrder()
    {
        using var m = ModelLoader.Load(TestData.Path("fixtures", "tiny-llama"), loadTokenizer: false);
        var cpu = new Transformer(m.Config, m.Weights);
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, 64);
        var p = HookPoint.ResidPost(1);
        var fill = Enumerable.Range(0, m.Config.Dim).Select(i => 0.01f * i).ToArray();
        (float[] Logits, float[] Seen, float[] Before) Run(IDecoder model)
        {
            float[]? seen = null, beforeEdit = null;
            var hooks = new Hooks()
                .Observe(p, t => beforeEdit = t.Data.ToArray())
                .Edit(p, t => t.Row(0).Fill(2f))
                .Edit(p, new ActivationEdit.AddRows((position, row) => row.Fill(position)))
                .Observe(p, t => seen = t.Data.ToArray())
                .Edit(p, new ActivationEdit.CopyRows(fill, 1))
                .Edit(p, t => t.Row(2).Clear());
            var logits = model.Forward(Ids, null, hooks);
            return (logits, seen!, beforeEdit!);
        }
        var (wantLogits, wantSeen, wantBefore) = Run(cpu);
        var (gotLogits, gotSeen, gotBefore) = Run(gpu);
        Close(wantBefore, gotBefore, "before the edits", 1e-5f);
        Close(wantSeen, gotSeen, "between the edits", 1e-5f);
        Close(wantLogits, gotLogits, "logits");
        int dim = m.Config.Dim;
        Assert.Equal(gotBefore[dim + 3] + 1f, gotSeen[dim + 3]); // row 1 (position 1) got 1 added on the device
        Assert.Equal(2f + 0f, gotSeen[5]);                        // row 0: the host's 2, plus position 0
    }
}
