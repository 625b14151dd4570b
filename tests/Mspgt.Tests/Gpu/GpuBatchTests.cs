using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// Batched prefill on the emulated device: documents of different lengths packed into one pass give each one what
/// its own pass gives (logits, every observed activation, attention rows), and the CPU's ForwardBatch is its
/// one-by-one Forward.
/// </summary>
public class GpuBatchTests
{
    static readonly int[][] Documents = [[1, 7, 3, 9, 20, 4], [5, 2, 8, 11, 13, 6, 17, 30, 12], [2, 40, 3]];

    static readonly Func<int, HookPoint>[] PerLayer =
        [HookPoint.ResidPre, HookPoint.AttnQ, HookPoint.AttnK, HookPoint.AttnV, HookPoint.AttnScores, HookPoint.AttnPattern,
         HookPoint.AttnZ, HookPoint.AttnOut, HookPoint.MlpPost, HookPoint.ResidPost];

    static HookPoint[] Points(int layers) =>
        [HookPoint.Embed, .. Enumerable.Range(0, layers).SelectMany(l => PerLayer.Select(f => f(l))), HookPoint.FinalNorm, HookPoint.Logits];

    static (LoadedModel Model, ModelConfig Config) Open(string fixture)
    {
        var m = ModelLoader.Load(TestData.Path("fixtures", fixture), loadTokenizer: false);
        // tiny-qwen2 also gets a sliding window from layer 1, shorter than the documents.
        var config = fixture == "tiny-qwen2" ? m.Config with { SlidingWindow = 3, SlidingWindowFromLayer = 1 } : m.Config;
        return (m, config);
    }

    /// <summary>Observers of attention rows, recording (layer, entropy, distance, start) per call.</summary>
    static Hooks Rows(int layers, List<(int Layer, double[] Entropy, double[] Distance, int Start)> seen)
    {
        var hooks = new Hooks();
        for (int l = 0; l < layers; l++)
        {
            int layer = l;
            hooks.ObserveAttentionRows(l, r => seen.Add((layer, r.Entropy.ToArray(), r.Distance.ToArray(), r.StartPosition)));
        }
        return hooks;
    }

    [Theory]
    [InlineData("tiny-qwen2", LogitRows.All)]
    [InlineData("tiny-llama", LogitRows.All)]
    [InlineData("tiny-llama", LogitRows.Last)]
    public void ABatchOfThreeGivesEachDocumentItsSoloRun(string fixture, LogitRows logitRows)
    {
        var (m, config) = Open(fixture);
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        var points = Points(config.Layers);
        var seenBatch = Documents.Select(_ => new List<(int, double[], double[], int)>()).ToArray();
        var (batchLogits, batchCaches) = gpu.RunWithCacheBatch(Documents, points, seenBatch.Select(s => Rows(config.Layers, s)).ToArray(), logitRows);
        var cpu = new Transformer(config, m.Weights);
        for (int i = 0; i < Documents.Length; i++)
        {
            var seenSolo = new List<(int, double[], double[], int)>();
            var (soloLogits, soloCache) = gpu.RunWithCache(Documents[i], points, Rows(config.Layers, seenSolo), logitRows);
            // Bit-equal: every kernel and the emulated matrix product treat rows independently.
            Assert.Equal(soloLogits, batchLogits[i]);
            foreach (var p in points)
            {
                Assert.Equal(soloCache[p].Shape, batchCaches[i][p].Shape);
                Assert.Equal(soloCache[p].StartPosition, batchCaches[i][p].StartPosition);
                Assert.True(soloCache[p].Data.AsSpan().SequenceEqual(batchCaches[i][p].Data), $"document {i}: {p.Name} differs from its solo run");
            }
            Assert.Equal(config.Layers, seenBatch[i].Count);
            for (int k = 0; k < seenSolo.Count; k++)
            {
                Assert.Equal(seenSolo[k].Item1, seenBatch[i][k].Item1);
                Assert.Equal(seenSolo[k].Item2, seenBatch[i][k].Item2);
                Assert.Equal(seenSolo[k].Item3, seenBatch[i][k].Item3);
            }
            // And the solo run is the CPU's (as the parity tests check more widely).
            var want = cpu.Forward(Documents[i], null, null, logitRows);
            Assert.Equal(want.Length, batchLogits[i].Length);
            for (int j = 0; j < want.Length; j++)
                Assert.True(Math.Abs(want[j] - batchLogits[i][j]) <= 1e-4 * (1 + Math.Abs(want[j])), $"document {i} logit {j}: device {batchLogits[i][j]} vs CPU {want[j]}");
        }
    }

