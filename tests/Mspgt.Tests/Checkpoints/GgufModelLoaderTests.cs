using System.Text.Json;
using Mspgt.Checkpoints;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Tests.Checkpoints;

public class GgufModelLoaderTests
{
    private static string Fixture(string name) => TestData.Path("fixtures", name);

    // ---- configuration (values from shared/fixtures/README.md's table) ----

    [Theory]
    //          file                     arch  dim ffn  L  H  KV hd  eps    theta     tied   bias   qknorm
    [InlineData("tiny-llama.f32.gguf", "llama", 64, 176, 4, 8, 2, 8, 1e-5f, 10000f, false, false, false)]
    [InlineData("tiny-llama.q8_0.gguf", "llama", 64, 176, 4, 8, 2, 8, 1e-5f, 10000f, false, false, false)]
    [InlineData("tiny-qwen2.f32.gguf", "qwen2", 64, 160, 4, 4, 2, 16, 1e-6f, 1000000f, true, true, false)]
    [InlineData("tiny-qwen2.q8_0.gguf", "qwen2", 64, 160, 4, 4, 2, 16, 1e-6f, 1000000f, true, true, false)]
    [InlineData("tiny-qwen3.f32.gguf", "qwen3", 64, 160, 4, 8, 4, 16, 1e-6f, 1000000f, true, false, true)]
    [InlineData("tiny-qwen3.q8_0.gguf", "qwen3", 64, 160, 4, 8, 4, 16, 1e-6f, 1000000f, true, false, true)]
    [InlineData("small-llama.f16.gguf", "llama", 256, 512, 2, 4, 2, 64, 1e-5f, 10000f, false, false, false)]
    [InlineData("small-llama.q4_0.gguf", "llama", 256, 512, 2, 4, 2, 64, 1e-5f, 10000f, false, false, false)]
    [InlineData("small-llama.q4_k_m.gguf", "llama", 256, 512, 2, 4, 2, 64, 1e-5f, 10000f, false, false, false)]
    [InlineData("small-llama.q6_k.gguf", "llama", 256, 512, 2, 4, 2, 64, 1e-5f, 10000f, false, false, false)]
    [InlineData("tiny-llama3.f32.gguf", "llama", 128, 256, 2, 4, 1, 32, 1e-5f, 500000f, true, false, false)]
    public void ConfigMatchesTheFixtureTable(string file, string arch, int dim, int ffn, int layers, int heads, int kv,
        int headDim, float eps, float theta, bool tied, bool bias, bool qkNorm)
    {
        using var m = GgufModelLoader.Load(Fixture(file));
        var c = m.Config;
        Assert.Equal(arch, c.Architecture.ToString().ToLowerInvariant());
        Assert.Equal(dim, c.Dim);
        Assert.Equal(ffn, c.Ffn);
        Assert.Equal(layers, c.Layers);
        Assert.Equal(heads, c.Heads);
        Assert.Equal(kv, c.KvHeads);
        Assert.Equal(headDim, c.HeadDim);
        Assert.Equal(300, c.Vocab);
        Assert.Equal(256, c.MaxSeq);
        Assert.Equal(eps, c.NormEps);
        Assert.Equal(theta, c.RopeTheta);
        Assert.Equal(tied, c.TiedEmbeddings);
        Assert.Equal(bias, c.QkvBias);
        Assert.Equal(qkNorm, c.QkNorm);
        Assert.Null(c.RopeScaling);
        Assert.Null(c.SlidingWindow);
        Assert.Equal(298, c.BosId);
        Assert.Equal(299, c.EosId);
        Assert.False(c.AddBos);
        Assert.Equal(tied, ReferenceEquals(m.Weights.Output, m.Weights.Embedding));
        Assert.Equal("gguf v3", m.Format);
        Assert.Null(m.Tokenizer);
        Assert.Equal(Path.GetFullPath(Fixture(file)), Path.GetFullPath(Assert.Single(m.WeightFiles)));
        Assert.Equal(file.StartsWith("tiny-llama3"), m.Weights.RopeFreqFactors != null);
    }

