using Mspgt.Models;
using Mspgt.Training;
using static Mspgt.Tests.Training.GradientCheck;

namespace Mspgt.Tests.Training;

/// <summary>The whole model: backward vs float64 finite differences; forward vs the engine's Transformer.</summary>
public class ModelGradientTests
{
    private static readonly int[] Ids = [1, 5, 9, 30, 5, 17, 2];

    [Theory]
    [MemberData(nameof(TinyConfigs.AllArchitectures), MemberType = typeof(TinyConfigs))]
    public void WholeModelGradientMatchesFiniteDifferences(Architecture arch, bool tied)
    {
        var m = TinyConfigs.RandomModel(TinyConfigs.Make(arch, tied), seed: 21);
        int[] input = Ids[..^1], targets = Ids[1..];
        var pass = new SequencePass(m);
        pass.Forward(input);
        double loss = pass.LossAndGradient(targets, 1f / input.Length);
        var grad = new float[m.Count];
        pass.Backward(grad);

        var reference = new ReferenceModel(m);
        var theta = ToDouble(m.Values);
        Assert.Equal(reference.MeanLoss(theta, input, targets), loss / input.Length, 4);
        foreach (var p in m.Parameters)
        {
            // Up to 12 coordinates per tensor, spread over it (embedding: rows of tokens that occur and one that does not).
            var coords = p == m.Embedding
                ? new[] { 5, 9, 30, 1, 4 }.SelectMany(tok => Enumerable.Range(tok * m.Config.Dim, 2)).Select(i => p.Offset + i).ToArray()
                : Enumerable.Range(0, Math.Min(12, p.Length)).Select(i => p.Offset + (int)((long)i * p.Length / Math.Min(12, p.Length))).ToArray();
            var numeric = Numeric(th => reference.MeanLoss(th, input, targets), theta, coords);
            AssertClose(grad, numeric, p.Name, coords, atol: 5e-5, rtol: 5e-3);
        }
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.AllArchitectures), MemberType = typeof(TinyConfigs))]
    public void TrainingForwardLogitsEqualEngineLogits(Architecture arch, bool tied)
    {
        var c = TinyConfigs.Make(arch, tied) with { Dim = 32, HeadDim = 8, Ffn = 40 };
        var m = new TrainingModel(c);
        m.Initialize(seed: 3, std: 0.2);
        var rng = new Random(4);
        var ids = Enumerable.Range(0, 40).Select(_ => rng.Next(c.Vocab)).ToArray();
        var mine = new SequencePass(m).Forward(ids).ToArray();
        var engine = new Transformer(c, m.ToEngineWeights()).Forward(ids);
        Assert.Equal(engine.Length, mine.Length);
        double maxDiff = 0;
        for (int i = 0; i < mine.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(mine[i] - engine[i]));
        Assert.True(maxDiff <= 1e-4, $"max |Δlogit| {maxDiff:G3}");
        Assert.True(engine.Select(Math.Abs).Max() > 0.1f, "logits are too small for the comparison to mean anything");
    }
}
