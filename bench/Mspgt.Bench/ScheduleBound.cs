using Mspgt.Experiments;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Bench;

/// <summary>
/// The speed-up over 1 thread that the 110M prefill (256 tokens, the benchmark's hooks and workload) could reach on
/// an ideal machine of N cores, measured on this one (<see cref="LoopRecorder"/>): each round runs the pass as 1 thread
/// cuts it and as each N cuts it, every item timed, serially; N's loops are then scheduled on N ideal threads and the
/// serial time between them added. The round's bound is the 1-thread pass over that; the median round is reported.
/// What it counts as lost: N's finer cut's extra work, the serial time, the loops' tails. A real N-core machine loses
/// more (memory bandwidth, wake-ups, clocks), so a bound under a target means the target cannot be met as cut.
/// Run: <c>dotnet run -c Release --project bench/Mspgt.Bench -- schedule-bound [rounds] [counts, e.g. 2,16]</c>.
/// </summary>
public static class ScheduleBound
{
    public static void Run(int rounds, IReadOnlyList<int> counts)
    {
        var model = SyntheticModel.Build(SyntheticModel.Preset("110m"));
        var (docs, hooks) = PrefillBenchmark.Workload(model.Config, tokens: 256, batch: 1, seed: 1);
        var decoder = model.Decoder;
        float[]? logits = null;
        (double Seconds, LoopRecorder Recorder) Pass(int n)
        {
            Parallelism.Set(n);
            return LoopRecorder.Record(() => logits = decoder.Forward(docs[0], null, hooks, LogitRows.All, logits));
        }
        int[] all = [1, .. counts];
        foreach (int n in all) { Pass(n); Pass(n); }   // warm-up of each cut
        var passes = Enumerable.Range(0, rounds).Select(_ => all.Select(Pass).ToArray()).ToArray();
        for (int i = 1; i < all.Length; i++)
        {
            int n = all[i];
            var bounds = passes.Select(p =>
            {
                var (serial, loops, _) = p[i].Recorder.Bound(p[i].Seconds, n);
                return (SpeedUp: p[0].Seconds / (serial + loops), One: p[0].Seconds, Cut: p[i].Seconds, Serial: serial, Loops: loops, Count: p[i].Recorder.Loops.Count);
            }).OrderBy(b => b.SpeedUp).ToArray();
            var m = bounds[bounds.Length / 2];
            Console.WriteLine($"{n} threads: bound {m.SpeedUp:F2}x over 1 thread (rounds {bounds[0].SpeedUp:F2}-{bounds[^1].SpeedUp:F2}); median round: " +
                $"1 thread {m.One * 1e3:F1} ms, {n} threads' cut {m.Cut * 1e3:F1} ms run serially ({m.Count} loops), of it serial {m.Serial * 1e3:F2} ms; " +
                $"its loops on {n} ideal threads {m.Loops * 1e3:F2} ms (no tails: {(m.Cut - m.Serial) / n * 1e3:F2})");
            // Where the tails are, over all rounds: loops grouped by their number of items (a stage's cut).
            var groups = passes.SelectMany(p => p[i].Recorder.Loops).GroupBy(l => l.Length).Select(g => (Items: g.Key,
                Work: g.Sum(l => l.Sum()) / rounds, Makespan: g.Sum(l => LoopRecorder.Makespan(l, n)) / rounds, Loops: g.Count() / rounds));
            foreach (var g in groups.OrderByDescending(g => g.Makespan - g.Work / n))
                Console.WriteLine($"    loops of {g.Items,4} items: {g.Loops,3} a pass, work {g.Work * 1e3,7:F2} ms, on {n} threads {g.Makespan * 1e3,6:F2} ms " +
                    $"(no tails {g.Work / n * 1e3:F2})");
        }
        Parallelism.Set(null);
    }
}