    [Fact]
    public void Llama3RopeFreqFactorsComeFromTheTensor()
    {
        using var m = GgufModelLoader.Load(Fixture("tiny-llama3.f32.gguf"));
        var f = m.Weights.RopeFreqFactors!;
        Assert.Equal(16, f.Length);
        Assert.Equal(1f, f[0]);
        Assert.Equal(2.051391f, f[1], 5e-6f);
        for (int i = 2; i < 16; i++) Assert.Equal(8f, f[i]);
        Assert.Contains("rope_freqs", m.Info.Keys);
    }

    [Fact]
    public void InspectListingAndInfo()
    {
        using var m = GgufModelLoader.Load(Fixture("tiny-llama.q8_0.gguf"));
        Assert.Equal("7 (MOSTLY_Q8_0)", m.Info["general.file_type"]);
        Assert.Equal("2", m.Info["general.quantization_version"]);
        Assert.Equal("gpt2", m.Info["tokenizer.ggml.model"]);
        Assert.Equal("32", m.Info["alignment"]);
        Assert.Equal("3", m.Info["version"]);
        Assert.True(m.Info.ContainsKey("general.name"));
        var embd = m.Tensors.Single(t => t.Name == "token_embd.weight");
        Assert.Equal(TensorType.Q8_0, embd.Type);
        Assert.Equal(new long[] { 300, 64 }, embd.Shape);
        Assert.Equal(300 * 2 * 34, embd.Bytes);
        // 2 + 4 layers x 9 + output: every tensor listed
        Assert.Equal(3 + 4 * 9, m.Tensors.Count);
        var down = m.Tensors.Single(t => t.Name == "blk.0.ffn_down.weight");
        Assert.Equal(TensorType.F16, down.Type);
        Assert.Equal(new long[] { 64, 176 }, down.Shape);
        Assert.Equal(TensorType.F16, m.Weights.Layers[0].Down.Type);
    }

    // ---- the q/k row map ----

    [Fact]
    public void RotateHalfRowMap_HandValues()
    {
        Assert.Equal(new[] { 0, 2, 1, 3 }, GgufModelLoader.RotateHalfRowMap(1, 4));
        Assert.Equal(new[] { 0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15 }, GgufModelLoader.RotateHalfRowMap(2, 8));
    }