    /// <summary>
    /// With no hook on scores or patterns, attention runs fused for the whole batch: each document still gets its solo
    /// logits and attention rows bit for bit, and the CPU's within the parity tolerance (rows: 1e-5).
    /// </summary>
    [Theory]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-llama")]
    public void AFusedBatchGivesEachDocumentItsSoloRun(string fixture)
    {
        var (m, config) = Open(fixture);
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        var seenBatch = Documents.Select(_ => new List<(int, double[], double[], int)>()).ToArray();
        var batch = gpu.ForwardBatch(Documents, seenBatch.Select(s => (Hooks?)Rows(config.Layers, s)).ToArray(), LogitRows.All);
        var cpu = new Transformer(config, m.Weights);
        for (int i = 0; i < Documents.Length; i++)
        {
            var seenSolo = new List<(int, double[], double[], int)>();
            Assert.Equal(gpu.Forward(Documents[i], null, Rows(config.Layers, seenSolo)), batch[i]);
            var seenCpu = new List<(int, double[], double[], int)>();
            var want = cpu.Forward(Documents[i], null, Rows(config.Layers, seenCpu));
            for (int j = 0; j < want.Length; j++)
                Assert.True(Math.Abs(want[j] - batch[i][j]) <= 1e-4 * (1 + Math.Abs(want[j])), $"document {i} logit {j}: device {batch[i][j]} vs CPU {want[j]}");
            Assert.Equal(config.Layers, seenBatch[i].Count);
            for (int k = 0; k < seenSolo.Count; k++)
            {
                Assert.Equal(seenSolo[k].Item2, seenBatch[i][k].Item2);
                Assert.Equal(seenSolo[k].Item3, seenBatch[i][k].Item3);
                for (int r = 0; r < seenCpu[k].Item2.Length; r++)
                {
                    Assert.True(Math.Abs(seenCpu[k].Item2[r] - seenBatch[i][k].Item2[r]) <= 1e-5, $"document {i} layer {k} entropy row {r}");
                    Assert.True(Math.Abs(seenCpu[k].Item3[r] - seenBatch[i][k].Item3[r]) <= 1e-5 * (1 + seenCpu[k].Item3[r]), $"document {i} layer {k} distance row {r}");
                }
            }
        }
    }

    /// <summary>Observers of one point in every document of a batch get their rows from one copy of the batch's rows
    /// (each its own rows, as its solo run gives them); with an editor among them, each document is copied alone.</summary>
    [Fact]
    public void ObserversOfABatchShareOneCopyUnlessOneEdits()
    {
        var (m, config) = Open("tiny-llama");
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        var point = HookPoint.ResidPost(0);
        var solo = Documents.Select(d => gpu.RunWithCache(d, [point]).Cache[point].Data.ToArray()).ToArray();
        var seen = Documents.Select(_ => new List<(float[] Data, int[] Shape)>()).ToArray();
        Hooks Observing(int i) => new Hooks().Observe(point, t => seen[i].Add((t.Data.ToArray(), t.Shape.ToArray())));

        long downloads = gpu.HookDownloads;
        gpu.ForwardBatch(Documents, Documents.Select((_, i) => (Hooks?)Observing(i)).ToArray(), LogitRows.Last);
        Assert.Equal(downloads + 1, gpu.HookDownloads);
        for (int i = 0; i < Documents.Length; i++)
        {
            var (data, shape) = Assert.Single(seen[i]);
            Assert.Equal([Documents[i].Length, config.Dim], shape);
            Assert.Equal(solo[i], data);
        }

        foreach (var list in seen) list.Clear();
        var hooks = Documents.Select((_, i) => (Hooks?)Observing(i)).ToArray();
        hooks[1]!.Edit(point, t => t.Data[0] += 0);   // an editor that changes nothing
        downloads = gpu.HookDownloads;
        gpu.ForwardBatch(Documents, hooks, LogitRows.Last);
        Assert.Equal(downloads + Documents.Length, gpu.HookDownloads);
        for (int i = 0; i < Documents.Length; i++) Assert.Equal(solo[i], Assert.Single(seen[i]).Data);
    }

