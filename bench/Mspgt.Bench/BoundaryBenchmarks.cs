using BenchmarkDotNet.Attributes;
using Mspgt.Scales;

namespace Mspgt.Bench;

/// <summary>
/// The calibrated boundary test at the size the issue names: 36 layers × 12 signals × 64 documents, 200 null
/// replicates per test and 200 bootstrap resamples (the defaults), on flat noise (one test: K = 0) and on two
/// planted jumps (three tests: K = 1, 2, 3).
/// </summary>
[MemoryDiagnoser]
public class BoundaryBenchmarks
{
    private const int Layers = 36, Signals = 12, Documents = 64;
    private string[] _names = [];
    private double[,,] _flat = new double[0, 0, 0], _jumps = new double[0, 0, 0];

    [GlobalSetup]
    public void Setup()
    {
        _names = Enumerable.Range(0, Signals).Select(i => $"s{i}").ToArray();
        _flat = Make(new Random(1), jumps: false);
        _jumps = Make(new Random(2), jumps: true);
    }

    private static double[,,] Make(Random rng, bool jumps)
    {
        var x = new double[Documents, Layers, Signals];
        for (int d = 0; d < Documents; d++)
            for (int l = 0; l < Layers; l++)
                for (int s = 0; s < Signals; s++)
                {
                    double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                    double noise = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                    double mean = jumps ? (l >= 12 ? 1.5 : 0) + (l >= 24 ? -1.5 * (s % 2 == 0 ? 1 : -1) : 0) + 0.02 * l : 0;
                    x[d, l, s] = mean + noise;
                }
        return x;
    }

    [Benchmark]
    public int FlatNoise() => BoundaryDetector.Detect(_names, _flat, new BoundaryOptions()).KSelected;

    [Benchmark]
    public int TwoJumps() => BoundaryDetector.Detect(_names, _jumps, new BoundaryOptions()).KSelected;
}
