using Mspgt.Scales;
using Xunit.Abstractions;

namespace Mspgt.Tests.Scales;

public class ExperimentTests(ITestOutputHelper output)
{
    [Fact]
    public void Rates()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int[] kc = new int[5];
        for (int seed = 0; seed < 200; seed++)
        {
            var rng = new Random(seed);
            var b = Synthetic.RandomTwoBoundaries(rng);
            var x = Synthetic.AddNoise(rng, Synthetic.PlantedMeans(rng, 24, 6, b), 0.5);
            var r = BoundaryDetector.Detect(Synthetic.Names(6), x, new BoundaryOptions());
            kc[r.KSelected]++;
        }
        output.WriteLine($"K counts at 0.5: {string.Join(",", kc)} {sw.ElapsedMilliseconds} ms");
        sw.Restart();
        {
            var rng = new Random(5000);
            var b = Synthetic.RandomTwoBoundaries(rng);
            var docs = Synthetic.Documents(rng, Synthetic.PlantedMeans(rng, 24, 6, b), 40, 4);
            output.WriteLine($"gen {sw.ElapsedMilliseconds} ms");
            sw.Restart();
            var boot = BoundaryBootstrap.Run(Synthetic.Names(6), docs, new BoundaryOptions(), 100, 1);
            output.WriteLine($"boot100 {sw.ElapsedMilliseconds} ms");
            sw.Restart();
            boot = BoundaryBootstrap.Run(Synthetic.Names(6), docs, new BoundaryOptions(), 100, 1);
            output.WriteLine($"boot100 {sw.ElapsedMilliseconds} ms");
        }
    }
}
