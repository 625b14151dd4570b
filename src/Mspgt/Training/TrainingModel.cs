using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Training;

/// <summary>One trainable tensor: its Hugging Face name, shape (outermost first) and place in the flat arrays.</summary>
public sealed record ParameterInfo(string Name, int[] Shape, int Offset)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
    /// <summary>2-D weights get weight decay; norms and biases do not.</summary>
    public bool IsMatrix => Shape.Length == 2;
    public int Rows => Shape[0];
    public int Cols => Shape.Length == 2 ? Shape[1] : 1;
}

/// <summary>The parameters of one transformer block (null where the architecture has no such tensor).</summary>
public sealed record LayerParameters(
    ParameterInfo AttnNorm, ParameterInfo Q, ParameterInfo K, ParameterInfo V, ParameterInfo O,
    ParameterInfo? QBias, ParameterInfo? KBias, ParameterInfo? VBias, ParameterInfo? QNorm, ParameterInfo? KNorm,
    ParameterInfo FfnNorm, ParameterInfo Gate, ParameterInfo Up, ParameterInfo Down);

/// <summary>
/// A model being trained: every parameter in one flat float32 array (pinned, so the engine can view the matrices in
/// place), laid out tensor by tensor in Hugging Face order with HF names. Gradients and optimizer moments use the
/// same layout. When embeddings are tied there is no lm_head tensor: the unembedding is model.embed_tokens.weight.
/// </summary>
public sealed class TrainingModel
{
    public ModelConfig Config { get; }
    public IReadOnlyList<ParameterInfo> Parameters { get; }
    public ParameterInfo Embedding { get; }
    public LayerParameters[] Layers { get; }
    public ParameterInfo FinalNorm { get; }
    /// <summary>lm_head.weight, or the embedding when tied.</summary>
    public ParameterInfo Output { get; }
    /// <summary>All parameter values, flat.</summary>
    public float[] Values { get; }
    /// <summary>For each matrix, its transpose at the same offset (refreshed by <see cref="RefreshTransposes"/>): the
    /// backward pass needs dX = dY·W, which the kernel computes as dY·(Wᵀ)ᵀ.</summary>
    public float[] Transposed { get; }
    public int Count => Values.Length;

    public TrainingModel(ModelConfig config)
    {
        if (config.SlidingWindow != null) throw new MspgtException("config", "training does not support sliding-window attention");
        if (config.RopeScaling != null) throw new MspgtException("config", "training does not support rope scaling");
        config.Validate("config");
        Config = config;
        var list = new List<ParameterInfo>();
        int offset = 0;
        ParameterInfo Add(string name, params int[] shape)
        {
            var p = new ParameterInfo(name, shape, offset);
            long end = (long)offset + p.Length;
            if (end > Array.MaxLength) throw new MspgtException("config", "model is too large to train here (more than 2^31 parameters)");
            offset = (int)end;
            list.Add(p);
            return p;
        }
        var c = config;
        Embedding = Add("model.embed_tokens.weight", c.Vocab, c.Dim);
        Layers = new LayerParameters[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            var attnNorm = Add(p + "input_layernorm.weight", c.Dim);
            var q = Add(p + "self_attn.q_proj.weight", c.QDim, c.Dim);
            var qb = c.QkvBias ? Add(p + "self_attn.q_proj.bias", c.QDim) : null;
            var k = Add(p + "self_attn.k_proj.weight", c.KvDim, c.Dim);
            var kb = c.QkvBias ? Add(p + "self_attn.k_proj.bias", c.KvDim) : null;
            var v = Add(p + "self_attn.v_proj.weight", c.KvDim, c.Dim);
            var vb = c.QkvBias ? Add(p + "self_attn.v_proj.bias", c.KvDim) : null;
            var qn = c.QkNorm ? Add(p + "self_attn.q_norm.weight", c.HeadDim) : null;
            var kn = c.QkNorm ? Add(p + "self_attn.k_norm.weight", c.HeadDim) : null;
            var o = Add(p + "self_attn.o_proj.weight", c.Dim, c.QDim);
            var ffnNorm = Add(p + "post_attention_layernorm.weight", c.Dim);
            var gate = Add(p + "mlp.gate_proj.weight", c.Ffn, c.Dim);
            var up = Add(p + "mlp.up_proj.weight", c.Ffn, c.Dim);
            var down = Add(p + "mlp.down_proj.weight", c.Dim, c.Ffn);
            Layers[l] = new LayerParameters(attnNorm, q, k, v, o, qb, kb, vb, qn, kn, ffnNorm, gate, up, down);
        }
        FinalNorm = Add("model.norm.weight", c.Dim);
        Output = c.TiedEmbeddings ? Embedding : Add("lm_head.weight", c.Vocab, c.Dim);
        Parameters = list;
        Values = GC.AllocateArray<float>(offset, pinned: true);
        Transposed = new float[offset];
    }