    /// <summary>
    /// The overlapped capture (observed rows copied on a second stream, their observers run at the next hook) changes
    /// neither what observers see nor the order hooks fire in: a log of every hook call of a batch (embedding, each
    /// block's resid_post and attention rows, final norm, logits wider than the staging buffer) is the same with it
    /// on and off, with the same number of copies.
    /// </summary>
    [Fact]
    public void OverlappedCaptureKeepsTheHooksOrderAndRows()
    {
        var (m, config) = Open("tiny-llama");
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        HookPoint[] points = [HookPoint.Embed, .. Enumerable.Range(0, config.Layers).Select(HookPoint.ResidPost), HookPoint.FinalNorm, HookPoint.Logits];
        (List<string> Log, long Downloads) Run(bool overlap)
        {
            gpu.OverlapsCopies = overlap;
            var log = new List<string>();
            var hooks = Documents.Select((_, i) =>
            {
                var h = new Hooks();
                foreach (var p in points) h.Observe(p, t => log.Add($"{i} {p.Name} {string.Join(",", t.Shape.ToArray())} {t.Data.ToArray().Sum():R}"));
                for (int l = 0; l < config.Layers; l++)
                {
                    int layer = l;
                    h.ObserveAttentionRows(l, r => log.Add($"{i} rows {layer} {r.Entropy.ToArray().Sum():R}"));
                }
                return (Hooks?)h;
            }).ToArray();
            long before = gpu.HookDownloads;
            gpu.ForwardBatch(Documents, hooks, LogitRows.All);
            return (log, gpu.HookDownloads - before);
        }
        var (plain, plainCopies) = Run(overlap: false);
        var (overlapped, overlappedCopies) = Run(overlap: true);
        Assert.Equal(Documents.Length * (points.Length + config.Layers), plain.Count);
        Assert.Equal(plain, overlapped);
        Assert.Equal(plainCopies, overlappedCopies);
    }

    /// <summary>ForwardBatchOnDevice (what bench times) computes every row's logits, which hooks at the logits see,
    /// exactly as ForwardBatch returns them, and copies none to the host.</summary>
    [Fact]
    public void OnDeviceLogitsAreComputedAndNotReturned()
    {
        var (m, config) = Open("tiny-llama");
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        var returned = gpu.ForwardBatch(Documents, null, LogitRows.All);
        var seen = Documents.Select(_ => new List<float[]>()).ToArray();
        var hooks = seen.Select(list => (Hooks?)new Hooks().Observe(HookPoint.Logits, t => list.Add(t.Data.ToArray()))).ToArray();
        long downloads = gpu.HookDownloads;
        gpu.ForwardBatchOnDevice(Documents, hooks);
        for (int i = 0; i < Documents.Length; i++) Assert.Equal(returned[i], Assert.Single(seen[i]));
        Assert.Equal(downloads + Documents.Length, gpu.HookDownloads);   // the observed logits only
    }

    [Fact]
    public void DocumentsOfABatchHaveTheirOwnEditors()
    {
        var (m, config) = Open("tiny-llama");
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        Hooks?[] hooks =
        [
            new Hooks().Edit(HookPoint.MlpOut(1), new ActivationEdit.Zero()),
            null,
            new Hooks().Edit(HookPoint.ResidPost(0), t => t.Row(1).Fill(0.25f)).Edit(HookPoint.AttnPattern(1), t => t.Data[0] = 0.5f),
        ];
        var batch = gpu.ForwardBatch(Documents, hooks, LogitRows.All);
        for (int i = 0; i < Documents.Length; i++) Assert.Equal(gpu.Forward(Documents[i], null, hooks[i]), batch[i]);
        Assert.NotEqual(gpu.Forward(Documents[0]), batch[0]);
        Assert.NotEqual(gpu.Forward(Documents[2]), batch[2]);
    }

    [Fact]
    public void TheCpuBatchIsItsForwardOneByOne()
    {
        var (m, config) = Open("tiny-qwen2");
        using var _ = m;
        IDecoder cpu = new Transformer(config, m.Weights);
        Assert.Equal(1, cpu.BatchSize(256));
        var batch = cpu.ForwardBatch(Documents, null, LogitRows.Last);
        for (int i = 0; i < Documents.Length; i++) Assert.Equal(cpu.Forward(Documents[i], null, null, LogitRows.Last), batch[i]);
    }

    [Fact]
    public void BatchSizeKeepsWithinTheTokenCapAndTheDevice()
    {
        var (m, config) = Open("tiny-llama");
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        Assert.Equal(GpuTransformer.MaxBatchTokens / 256, gpu.BatchSize(256));
        Assert.Equal(1, gpu.BatchSize(GpuTransformer.MaxBatchTokens));
    }

    [Fact]
    public void ABatchThatDoesNotFitIsOneLineBeforeAllocating()
    {
        var (m, config) = Open("tiny-llama");
        using var _ = m;
        using var gpu = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, config, m.Weights, 64);
        // Enough documents that all their logits rows alone exceed what the (emulated) device has free.
        var document = Enumerable.Range(0, config.MaxSeq).Select(i => i % config.Vocab).ToArray();
        long perDocument = GpuTransformer.BatchBytes(config, 2, config.MaxSeq) - GpuTransformer.BatchBytes(config, 1, config.MaxSeq);
        int count = checked((int)(2 * GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / perDocument + 2));
        var e = Assert.Throws<MspgtException>(() => gpu.ForwardBatch(Enumerable.Repeat(document, count).ToArray()));
        Assert.Contains($"a batch of {count} documents", e.Message);
        Assert.Contains("bytes on cuda:0", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
