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
    }

    public static Result Measure(LoadedModel model, int tokens, int runs, int seed = 1, int batch = 1)
    {
        var c = model.Config;
        if (tokens <= 0 || tokens > c.MaxSeq) throw MspgtException.ForSetting("tokens", $"must be in 1..{c.MaxSeq} (the model's context)");
        if (runs <= 0) throw MspgtException.ForSetting("runs", "must be ≥ 1");
        if (batch <= 0) throw MspgtException.ForSetting("batch", "must be ≥ 1");
        var (docs, hooks) = Workload(c, tokens, batch, seed);
        var tf = model.Decoder;
        // The batch as one ForwardBatch: one launch on a GPU, one document after another on the CPU.
        var batchHooks = docs.Select(_ => (Hooks?)hooks).ToArray();
        // Warm-up (JIT, page-in of mapped weights, kernel compilation; a batching device also sizes its buffers).
        if (tf.BatchSize(tokens) > 1) tf.ForwardBatch(docs, batchHooks, LogitRows.All);
        else tf.Forward(docs[0], null, hooks, LogitRows.All);
        var list = new List<Run>();
        for (int r = 0; r < runs; r++)
        {
            var sw = Stopwatch.StartNew();
            tf.ForwardBatch(docs, batchHooks, LogitRows.All);
            double s = sw.Elapsed.TotalSeconds;
            list.Add(new Run(s, (double)batch * tokens / s));
        }
        double median = list.Select(x => x.Seconds).Order().ElementAt(list.Count / 2);
        long weightBytes = model.Tensors.Sum(t => t.Bytes);
        return new Result(model.Path, tokens, (double)batch * tokens / median, batch * SyntheticModel.PrefillFlops(c, tokens) / median / 1e9,
            PeakRssMegabytes(), weightBytes, Mspgt.Numerics.Parallelism.Threads, LoadAverage(), list) {
                Device = tf.Device, Batch = batch,
                Dtype = tf is Models.Gpu.GpuTransformer g ? Models.Gpu.DeviceChoice.Name(g.Dtype) : "f32",
                DeviceWeightBytes = (tf as Models.Gpu.GpuTransformer)?.WeightBytes,
            };
    }

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