    public Span<float> Of(ParameterInfo p) => Values.AsSpan(p.Offset, p.Length);

    /// <summary>The engine's view of a matrix parameter, in place: it follows every change of <see cref="Values"/>.</summary>
    public unsafe WeightMatrix Matrix(ParameterInfo p)
    {
        fixed (float* basePtr = Values) // pinned array: the address stays valid after the fixed block
            return new WeightMatrix(p.Name, p.Rows, p.Cols, TensorType.F32, (byte*)(basePtr + p.Offset), Values);
    }
    public ReadOnlySpan<float> TransposedOf(ParameterInfo p) => Transposed.AsSpan(p.Offset, p.Length);

    public ParameterInfo Find(string name) =>
        Parameters.FirstOrDefault(p => p.Name == name) ?? throw new MspgtException(name, "no such parameter");

    /// <summary>
    /// Seeded initialisation as for the shared students: matrices normal(0, std), o_proj and down_proj normal(0,
    /// std/sqrt(2·layers)) (GPT-2's scaled residual init), norms 1, biases 0. Tensors are drawn in layout order and
    /// norms/biases draw nothing, so a Llama and a Qwen3 (or Qwen2) model of the same shape and seed start with
    /// identical shared weights; lm_head is drawn last, so tying does not change the other tensors either.
    /// </summary>
    public void Initialize(int seed, double std = 0.02)
    {
        var rng = new GaussianSource(seed);
        double residualStd = std / Math.Sqrt(2.0 * Config.Layers);
        foreach (var p in Parameters)
        {
            var span = Of(p);
            bool isNorm = p.Name.EndsWith("norm.weight", StringComparison.Ordinal) || p.Name.EndsWith("layernorm.weight", StringComparison.Ordinal);
            if (isNorm) span.Fill(1f);
            else if (!p.IsMatrix) span.Clear();
            else
            {
                double s = p.Name.EndsWith("o_proj.weight", StringComparison.Ordinal) || p.Name.EndsWith("down_proj.weight", StringComparison.Ordinal)
                    ? residualStd : std;
                for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.Next() * s);
            }
        }
    }

    /// <summary>Writes each matrix's transpose into <see cref="Transposed"/> (call after every weight change).</summary>
    public void RefreshTransposes()
    {
        var mats = Parameters.Where(p => p.IsMatrix).ToArray();
        Parallel.For(0, mats.Length, Mspgt.Numerics.Parallelism.Options, i =>
        {
            var p = mats[i];
            DenseMatMul.Transpose(Values.AsSpan(p.Offset, p.Length), p.Rows, p.Cols, Transposed.AsSpan(p.Offset, p.Length));
        });
    }

    /// <summary>
    /// The engine's view of the current weights without copying: matrices point into <see cref="Values"/> (pinned),
    /// vectors are copies. Valid while this model is alive; vectors reflect the values at the time of the call.
    /// </summary>
    public ModelWeights ToEngineWeights()
    {
        WeightMatrix M(ParameterInfo p) => Matrix(p);
        float[]? V(ParameterInfo? p) => p == null ? null : Of(p).ToArray();
        var layers = Layers.Select(L => new LayerWeights
        {
            AttnNorm = V(L.AttnNorm)!, Q = M(L.Q), K = M(L.K), V = M(L.V), O = M(L.O),
            QBias = V(L.QBias), KBias = V(L.KBias), VBias = V(L.VBias), QNorm = V(L.QNorm), KNorm = V(L.KNorm),
            FfnNorm = V(L.FfnNorm)!, Gate = M(L.Gate), Up = M(L.Up), Down = M(L.Down),
        }).ToArray();
        var embed = M(Embedding);
        var weights = new ModelWeights
        {
            Embedding = embed, Layers = layers, FinalNorm = V(FinalNorm)!,
            Output = Config.TiedEmbeddings ? embed : M(Output),
        };
        weights.Validate(Config, "training model");
        return weights;
    }
}

/// <summary>Standard normal draws from a seeded System.Random (Box–Muller, both values used): same seed, same values.</summary>
internal sealed class GaussianSource(int seed)
{
    private readonly Random _rng = new(seed);
    private double? _spare;

    public double Next()
    {
        if (_spare is double s) { _spare = null; return s; }
        double u1;
        do u1 = _rng.NextDouble(); while (u1 <= double.Epsilon);
        double u2 = _rng.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }
}
