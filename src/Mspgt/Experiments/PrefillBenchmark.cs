using System.Diagnostics;
using System.Text.Json.Serialization;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Experiments;

/// <summary>
/// Prefill speed with the analysis hooks on (attention entropy and distance streamed from each layer's pattern,
/// nothing cached): tokens/s as the median of several runs after a warm-up, effective GFLOP/s, peak RSS.
/// </summary>
public static class PrefillBenchmark
{
    public sealed record Run([property: JsonPropertyName("seconds")] double Seconds, [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond);

    public sealed record Result(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("tokens")] int Tokens,
        [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
        [property: JsonPropertyName("gflops")] double Gflops,
        [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
        [property: JsonPropertyName("weight_bytes")] long WeightBytes,
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("load_average")] double LoadAverage,
        [property: JsonPropertyName("runs")] IReadOnlyList<Run> Runs)
    {
        /// <summary>Where the forward pass ran ("cpu", "cuda:0 (…)").</summary>
        [JsonPropertyName("device")] public string Device { get; init; } = "cpu";
        /// <summary>Documents per timed run (one batched pass on a GPU, one after another on the CPU); tokens/s counts all of them.</summary>
        [JsonPropertyName("batch")] public int Batch { get; init; } = 1;
        /// <summary>The number format of the weights and matrix products: f32 on the CPU, the <c>--dtype</c> on a device.</summary>
        [JsonPropertyName("dtype")] public string Dtype { get; init; } = "f32";
        /// <summary>Bytes the weights take on the device (null on the CPU; half the f32 size for bf16/f16 matrices).</summary>
        [JsonPropertyName("device_weight_bytes")] public long? DeviceWeightBytes { get; init; }
        /// <summary>What each timed pass does besides the forward itself (hooks, captures, where the logits go).</summary>
        [JsonPropertyName("workload")] public string Workload { get; init; } = CpuWorkload;
        /// <summary>On a device: the same passes without the resid_post capture (attention statistics only), median
        /// tokens/s, so that what the copies to the host cost is read off beside the workload's figure.</summary>
        [JsonPropertyName("tokens_per_s_without_capture")] public double? TokensPerSecondWithoutCapture { get; init; }
        /// <summary>On a device: whether the capture's copies land in page-locked host memory ("page-locked") or
        /// pageable memory ("pageable", when the device would not register it).</summary>
        [JsonPropertyName("host_copies")] public string? HostCopies { get; init; }
        /// <summary>On a device: whether the capture's copies to the host run on a second stream while the next block
        /// computes (true) or with the device waiting (false, <c>MSPGT_GPU_OVERLAP=0</c>).</summary>
        [JsonPropertyName("capture_overlapped")] public bool? CaptureOverlapped { get; init; }
        /// <summary>On a device: the fused attention kernel's form ("warp per row" or "thread per row").</summary>
        [JsonPropertyName("attention_kernel")] public string? AttentionKernel { get; init; }
    }

    public static Result Measure(LoadedModel model, int tokens, int runs, int seed = 1, int batch = 1)
    {
        var c = model.Config;
        if (tokens <= 0 || tokens > c.MaxSeq) throw MspgtException.ForSetting("tokens", $"must be in 1..{c.MaxSeq} (the model's context)");
        if (runs <= 0) throw MspgtException.ForSetting("runs", "must be ≥ 1");
        if (batch <= 0) throw MspgtException.ForSetting("batch", "must be ≥ 1");
        var (docs, hooks) = Workload(c, tokens, batch, seed);
        var tf = model.Decoder;
        var gpu = tf as Models.Gpu.GpuTransformer;
        // The batch as one ForwardBatch: one launch on a GPU, one document after another on the CPU. On a GPU also the
        // analysis capture (every block's residual stream copied to the host, as analyze does), and every row's logits
        // computed but left on the device, as a model call there leaves them.
        var batchHooks = gpu == null ? docs.Select(_ => (Hooks?)hooks).ToArray() : WithResidualCapture(c, docs, hooks);
        // On the CPU each document's logits are written over the array of its previous pass (handed back, as a caller
        // done with them may), as PyTorch's side of the comparison writes into a kept tensor (bench/pytorch_prefill.py):
        // a new 33 MB array per pass made the garbage collector stop every thread once a pass, a serial step.
        var logits = new float[docs.Length][];
        void Pass()
        {
            if (gpu != null) { gpu.ForwardBatchOnDevice(docs, batchHooks); return; }
            if (tf.BatchSize(tokens) > 1) { tf.ForwardBatch(docs, batchHooks, LogitRows.All); return; }
            for (int i = 0; i < docs.Length; i++) logits[i] = tf.Forward(docs[i], null, batchHooks[i], LogitRows.All, logits[i]);
        }
        // Warm-up (JIT, page-in of mapped weights, kernel compilation; a batching device also sizes its buffers).
        if (tf.BatchSize(tokens) > 1 || gpu != null) Pass();
        else logits[0] = tf.Forward(docs[0], null, hooks, LogitRows.All, null);
        // Seconds of each of the timed runs of a pass, and their median.
        double[] Timed(Action pass) => Enumerable.Range(0, runs).Select(_ =>
        {
            var sw = Stopwatch.StartNew();
            pass();
            return sw.Elapsed.TotalSeconds;
        }).ToArray();
        static double Median(double[] seconds) => seconds.Order().ElementAt(seconds.Length / 2);
        var list = Timed(Pass).Select(s => new Run(s, (double)batch * tokens / s)).ToList();
        double median = Median(list.Select(x => x.Seconds).ToArray());
        double? withoutCapture = null;
        if (gpu != null)
        {
            var plain = docs.Select(_ => (Hooks?)hooks).ToArray();
            void PlainPass() => gpu.ForwardBatchOnDevice(docs, plain);
            PlainPass();   // warm-up of this hook set
            withoutCapture = batch * tokens / Median(Timed(PlainPass));
        }
        long weightBytes = model.Tensors.Sum(t => t.Bytes);
        return new Result(model.Path, tokens, (double)batch * tokens / median, batch * SyntheticModel.PrefillFlops(c, tokens) / median / 1e9,
            PeakRssMegabytes(), weightBytes, Mspgt.Numerics.Parallelism.Threads, LoadAverage(), list) {
                Device = tf.Device, Batch = batch,
                Dtype = gpu != null ? Models.Gpu.DeviceChoice.Name(gpu.Dtype) : "f32",
                DeviceWeightBytes = gpu?.WeightBytes,
                Workload = gpu == null ? CpuWorkload : DeviceWorkload,
                TokensPerSecondWithoutCapture = withoutCapture,
                HostCopies = gpu?.PinnedHostCopies switch { true => "page-locked", false => "pageable", null => null },
                AttentionKernel = gpu?.AttentionForm,
                CaptureOverlapped = gpu?.OverlapsCopies,
            };
    }

    const string CpuWorkload = "attention entropy and distance of every layer observed; every row's logits returned, "
        + "written over the previous pass's array";
    const string DeviceWorkload = "attention entropy and distance of every layer observed; every block's resid_post copied to the host; "
        + "every row's logits computed and left on the device";

    /// <summary>Each document's hooks plus observers that copy every block's residual stream into host buffers made once
    /// (the capture analyze makes, without allocating in the timed passes).</summary>
    static Hooks?[] WithResidualCapture(ModelConfig c, int[][] docs, Hooks hooks) =>
        docs.Select(doc =>
        {
            var h = hooks.Copy();
            for (int l = 0; l < c.Layers; l++)
            {
                var buffer = new float[doc.Length * c.Dim];
                h.Observe(HookPoint.ResidPost(l), t => t.Data.CopyTo(buffer));
            }
            return (Hooks?)h;
        }).ToArray();

    /// <summary>What a timed prefill runs, here and in <see cref="ThreadScaling"/>: <paramref name="batch"/> documents of
    /// <paramref name="tokens"/> seeded random ids, and the analysis hooks (every layer's attention entropy and
    /// distance, streamed; nothing cached).</summary>
    internal static (int[][] Documents, Hooks Hooks) Workload(ModelConfig c, int tokens, int batch, int seed)
    {
        var rng = new Random(seed);
        var docs = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, tokens).Select(_ => rng.Next(c.Vocab)).ToArray()).ToArray();
        var hooks = new Hooks();
        AttentionStatistics.Observe(hooks, c.Layers);
        return (docs, hooks);
    }

    /// <summary>
    /// The 1-minute load average from /proc/loadavg (NaN where unavailable): timings are only meaningful when it is
    /// below the core count, so the result records it.
    /// </summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
    }

    /// <summary>VmHWM from /proc/self/status (Linux); the process's peak resident set.</summary>
    public static double PeakRssMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:"))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { }
        return Environment.WorkingSet / 1048576.0;
    }
}
