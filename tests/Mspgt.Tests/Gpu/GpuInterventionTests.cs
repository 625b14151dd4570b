using System.Text.Json;
using Mspgt.Corpora;
using Mspgt.Interventions;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Tests.Gpu;

/// <summary>
/// intervene on the emulated device, where documents run in batches and every editor is a device edit, against the
/// CPU path (documents one by one, editors on host buffers): the same report within f32 tolerance.
/// </summary>
public class GpuInterventionTests
{
    static InterventionResult Run(Func<LoadedModel, IDecoder> decoder)
    {
        using var m = ModelLoader.Load(TestData.Path("models", "stories260K", "stories260K.bin"));
        var tok = m.Tokenizer!;
        var corpus = Corpus.FromFile(TestData.Path("corpora", "tinystories-sample", "stories.jsonl"), tok, maxTokens: 16);
        var settings = new InterventionSettings
        {
            Segments = LayerSegments.Parse("local=0-1,global=3-4", 5),
            Interventions = InterventionSpec.Expand(["noise", "resample", "skip", "mean", "zero"], ["both"], [0.5]),
            Controls = 1,
            Continuations = 0,
            BootstrapResamples = 50,
            PermutationResamples = 50,
            Seed = 3,
            Threads = 1,
        };
        var inputs = new InterventionInputs("stories260K.bin", m.Path, null, tok.Description, corpus.Description, corpus.Sha256);
        var model = decoder(m);
        try { return InterventionExperiment.Run(model, tok, corpus.Documents.Take(3).ToList(), settings, inputs); }
        finally { (model as IDisposable)?.Dispose(); }
    }

    [Fact]
    public void InterveneOnTheEmulatedDeviceGivesTheCpuReport()
    {
        var cpu = Run(m => new Transformer(m.Config, m.Weights));
        var gpu = Run(m =>
        {
            var g = GpuTransformer.Create(GpuDevice.Open(DeviceSpec.Parse("cuda"), emulate: true)!, m.Config, m.Weights, 64);
            Assert.True(((IDecoder)g).BatchSize(16) >= 3); // the three documents go as one batch
            return g;
        });
        using var want = JsonDocument.Parse(JsonOutput.Serialize(cpu.Report));
        using var got = JsonDocument.Parse(JsonOutput.Serialize(gpu.Report));
        int numbers = Same(want.RootElement, got.RootElement, "$");
        Assert.True(numbers > 100, $"only {numbers} numbers compared");
    }

    /// <summary>Same structure and strings, numbers within 1e-4 relative (+1e-6); the manifest is not compared. Returns how many numbers.</summary>
    static int Same(JsonElement a, JsonElement b, string path)
    {
        Assert.True(a.ValueKind == b.ValueKind, $"{path}: {a.ValueKind} vs {b.ValueKind}");
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var names = a.EnumerateObject().Select(p => p.Name).ToArray();
                Assert.Equal(names, b.EnumerateObject().Select(p => p.Name).ToArray());
                return names.Where(n => n != "manifest").Sum(n => Same(a.GetProperty(n), b.GetProperty(n), $"{path}.{n}"));
            }
            case JsonValueKind.Array:
            {
                var (x, y) = (a.EnumerateArray().ToArray(), b.EnumerateArray().ToArray());
                Assert.True(x.Length == y.Length, $"{path}: {x.Length} vs {y.Length} items");
                return x.Zip(y).Select((p, i) => Same(p.First, p.Second, $"{path}[{i}]")).Sum();
            }
            case JsonValueKind.Number:
            {
                double u = a.GetDouble(), v = b.GetDouble();
                Assert.True(Math.Abs(u - v) <= 1e-6 + 1e-4 * Math.Abs(u), $"{path}: CPU {u} vs device {v}");
                return 1;
            }
            default:
                Assert.Equal(a.ToString(), b.ToString());
                return 0;
        }
    }
}