    /// <summary>Float32 tensors of a safetensors file (read here from the format: u64 header length, JSON, data).</summary>
    private static Dictionary<string, (long[] Shape, float[] Values)> ReadSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var result = new Dictionary<string, (long[], float[])>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            Assert.Equal("F32", p.Value.GetProperty("dtype").GetString());
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var off = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var values = new float[(off[1] - off[0]) / 4];
            Buffer.BlockCopy(bytes, (int)(8 + n + off[0]), values, 0, values.Length * 4);
            result[p.Name] = (shape, values);
        }
        return result;
    }

    private static float[] LoadedTensor(LoadedModel m, string hfName)
    {
        var w = m.Weights;
        if (hfName == "model.embed_tokens.weight") return w.Embedding.ToFloats();
        if (hfName == "lm_head.weight") return w.Output.ToFloats();
        if (hfName == "model.norm.weight") return w.FinalNorm;
        var parts = hfName.Split('.');
        Assert.Equal("layers", parts[1]);
        var L = w.Layers[int.Parse(parts[2])];
        string key = string.Join('.', parts[3..]);
        return key switch
        {
            "input_layernorm.weight" => L.AttnNorm,
            "post_attention_layernorm.weight" => L.FfnNorm,
            "self_attn.q_proj.weight" => L.Q.ToFloats(),
            "self_attn.k_proj.weight" => L.K.ToFloats(),
            "self_attn.v_proj.weight" => L.V.ToFloats(),
            "self_attn.o_proj.weight" => L.O.ToFloats(),
            "self_attn.q_proj.bias" => L.QBias!,
            "self_attn.k_proj.bias" => L.KBias!,
            "self_attn.v_proj.bias" => L.VBias!,
            "self_attn.q_norm.weight" => L.QNorm!,
            "self_attn.k_norm.weight" => L.KNorm!,
            "mlp.gate_proj.weight" => L.Gate.ToFloats(),
            "mlp.up_proj.weight" => L.Up.ToFloats(),
            "mlp.down_proj.weight" => L.Down.ToFloats(),
            _ => throw new Xunit.Sdk.XunitException($"unmapped tensor {hfName}"),
        };
    }

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-qwen3")]
    [InlineData("tiny-llama3")]
    public void F32GgufHoldsTheHuggingFaceMatricesAfterTheRowMap(string model)
    {
        var hf = ReadSafetensors(Fixture(Path.Combine(model, "model.safetensors")));
        using var m = GgufModelLoader.Load(Fixture(model + ".f32.gguf"));
        foreach (var (name, (shape, values)) in hf)
            Assert.True(values.AsSpan().SequenceEqual(LoadedTensor(m, name)), $"{model}: {name} differs");
        Assert.Equal(hf.ContainsKey("lm_head.weight"), !m.Config.TiedEmbeddings);
        // the permutation really moves rows for llama (so the equality above is not vacuous): HF row 1 (j 0, i 1)
        // is stored row 2, and qwen rows are stored as they are
        using var raw = GgufReader.Open(Fixture(model + ".f32.gguf"));
        var storedQ = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.TensorSpan(raw.FindTensor("blk.0.attn_q.weight")!));
        var hfQ = hf["model.layers.0.self_attn.q_proj.weight"].Values;
        int cols = m.Config.Dim;
        bool permuted = model.Contains("llama");
        Assert.Equal(permuted, storedQ.Slice(2 * cols, cols).SequenceEqual(hfQ.AsSpan(cols, cols)));
        Assert.Equal(!permuted, storedQ.Slice(cols, cols).SequenceEqual(hfQ.AsSpan(cols, cols)));
    }

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-qwen2")]
    [InlineData("tiny-qwen3")]
    public void Q8_0FileDequantizesCloseToTheF32Weights(string model)
    {
        using var f32 = GgufModelLoader.Load(Fixture(model + ".f32.gguf"));
        using var q8 = GgufModelLoader.Load(Fixture(model + ".q8_0.gguf"));
        int quantized = 0;
        foreach (var (a, b) in Matrices(f32.Weights).Zip(Matrices(q8.Weights)))
        {
            Assert.Equal(a.Name, b.Name);
            var x = a.ToFloats();
            var y = b.ToFloats();
            if (b.Type == TensorType.Q8_0)
            {
                quantized++;
                // per block of 32: |error| <= d/2 + 127 |fp16(d) - d| with d = max|x|/127
                for (int i = 0; i < x.Length; i += 32)
                {
                    float amax = 0;
                    for (int k = i; k < i + 32; k++) amax = Math.Max(amax, Math.Abs(x[k]));
                    float bound = amax / 127 * (0.5f + 127f / 2048) + 1e-7f;
                    for (int k = i; k < i + 32; k++)
                        Assert.True(Math.Abs(x[k] - y[k]) <= bound, $"{b.Name}[{k}]: {x[k]} vs {y[k]} (bound {bound})");
                }
            }
            else
            {
                Assert.Equal(TensorType.F16, b.Type); // tiny-llama's ffn_down (rows of 176)
                for (int k = 0; k < x.Length; k++) Assert.Equal((float)(Half)x[k], y[k]);
            }
        }
        Assert.True(quantized >= 1 + 4 * 6);
    }

    private static IEnumerable<WeightMatrix> Matrices(ModelWeights w)
    {
        yield return w.Embedding;
        foreach (var L in w.Layers)
        {
            yield return L.Q; yield return L.K; yield return L.V; yield return L.O;
            yield return L.Gate; yield return L.Up; yield return L.Down;
        }
        yield return w.Output;
    }

    [Fact]
    public void SmallLlamaQuantizedFilesHaveTheDocumentedTypesAndTrackTheF16Weights()
    {
        using var f16 = GgufModelLoader.Load(Fixture("small-llama.f16.gguf"));
        var reference = Matrices(f16.Weights).Select(w => (w.Name, Values: w.ToFloats())).ToList();
        Assert.All(Matrices(f16.Weights), w => Assert.Equal(TensorType.F16, w.Type));

        void Check(string file, Func<string, TensorType> expectedType, double maxRelRms)
        {
            using var m = GgufModelLoader.Load(Fixture(file));
            foreach (var (w, (name, x)) in Matrices(m.Weights).Zip(reference))
            {
                Assert.Equal(name, w.Name);
                Assert.Equal(expectedType(name), w.Type);
                var y = w.ToFloats();
                double se = 0, ss = 0;
                for (int k = 0; k < x.Length; k++) { se += (x[k] - y[k]) * (double)(x[k] - y[k]); ss += x[k] * (double)x[k]; }
                double rel = Math.Sqrt(se / ss);
                Assert.True(rel < maxRelRms, $"{file} {name}: relative RMS error {rel:F4}");
            }
        }
        // 4-bit codes: RMS error about 1/sqrt(12) of a step of (range/15 or max/8); 6-bit: far smaller
        Check("small-llama.q4_0.gguf", _ => TensorType.Q4_0, 0.2);
        Check("small-llama.q6_k.gguf", _ => TensorType.Q6_K, 0.05);
        Check("small-llama.q4_k_m.gguf",
            n => n is "blk.1.attn_v.weight" or "blk.1.ffn_down.weight" or "output.weight" ? TensorType.Q6_K : TensorType.Q4_K, 0.2);
    }

    // ---- stories260K (GGUF v1, Meta layout) ----

    [Fact]
    public void Stories260KGgufV1MatchesTheLlama2cCheckpoint()
    {
        string dir = TestData.Path("models", "stories260K");
        var bin = File.ReadAllBytes(Path.Combine(dir, "stories260K.bin"));
        var header = new int[7];
        Buffer.BlockCopy(bin, 0, header, 0, 28);
        Assert.Equal(new[] { 64, 172, 5, 8, 4, 512, 512 }, header);
        float[] Floats(long floatOffset, int count)
        {
            var v = new float[count];
            Buffer.BlockCopy(bin, (int)(28 + floatOffset * 4), v, 0, count * 4);
            return v;
        }
        var embedding = Floats(0, 512 * 64);
        var wq0 = Floats(512 * 64 + 5 * 64, 64 * 64); // after embedding and rms_att

        using var m = GgufModelLoader.Load(Path.Combine(dir, "tinyllamas-stories-260k-f32.gguf"));
        Assert.Equal("gguf v1", m.Format);
        var c = m.Config;
        Assert.Equal((64, 172, 5, 8, 4, 8, 512, 512), (c.Dim, c.Ffn, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.Vocab, c.MaxSeq));
        Assert.Equal(1e-5f, c.NormEps);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.Equal((1, 2), (c.BosId, c.EosId));
        Assert.True(c.AddBos); // SentencePiece vocabulary without add_bos_token: llama.cpp adds BOS
        Assert.False(c.TiedEmbeddings); // output.weight is stored (a copy of token_embd)
        Assert.Equal("Meta AI original pth", m.Info["llama.tensor_data_layout"]);

        Assert.True(embedding.AsSpan().SequenceEqual(m.Weights.Embedding.ToFloats()));
        Assert.True(embedding.AsSpan().SequenceEqual(m.Weights.Output.ToFloats()));
        // q rows are in the adjacent-pair layout in both files; the loader presents them in rotate-half order
        var map = GgufModelLoader.RotateHalfRowMap(8, 8);
        var row = new float[64];
        for (int r = 0; r < 64; r++)
        {
            m.Weights.Layers[0].Q.DecodeRow(r, row);
            Assert.True(wq0.AsSpan(map[r] * 64, 64).SequenceEqual(row), $"q row {r}");
        }
    }

    // ---- synthetic files: loader errors and rules ----

    /// <summary>A minimal F32 model: dim 8, 1 layer, 2 heads of 4, 1 kv head, ffn 8, vocab 4.</summary>
    private static GgufTestWriter Minimal(string arch = "llama", Action<GgufTestWriter>? extra = null, string? skip = null)
    {
        var w = new GgufTestWriter()
            .String("general.architecture", arch)
            .U32(arch + ".context_length", 16)
            .U32(arch + ".embedding_length", 8)
            .U32(arch + ".block_count", 1)
            .U32(arch + ".feed_forward_length", 8)
            .U32(arch + ".attention.head_count", 2)
            .U32(arch + ".attention.head_count_kv", 1)
            .F32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
        float[] Seq(int n, float start) => Enumerable.Range(0, n).Select(i => start + i).ToArray();
        w.F32Tensor("token_embd.weight", [8, 4], Seq(32, 0));
        if (skip != "blk.0.attn_norm.weight") w.F32Tensor("blk.0.attn_norm.weight", [8], Seq(8, 1));
        w.F32Tensor("blk.0.attn_q.weight", [8, 8], Seq(64, 100))
         .F32Tensor("blk.0.attn_k.weight", [8, 4], Seq(32, 200))
         .F32Tensor("blk.0.attn_v.weight", [8, 4], Seq(32, 300))
         .F32Tensor("blk.0.attn_output.weight", [8, 8], Seq(64, 400))
         .F32Tensor("blk.0.ffn_norm.weight", [8], Seq(8, 1))
         .F32Tensor("blk.0.ffn_gate.weight", [8, 8], Seq(64, 500))
         .F32Tensor("blk.0.ffn_down.weight", [8, 8], Seq(64, 600))
         .F32Tensor("output_norm.weight", [8], Seq(8, 1));
        if (skip != "blk.0.ffn_up.weight") w.F32Tensor("blk.0.ffn_up.weight", [8, 8], Seq(64, 700));
        extra?.Invoke(w);
        return w;
    }

    [Fact]
    public void MinimalLlamaLoadsWithDefaultsAndPermutedQkRowsAndBiases()
    {
        using var dir = new TempDir();
        string path = Minimal(extra: w => w
            .F32Tensor("blk.0.attn_q.bias", [8], [0, 1, 2, 3, 4, 5, 6, 7])
            .F32Tensor("blk.0.attn_k.bias", [4], [0, 1, 2, 3])
            .F32Tensor("blk.0.attn_v.bias", [4], [0, 1, 2, 3])).WriteTo(dir.Path, "mini.gguf");
        using var m = GgufModelLoader.Load(path);
        var c = m.Config;
        Assert.Equal(4, c.HeadDim);       // default dim / heads
        Assert.Equal(10000f, c.RopeTheta); // default freq_base
        Assert.Equal(4, c.Vocab);          // from token_embd rows
        Assert.True(c.TiedEmbeddings);
        Assert.True(c.QkvBias);
        Assert.True(c.AddBos);             // no tokenizer keys at all: ModelConfig's default
        // head of 4: logical rows (0,1,2,3) = stored (0,2,1,3)
        Assert.Equal(new float[] { 0, 2, 1, 3, 4, 6, 5, 7 }, m.Weights.Layers[0].QBias);
        Assert.Equal(new float[] { 0, 2, 1, 3 }, m.Weights.Layers[0].KBias);
        Assert.Equal(new float[] { 0, 1, 2, 3 }, m.Weights.Layers[0].VBias);
        var row = new float[8];
        m.Weights.Layers[0].Q.DecodeRow(1, row);
        Assert.Equal(100f + 2 * 8, row[0]);    // stored row 2
        m.Weights.Layers[0].K.DecodeRow(2, row);
        Assert.Equal(200f + 1 * 8, row[0]);    // stored row 1
        m.Weights.Layers[0].V.DecodeRow(2, row);
        Assert.Equal(300f + 2 * 8, row[0]);    // v is never permuted
    }

    [Fact]
    public void Qwen2MinimalIsNotPermutedAndNeedsBiases()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<MspgtException>(() => GgufModelLoader.Load(Minimal("qwen2").WriteTo(dir.Path, "nobias.gguf")));
        Assert.Contains("missing tensor blk.0.attn_q.bias", e.Message);
        string path = Minimal("qwen2", w => w
            .F32Tensor("blk.0.attn_q.bias", [8], [0, 1, 2, 3, 4, 5, 6, 7])
            .F32Tensor("blk.0.attn_k.bias", [4], [0, 1, 2, 3])
            .F32Tensor("blk.0.attn_v.bias", [4], [0, 1, 2, 3])).WriteTo(dir.Path, "q2.gguf");
        using var m = GgufModelLoader.Load(path);
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5, 6, 7 }, m.Weights.Layers[0].QBias);
        var row = new float[8];
        m.Weights.Layers[0].Q.DecodeRow(1, row);
        Assert.Equal(108f, row[0]);
    }

    [Fact]
    public void LoaderErrorsNameTheFileAndTheProblem()
    {
        using var dir = new TempDir();
        void Fails(GgufTestWriter w, string file, string expected)
        {
            string path = w.WriteTo(dir.Path, file);
            var e = Assert.Throws<MspgtException>(() => GgufModelLoader.Load(path));
            Assert.Equal(path, e.Source);
            Assert.Contains(expected, e.Message);
        }
        Fails(Minimal("gpt2"), "arch.gguf", "architecture \"gpt2\" is not supported (supported: llama, qwen2, qwen3)");
        Fails(Minimal(skip: "blk.0.ffn_up.weight"), "missing.gguf", "missing tensor blk.0.ffn_up.weight");
        Fails(Minimal(extra: w => w.F32Tensor("blk.0.attn_output.bias", [8], new float[8])), "extra.gguf",
            "blk.0.attn_output.bias");
        Fails(Minimal(extra: w => w.U32("llama.expert_count", 8)), "moe.gguf", "mixture-of-experts");
        Fails(Minimal(extra: w => w.String("llama.rope.scaling.type", "yarn")), "yarn.gguf", "rope scaling type \"yarn\"");
        Fails(Minimal(extra: w => w.U32("llama.rope.dimension_count", 2)), "partial.gguf", "partial rotary");
        Fails(Minimal(extra: w => w.String("llama.rope.freq_base", "big")), "type.gguf",
            "metadata llama.rope.freq_base is a string, but llama.cpp requires a float32");
        Fails(Minimal(extra: w => w.U32("llama.vocab_size", 5)), "vocab.gguf", "token_embd.weight has shape [4, 8] but the config needs [5, 8]");
        Fails(Minimal(extra: w => w.F32Tensor("rope_freqs.weight", [3], [1, 1, 1])), "rf.gguf", "rope frequency factors");
        // the llama3 factors only make sense for llama; other architectures refuse the tensor
        Fails(Minimal("qwen3"), "q3.gguf", "missing tensor blk.0.attn_q_norm.weight");
        Fails(Minimal("qwen3", w => w.F32Tensor("blk.0.attn_q_norm.weight", [4], [1, 1, 1, 1])
                .F32Tensor("blk.0.attn_k_norm.weight", [4], [1, 1, 1, 1]).F32Tensor("rope_freqs.weight", [2], [1, 1])),
            "q3rf.gguf", "does not use, e.g. rope_freqs.weight");
    }

    [Fact]
    public void TensorOfATypeMspgtCannotDecodeIsRefusedByName()
    {
        using var dir = new TempDir();
        // attn_norm stored as Q5_0 (ggml type 6: 22 bytes per 32 values), a type the reader knows but mspgt cannot decode
        string path = Minimal(skip: "blk.0.attn_norm.weight",
            extra: w => w.Tensor("blk.0.attn_norm.weight", [32], 6, new byte[22])).WriteTo(dir.Path, "q50.gguf");
        var e = Assert.Throws<MspgtException>(() => GgufModelLoader.Load(path));
        Assert.Equal(path, e.Source);
        Assert.Contains("tensor blk.0.attn_norm.weight has type Q5_0, which mspgt cannot decode", e.Message);
    }

    [Fact]
    public void ALoadedModelKeepsNoVocabularyArraysItsTokenizerWasBuiltFrom()
    {
        string path = TestData.Path("models", "stories260K", "tinyllamas-stories-260k-f32.gguf");
        using var m = ModelLoader.Load(path);
        var gguf = m.Owned.OfType<GgufFile>().Single();
        Assert.False(gguf.Has("tokenizer.ggml.scores"));
        Assert.False(gguf.Has("tokenizer.ggml.token_type"));
        Assert.True(gguf.Has("tokenizer.ggml.tokens"));   // shared with the vocabulary, so no memory to give back
        // The tokenizer built before the arrays went is the one a fresh read builds.
        string text = "Once upon a time, a little girl named Lily found a shiny red ball.";
        Assert.Equal(Mspgt.Tokenization.TokenizerLoader.Load(path).Encode(text, addBos: true), m.Tokenizer!.Encode(text, addBos: true));
    }
}
