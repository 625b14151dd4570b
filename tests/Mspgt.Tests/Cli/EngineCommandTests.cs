using System.Text.Json;

namespace Mspgt.Tests.Cli;

/// <summary>The `run` / `generate` / `inspect` contract and the one-line error behaviour.</summary>
[Collection("Console")]
public class EngineCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-cli").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");

    [Fact]
    public void RunJsonOnTextMatchesTheStoriesGolden()
    {
        var g = Golden.Load(TestData.Path("models", "stories260K", "golden.json")).Single();
        var (code, output, err) = CliHarness.Run("run", "--model", Stories, "--text", g.Text!, "--json");
        Assert.True(code == 0, err);
        Assert.Single(output.Trim().Split('\n'));
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal(g.Ids, r.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        Golden.Close([g.Nll!.Value], [r.GetProperty("nll").GetDouble()], "nll");
        Assert.Equal(g.Argmax, r.GetProperty("argmax").EnumerateArray().Select(x => x.GetInt32()));
        Golden.Close(g.LogitsLast, r.GetProperty("logits_last").EnumerateArray().Select(x => x.GetDouble()).ToArray(), "logits_last");
        Golden.Close(g.ResidualNorms!, r.GetProperty("resid_norm").EnumerateArray().Select(x => x.GetDouble()).ToArray(), "resid_norm");
        Golden.Close(g.AttnEntropy!, r.GetProperty("attn_entropy").EnumerateArray().Select(x => x.GetDouble()).ToArray(), "attn_entropy");
        Golden.Close(g.AttnDistance!, r.GetProperty("attn_distance").EnumerateArray().Select(x => x.GetDouble()).ToArray(), "attn_distance");
    }

    /// <summary>TransformerLens's names at the edge: the activations come back with shapes and values, the rest of the
    /// summary is what it is without hooks, and the text table lists them.</summary>
    [Fact]
    public void RunReportsTheHooksAskedForByTransformerLensNames()
    {
        string[] args = ["run", "--model", Stories, "--ids", "1,403,407,261,378,432"];
        var (code, plain, err) = CliHarness.Run([.. args, "--json"]);
        Assert.True(code == 0, err);
        (code, var output, err) = CliHarness.Run([.. args, "--hooks", "blocks.0.hook_resid_pre,blocks.0.attn.hook_pattern", "--json"]);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var hooks = doc.RootElement.GetProperty("hooks").EnumerateArray().ToList();
        Assert.Equal(["blocks.0.resid_pre", "blocks.0.attn.pattern"], hooks.Select(h => h.GetProperty("name").GetString()));
        Assert.Equal(["blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern"], hooks.Select(h => h.GetProperty("lens_name").GetString()));
        Assert.Equal([6, 64], hooks[0].GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([8, 6, 6], hooks[1].GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));

        // Block 0's input is the embedding; each pattern row is a causal distribution.
        using var m = Mspgt.Loading.ModelLoader.Load(Stories, loadTokenizer: false);
        var embedding = m.Weights.Embedding;
        var residPre = hooks[0].GetProperty("values").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        int[] ids = [1, 403, 407, 261, 378, 432];
        for (int t = 0; t < ids.Length; t++)
        {
            var row = new float[64];
            embedding.DecodeRow(ids[t], row);
            Assert.Equal(row, residPre.AsSpan(t * 64, 64).ToArray());
        }
        var pattern = hooks[1].GetProperty("values").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        for (int h = 0; h < 8; h++)
            for (int q = 0; q < 6; q++)
            {
                var row = pattern.AsSpan((h * 6 + q) * 6, 6).ToArray();
                Assert.Equal(1.0, row.Take(q + 1).Sum(v => (double)v), 1e-5);
                Assert.All(row.Skip(q + 1), v => Assert.Equal(0f, v));
            }

        // Everything else is the summary without hooks.
        var rest = System.Text.Json.Nodes.JsonNode.Parse(output)!.AsObject();
        rest.Remove("hooks");
        Assert.Equal(plain.Trim(), rest.ToJsonString());

        (code, var text, err) = CliHarness.Run([.. args, "--hooks", "blocks.0.hook_resid_pre,blocks.0.attn.hook_pattern"]);
        Assert.True(code == 0, err);
        Assert.Contains("blocks.0.resid_pre", text);
        Assert.Contains("blocks.0.attn.pattern", text);
        Assert.Contains("unknown hook name \"blocks.0.hook_nope\"", CliHarness.AssertOneLineError([.. args, "--hooks", "blocks.0.hook_nope"]));
    }

    [Fact]
    public void RunFindsTheLlama2cTokenizerInsideAHuggingFaceFolder()
    {
        var g = Golden.Load(TestData.Path("models", "stories-qwen3-12L", "golden.json")).Single();
        var (code, output, err) = CliHarness.Run("run", "--model", TestData.Path("models", "stories-qwen3-12L"), "--text", g.Text!, "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(g.Ids, doc.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        Golden.Close(g.LogitsLast, doc.RootElement.GetProperty("logits_last").EnumerateArray().Select(x => x.GetDouble()).ToArray(), "logits_last");
    }

    /// <summary>SOURCE.md: greedy decoding from BOS prints Karpathy's documented stories260K text.</summary>
    [Theory]
    [InlineData("stories260K.bin")]
    [InlineData("tinyllamas-stories-260k-f32.gguf")]
    public void GreedyGenerationFromBosReproducesTheDocumentedText(string file)
    {
        const string expected = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high";
        var (code, output, err) = CliHarness.Run("generate", "--model", TestData.Path("models", "stories260K", file), "--max-tokens", "60");
        Assert.True(code == 0, err);
        Assert.StartsWith(expected, output.Trim());
    }

    [Fact]
    public void SamplingIsDeterministicForASeed()
    {
        string[] args = ["generate", "--model", Stories, "--prompt", "Once upon a time", "--max-tokens", "30", "--temperature", "1", "--top-p", "0.9", "--seed", "7"];
        var a = CliHarness.Run(args);
        var b = CliHarness.Run(args);
        Assert.Equal(0, a.Code);
        Assert.Equal(a.Out, b.Out);
        var c = CliHarness.Run([.. args[..^1], "8"]);
        Assert.NotEqual(a.Out, c.Out);
    }

    [Fact]
    public void InspectShowsQwenSpecificSettings()
    {
        var (code, output, err) = CliHarness.Run("inspect", "--model", TestData.Path("fixtures", "tiny-qwen3.q8_0.gguf"), "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var facts = doc.RootElement.GetProperty("facts");
        Assert.Equal("qwen3", facts.GetProperty("architecture").GetString());
        Assert.StartsWith("yes", facts.GetProperty("q_k_norm").GetString());
        Assert.Contains("explicit", facts.GetProperty("head_dim").GetString());
        Assert.Contains(doc.RootElement.GetProperty("tensors").EnumerateArray(), t => t.GetProperty("type").GetString() == "Q8_0");
    }

    private string CopyTruncated(string source, double fraction)
    {
        var bytes = File.ReadAllBytes(source);
        string p = Path.Combine(_dir, Path.GetFileName(source));
        File.WriteAllBytes(p, bytes[..(int)(bytes.Length * fraction)]);
        return p;
    }

    [Fact]
    public void BadInputsGiveOneErrorLineAndExitCode2()
    {
        Assert.Contains("file not found", CliHarness.AssertOneLineError("run", "--model", Path.Combine(_dir, "missing.gguf"), "--ids", "1"));
        Assert.Contains("truncated", CliHarness.AssertOneLineError("run", "--model", CopyTruncated(Stories, 0.5), "--ids", "1,2"));
        Assert.Contains("truncated", CliHarness.AssertOneLineError("run", "--model", CopyTruncated(TestData.Path("fixtures", "tiny-qwen2.q8_0.gguf"), 0.7), "--ids", "1,2"));
        string junk = Path.Combine(_dir, "junk.gguf");
        File.WriteAllBytes(junk, new byte[100]);
        Assert.Contains("unrecognised model file", CliHarness.AssertOneLineError("run", "--model", junk, "--ids", "1"));
        Assert.Contains("outside the vocabulary", CliHarness.AssertOneLineError("run", "--model", Stories, "--ids", "1,512"));
        string longText = string.Concat(Enumerable.Repeat("Once upon a time there was a dog. ", 200));
        Assert.Contains("longer than the model's context", CliHarness.AssertOneLineError("run", "--model", Stories, "--text", longText));

        // Hugging Face folders: unknown architecture, shape disagreeing with the config, missing tensor.
        string Folder(string name, Func<string, string> editConfig, bool withWeights = true)
        {
            string d = Path.Combine(_dir, name);
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "config.json"), editConfig(File.ReadAllText(TestData.Path("fixtures", "tiny-llama", "config.json"))));
            if (withWeights) File.Copy(TestData.Path("fixtures", "tiny-llama", "model.safetensors"), Path.Combine(d, "model.safetensors"));
            return d;
        }
        var err = CliHarness.AssertOneLineError("run", "--model", Folder("mistral", c => c.Replace("\"llama\"", "\"mistral\"")), "--ids", "1");
        Assert.Contains("mistral", err);
        Assert.Contains("llama, qwen2, qwen3", err);
        Assert.Contains("shape", CliHarness.AssertOneLineError("run", "--model", Folder("wide", c => c.Replace("\"intermediate_size\": 176", "\"intermediate_size\": 177")), "--ids", "1"));
        Assert.Contains("missing tensor", CliHarness.AssertOneLineError("run", "--model", Folder("deep", c => c.Replace("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 5")), "--ids", "1"));
        Assert.Contains("no model.safetensors", CliHarness.AssertOneLineError("run", "--model", Folder("empty", c => c, withWeights: false), "--ids", "1"));
    }
}
