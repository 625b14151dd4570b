using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text.Json.Serialization;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Scales;

namespace Mspgt.Experiments;

/// <summary>
/// How the prefill speeds up with threads, measured so that a shared or throttled machine cannot fake or hide it:
/// every round runs one prefill at each thread count in turn inside one process (the machine's state drifts over
/// minutes, not within a round), and each count's speed-up over the first is the median of the rounds' own ratios.
/// Beside it, the same rounds time a compute-only loop (independent fused multiply-adds, no memory traffic) at each
/// count: its speed-up is what the cores themselves give at that moment, the ceiling for the prefill's.
/// </summary>
public static class ThreadScaling
{
    public sealed record Point(
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
        [property: JsonPropertyName("speedup")] double SpeedUp,
        [property: JsonPropertyName("speedup_p25")] double SpeedUpP25,
        [property: JsonPropertyName("speedup_p75")] double SpeedUpP75,
        [property: JsonPropertyName("compute_loop_speedup")] double ComputeLoopSpeedUp);

    public sealed record Result(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("tokens")] int Tokens,
        [property: JsonPropertyName("rounds")] int Rounds,
        [property: JsonPropertyName("load_average")] double LoadAverage,
        [property: JsonPropertyName("points")] IReadOnlyList<Point> Points);

    /// <summary>
    /// <paramref name="rounds"/> rounds of one <paramref name="tokens"/>-token prefill (the analysis hooks on, as
    /// <see cref="PrefillBenchmark"/>) and one compute-loop timing at each of <paramref name="threads"/>, after a
    /// warm-up at each. Speed-ups are relative to the first count. The process-wide thread count is restored.
    /// </summary>
    public static Result Measure(LoadedModel model, int tokens, int rounds, IReadOnlyList<int> threads, int seed = 1)
    {
        var c = model.Config;
        if (tokens <= 0 || tokens > c.MaxSeq) throw MspgtException.ForSetting("tokens", $"must be in 1..{c.MaxSeq} (the model's context)");
        if (rounds <= 0) throw MspgtException.ForSetting("runs", "must be ≥ 1");
        if (threads.Count == 0 || threads.Any(t => t <= 0)) throw MspgtException.ForSetting("scaling", "give one or more positive thread counts, e.g. 1,2,16");
        if (model.Decoder.Device != "cpu") throw MspgtException.ForSetting("scaling", "measures the CPU's threads; run it without --device cuda");
        var (docs, hooks) = PrefillBenchmark.Workload(c, tokens, batch: 1, seed);
        var ids = docs[0];
        var decoder = model.Decoder;
        int before = Parallelism.Threads;
        var prefill = threads.Select(_ => new double[rounds]).ToArray();
        var loop = threads.Select(_ => new double[rounds]).ToArray();
        try
        {
            float[]? logits = null;   // handed back each pass, as the benchmark does (PrefillBenchmark)
            double Prefill(int n)
            {
                Parallelism.Set(n);
                long t0 = Stopwatch.GetTimestamp();
                logits = decoder.Forward(ids, null, hooks, LogitRows.All, logits);
                return Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            foreach (int n in threads) { Prefill(n); ComputeLoop(n); }
            for (int r = 0; r < rounds; r++)
                for (int i = 0; i < threads.Count; i++)
                {
                    prefill[i][r] = Prefill(threads[i]);
                    loop[i][r] = ComputeLoop(threads[i]);
                }
        }
        finally { Parallelism.Set(before); }
        var points = new List<Point>();
        for (int i = 0; i < threads.Count; i++)
        {
            // Per round: the first count's time over this count's (the loop does `threads` times the work).
            var ratios = Enumerable.Range(0, rounds).Select(r => prefill[0][r] / prefill[i][r]).Order().ToArray();
            var loopRatios = Enumerable.Range(0, rounds).Select(r => (double)threads[i] / threads[0] * loop[0][r] / loop[i][r]).Order().ToArray();
            points.Add(new Point(threads[i], tokens / CalibratedSelection.Quantile(prefill[i].Order().ToArray(), 0.5),
                CalibratedSelection.Quantile(ratios, 0.5), CalibratedSelection.Quantile(ratios, 0.25), CalibratedSelection.Quantile(ratios, 0.75), CalibratedSelection.Quantile(loopRatios, 0.5)));
        }
        return new Result(model.Path, tokens, rounds, PrefillBenchmark.LoadAverage(), points);
    }

    /// <summary>Seconds for <paramref name="threads"/> threads to each run the same fixed chain of independent
    /// fused multiply-adds in registers (about 10 ms on a Zen 5 core, so a worker's wake-up is under 1% of it): no memory
    /// traffic, no shared data.</summary>
    private static double ComputeLoop(int threads)
    {
        var options = Parallelism.OptionsFor(threads);
        long t0 = Stopwatch.GetTimestamp();
        Parallel.For(0, threads, options, _ => Fmas(8_000_000));
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fmas(int n)
    {
        // Eight independent accumulators cover the FMA latency × throughput of current x86 cores.
        var a0 = Vector256.Create(1f);
        var (a1, a2, a3, a4, a5, a6, a7) = (a0, a0, a0, a0, a0, a0, a0);
        var m = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-6f);
        for (int i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, b); a1 = Vector256.FusedMultiplyAdd(a1, m, b);
            a2 = Vector256.FusedMultiplyAdd(a2, m, b); a3 = Vector256.FusedMultiplyAdd(a3, m, b);
            a4 = Vector256.FusedMultiplyAdd(a4, m, b); a5 = Vector256.FusedMultiplyAdd(a5, m, b);
            a6 = Vector256.FusedMultiplyAdd(a6, m, b); a7 = Vector256.FusedMultiplyAdd(a7, m, b);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
