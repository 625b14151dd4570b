using Mspgt.Models;
using Mspgt.Training;

namespace Mspgt.Tests.Training;

public class OptimizerTests
{
    [Fact]
    public void AdamWMatchesHandComputedSteps()
    {
        var m = new TrainingModel(TinyConfigs.Make(Architecture.Llama, tied: true, layers: 1));
        m.Initialize(1);
        var p0 = (float[])m.Values.Clone();
        var opt = new AdamW(m.Count, weightDecay: 0.1f);
        var g1 = Enumerable.Range(0, m.Count).Select(i => (float)Math.Sin(i)).ToArray();
        var g2 = Enumerable.Range(0, m.Count).Select(i => (float)Math.Cos(i)).ToArray();
        opt.Update(m, g1, 0.01f);
        opt.Update(m, g2, 0.005f);
        int norm = m.FinalNorm.Offset, mat = m.Embedding.Offset + 7;
        foreach (var (i, decay) in new[] { (norm, false), (mat, true) })
        {
            double p = p0[i], mm = 0, v = 0;
            double[] lrs = [0.01, 0.005]; double[] gs = [g1[i], g2[i]];
            for (int t = 1; t <= 2; t++)
            {
                double lr = lrs[t - 1], g = gs[t - 1];
                if (decay) p *= 1 - lr * 0.1;
                mm = 0.9 * mm + 0.1 * g; v = 0.95 * v + 0.05 * g * g;
                p -= lr / (1 - Math.Pow(0.9, t)) * mm / (Math.Sqrt(v) / Math.Sqrt(1 - Math.Pow(0.95, t)) + 1e-8);
            }
            Assert.Equal(p, m.Values[i], 6);
        }
        Assert.Equal(2, opt.Step);
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenFollowsCosineToTheFloor()
    {
        var s = LearningRateSchedule.Create(1e-3, warmup: 10, totalSteps: 110);
        Assert.Equal(1e-4, s.At(0), 12);
        Assert.Equal(1e-3, s.At(9), 12);
        Assert.Equal(1e-3, s.At(10), 12);
        Assert.Equal(1e-4 + 0.5 * 9e-4 * (1 + Math.Cos(Math.PI * 50 / 99.0)), s.At(60), 12);
        Assert.Equal(1e-4, s.At(109), 12);
    }

    [Fact]
    public void ClippingScalesToTheMaximumNormAndLeavesSmallGradientsAlone()
    {
        var g = new float[] { 3, 4 };
        Assert.Equal(5, GradientClipping.Clip(g, 1.0), 6);
        Assert.Equal(0.6, g[0], 5); Assert.Equal(0.8, g[1], 5);
        var h = new float[] { 0.3f, 0.4f };
        Assert.Equal(0.5, GradientClipping.Clip(h, 1.0), 6);
        Assert.Equal(0.3f, h[0]);
        Assert.Throws<MspgtException>(() => GradientClipping.Clip(new float[] { float.NaN }, 1.0));
    }

    [Fact]
    public void WindowsAreAPureFunctionOfSeedAndStepAndStayInRange()
    {
        var a = new WindowSampler(3, 1000, 50, 64);
        var b = new WindowSampler(3, 1000, 50, 64);
        Assert.Equal(a.Starts(7), b.Starts(7));
        Assert.NotEqual(a.Starts(7), a.Starts(8));
        Assert.NotEqual(a.Starts(7), new WindowSampler(4, 1000, 50, 64).Starts(7));
        var all = Enumerable.Range(0, 200).SelectMany(s => a.Starts(s)).ToArray();
        Assert.All(all, s => Assert.InRange(s, 0, 1000 - 51));
        Assert.True(all.Max() > 900 && all.Min() < 50, "windows should cover the stream");
    }

    [Fact]
    public void InitialisationFollowsTheDocumentedScheme()
    {
        var c = TinyConfigs.Make(Architecture.Qwen3, tied: false, layers: 4) with { Dim = 64, Ffn = 128, HeadDim = 16 };
        var m = new TrainingModel(c);
        m.Initialize(9);
        double Std(ParameterInfo p) { var s = m.Of(p).ToArray(); return Math.Sqrt(s.Select(x => (double)x * x).Average()); }
        Assert.InRange(Std(m.Layers[0].Gate), 0.018, 0.022);
        Assert.InRange(Std(m.Layers[0].Down), 0.02 / Math.Sqrt(8) * 0.9, 0.02 / Math.Sqrt(8) * 1.1);
        Assert.All(m.Of(m.Layers[1].QNorm!).ToArray(), v => Assert.Equal(1f, v));
        // Llama and Qwen3 twins of one seed share every common tensor.
        var llama = new TrainingModel(c with { Architecture = Architecture.Llama, QkNorm = false });
        llama.Initialize(9);
        foreach (var p in llama.Parameters) Assert.Equal(llama.Of(p).ToArray(), m.Of(m.Find(p.Name)).ToArray());
    }
}
