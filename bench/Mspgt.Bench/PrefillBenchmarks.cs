using BenchmarkDotNet.Attributes;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Bench;

/// <summary>
/// Prefill with the streaming analysis hooks on (attention entropy and distance from every layer's pattern), as
/// `mspgt bench` measures it: the trained stories260K checkpoint (GGUF F32) and a random 15M Llama (F32 and Q8_0).
/// </summary>
public class PrefillBenchmarks
{
    private LoadedModel _model = null!;
    private Transformer _tf = null!;
    private Hooks _hooks = null!;
    private int[] _ids = null!;

    [Params("stories260K", "synthetic-15m-f32", "synthetic-15m-q8_0")]
    public string Model { get; set; } = "";

    [Params(256)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = Model switch
        {
            "stories260K" => ModelLoader.Load(Path.Combine(BenchData.SharedDir(), "models", "stories260K", "tinyllamas-stories-260k-f32.gguf"), loadTokenizer: false),
            "synthetic-15m-f32" => SyntheticModel.Build(SyntheticModel.Preset("15m")),
            "synthetic-15m-q8_0" => SyntheticModel.Build(SyntheticModel.Preset("15m"), weightType: Mspgt.Checkpoints.TensorType.Q8_0),
            _ => throw new ArgumentException(Model),
        };
        var c = _model.Config;
        int tokens = Math.Min(Tokens, c.MaxSeq);
        var rng = new Random(1);
        _ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(c.Vocab)).ToArray();
        _tf = new Transformer(_model.Config, _model.Weights);
        var entropy = new AttentionEntropy();
        var distance = new AttentionDistance();
        _hooks = new Hooks();
        for (int l = 0; l < c.Layers; l++)
            _hooks.Observe(HookPoint.AttnPattern(l), t =>
            {
                entropy.Add(t.Data, t.Shape[0], t.Shape[1], t.Shape[2], t.StartPosition);
                distance.Add(t.Data, t.Shape[0], t.Shape[1], t.Shape[2], t.StartPosition);
            });
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Description = "prefill with entropy/distance hooks")]
    public float[] Prefill() => _tf.Forward(_ids, null, _hooks, LogitRows.All);
}
