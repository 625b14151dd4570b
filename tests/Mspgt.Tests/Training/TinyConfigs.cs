using Mspgt.Models;
using Mspgt.Training;

namespace Mspgt.Tests.Training;

/// <summary>Tiny model shapes for fast training tests (dim 16, 2 layers, vocab 32).</summary>
internal static class TinyConfigs
{
    public static ModelConfig Make(Architecture arch, bool tied, int layers = 2) => new()
    {
        Architecture = arch, Dim = 16, Layers = layers, Heads = 4, KvHeads = 2, HeadDim = 6, Ffn = 24, Vocab = 32, MaxSeq = 64,
        NormEps = 1e-5f, RopeTheta = 10000f, TiedEmbeddings = tied,
        QkvBias = arch == Architecture.Qwen2, QkNorm = arch == Architecture.Qwen3, BosId = 1, EosId = 2,
        AddBos = arch == Architecture.Llama,
    };

    /// <summary>A model with every tensor random (norm weights around 1, biases non-zero) so no gradient is trivially 0.</summary>
    public static TrainingModel RandomModel(ModelConfig c, int seed)
    {
        var m = new TrainingModel(c);
        var rng = new Random(seed);
        foreach (var p in m.Parameters)
        {
            var s = m.Of(p);
            bool norm = p.Name.EndsWith("norm.weight") || p.Name.EndsWith("layernorm.weight");
            for (int i = 0; i < s.Length; i++)
            {
                double u = rng.NextDouble() * 2 - 1;
                s[i] = (float)(norm ? 1 + 0.3 * u : p.IsMatrix ? 0.5 * u : 0.2 * u);
            }
        }
        m.RefreshTransposes();
        return m;
    }

    public static IEnumerable<object[]> AllArchitectures() =>
        from arch in new[] { Architecture.Llama, Architecture.Qwen2, Architecture.Qwen3 }
        from tied in new[] { false, true }
        select new object[] { arch, tied };
}
