using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// `signal-cost-cpu [threads] [repetitions]`: the signal-cost comparison in CPU seconds (see SignalCostCpu).
if (args.Length > 0 && args[0] == "signal-cost-cpu")
{
    Mspgt.Bench.SignalCostCpu.Run(args.Length > 1 ? int.Parse(args[1]) : 0, args.Length > 2 ? int.Parse(args[2]) : 5);
    return;
}

// `schedule-bound [rounds] [counts]`: the 110M prefill's speed-up on ideal machines of those core counts (see ScheduleBound).
if (args.Length > 0 && args[0] == "schedule-bound")
{
    Mspgt.Bench.ScheduleBound.Run(args.Length > 1 ? int.Parse(args[1]) : 9,
        (args.Length > 2 ? args[2] : "2,4,8,16").Split(',').Select(int.Parse).ToArray());
    return;
}

// Without a job on the command line: 3 warm-ups and 10 measured iterations (each suite takes seconds to a minute).
// `--job short` (or any other console job) is used as given.
bool jobGiven = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job="));
IConfig config = jobGiven
    ? DefaultConfig.Instance
    : DefaultConfig.Instance.AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
BenchmarkSwitcher.FromAssembly(typeof(Mspgt.Bench.BenchData).Assembly).Run(args, config);
