using System.Diagnostics;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals;

namespace Mspgt.Bench;

/// <summary>
/// <see cref="SignalCostBenchmarks"/>'s comparison (one 256-token document on the Qwen2.5-0.5B shape, BF16: the
/// forward pass with every block cached against forward + every signal) timed in process CPU seconds as well as
/// wall seconds. On a machine other jobs share, wall time measures their load; CPU time measures the work.
/// Run: <c>dotnet run -c Release --project bench/Mspgt.Bench -- signal-cost-cpu [threads, 0 = all] [repetitions]</c>.
/// </summary>
public static class SignalCostCpu
{
    public static void Run(int threads, int reps)
    {
        Parallelism.Set(threads);
        var c = SyntheticModel.Preset("qwen2.5-0.5b");
        using var model = SyntheticModel.Build(c, seed: 1, weightType: Checkpoints.TensorType.BF16);
        var tf = new Transformer(model.Config, model.Weights);
        var rng = new Random(1);
        var ids = Enumerable.Range(0, 256).Select(_ => rng.Next(c.Vocab)).ToArray();
        var points = Enumerable.Range(0, c.Layers).Select(HookPoint.ResidPost).Prepend(HookPoint.Embed).ToArray();
        var signals = new DocumentSignals(tf, new SignalSettings());
        Time(() => signals.Measure(ids));   // warm-up (JIT)
        var forward = new List<(double Wall, double Cpu)>();
        var all = new List<(double Wall, double Cpu)>();
        for (int r = 0; r < reps; r++)
        {
            forward.Add(Time(() => tf.RunWithCache(ids, points, null, LogitRows.None)));
            all.Add(Time(() => signals.Measure(ids)));
        }
        double fw = Median(forward.Select(x => x.Wall)), fc = Median(forward.Select(x => x.Cpu));
        double aw = Median(all.Select(x => x.Wall)), ac = Median(all.Select(x => x.Cpu));
        Console.WriteLine($"threads {Parallelism.Threads}, medians of {reps}: forward wall {fw:F2} s, CPU {fc:F2} s; " +
            $"forward + signals wall {aw:F2} s, CPU {ac:F2} s; signals / forward: wall {(aw - fw) / fw:F2}, CPU {(ac - fc) / fc:F2} " +
            $"(load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
    }

    private static (double Wall, double Cpu) Time(Action a)
    {
        var p = Process.GetCurrentProcess();
        var cpu = p.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        a();
        double wall = sw.Elapsed.TotalSeconds;
        p.Refresh();
        return (wall, (p.TotalProcessorTime - cpu).TotalSeconds);
    }

    private static double Median(IEnumerable<double> values)
    {
        var a = values.OrderBy(v => v).ToArray();
        return a[a.Length / 2];
    }
}
