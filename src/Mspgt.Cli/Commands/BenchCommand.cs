using System.CommandLine;
using Mspgt.Experiments;
using Mspgt.Loading;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt bench`: prefill throughput with streaming analysis hooks on.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var synthetic = new Option<string?>("--synthetic") { Description = "Benchmark a random in-memory model instead: 15m, 42m, 110m, qwen2.5-0.5b, qwen3-0.6b, llama-3.2-1b or llama-3.1-8b" };
        var tokens = new Option<int>("--tokens") { Description = "Prefill length", DefaultValueFactory = _ => 256 };
        var weightType = new Option<string?>("--weight-type") { Description = "Stored type of the synthetic model's matrices: f32 (default), bf16 or q8_0" };
        var runs = new Option<int>("--runs") { Description = "Timed runs after one warm-up (median reported)", DefaultValueFactory = _ => 5 };
        var json = CliCommon.JsonOption();
        var cmd = new Command("bench", "Measure prefill tokens/s, effective GFLOP/s and peak RSS");
        var threads = CliCommon.ThreadsOption();
        var device = CliCommon.DeviceOption();
        var parity = new Option<string?>("--parity")
        {
            Description = "Instead of timing: check the forward pass on --device against the F32 goldens of the fixtures in this folder "
                          + "(the one holding fixtures/ and models/); prints one JSON object, exit 1 when a case is off",
        };
        var scaling = new Option<string?>("--scaling")
        {
            Description = "Instead of one timing: alternate prefills at these thread counts (e.g. 1,2,16) in one process, --runs rounds, "
                          + "and report each count's speed-up over the first (median and quartiles of the rounds' own ratios) beside a "
                          + "compute-only loop's speed-up in the same rounds (what the cores give at that moment)",
        };
        var batch = new Option<int>("--batch") { Description = "Documents per timed run: one batched launch on a GPU (--device cuda), one after another on the CPU", DefaultValueFactory = _ => 1 };
        foreach (var o in new Option[] { model, synthetic, weightType, tokens, batch, runs, json, parity, scaling, threads, device.Device, device.Dtype }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            if (p.GetValue(parity) is string shared)
            {
                var check = DeviceParity.Run(shared, device.Spec(p), device.Type(p), note => Console.Error.WriteLine(note));
                CliCommon.PrintJson(check, indented: true);
                return check.Passed ? 0 : 1;
            }
            string? syn = p.GetValue(synthetic);
            string? wt = p.GetValue(weightType);
            if (syn == null && wt != null)
                throw new MspgtException("--weight-type", "only applies to --synthetic models (a model file has its own types)");
            using var m = syn != null
                ? SyntheticModel.Build(SyntheticModel.Preset(syn), weightType: SyntheticModel.ParseWeightType(wt ?? "f32"))
                : ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), loadTokenizer: false);
            CliCommon.ApplyDevice(p, device, m);
            string label = syn != null ? $"synthetic {syn} ({wt ?? "f32"})" : m.Path;
            if (p.GetValue(scaling) is string counts)
            {
                var sc = ThreadScaling.Measure(m, p.GetValue(tokens), p.GetValue(runs), ParseThreadCounts(counts));
                if (p.GetValue(json)) { CliCommon.PrintJson(sc, indented: true); return 0; }
                Console.WriteLine($"{label}: prefill of {sc.Tokens} tokens, {sc.Rounds} rounds, load average {sc.LoadAverage:F2}");
                foreach (var pt in sc.Points)
                    Console.WriteLine($"  {pt.Threads,3} threads: {pt.TokensPerSecond,8:F1} tokens/s, speed-up {pt.SpeedUp:F2}x (quartiles {pt.SpeedUpP25:F2}-{pt.SpeedUpP75:F2}), compute loop {pt.ComputeLoopSpeedUp:F2}x");
                return 0;
            }
            var r = PrefillBenchmark.Measure(m, p.GetValue(tokens), p.GetValue(runs), batch: p.GetValue(batch));
            if (p.GetValue(json)) { CliCommon.PrintJson(r, indented: true); return 0; }
            Console.WriteLine($"{label} on {r.Device}: prefill {r.Batch} × {r.Tokens} tokens: {r.TokensPerSecond:F1} tokens/s, {r.Gflops:F1} GFLOP/s effective, peak RSS {r.PeakRssMb:F0} MB (weights {r.WeightBytes / 1048576.0:F1} MB), load average {r.LoadAverage:F2}, runs: {string.Join(", ", r.Runs.Select(x => $"{x.Seconds:F3}s"))}");
            return 0;
        });
        return cmd;
    }

    /// <summary>"1,2,16" → [1, 2, 16]; anything else is bad input naming --scaling.</summary>
    internal static int[] ParseThreadCounts(string s)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        var counts = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out counts[i]) || counts[i] <= 0)
                throw new MspgtException("--scaling", $"'{s}' is not a list of positive thread counts (e.g. 1,2,16)");
        return counts;
    }
}
