using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Cli;

/// <summary>`mspgt run --cache … --cache-out acts.safetensors`: TransformerLens's run_with_cache, as a file.</summary>
[Collection("Console")]
public class ActivationDumpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-acts").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Stories => TestData.Path("models", "stories260K", "stories260K.bin");

    [Fact]
    public void TheFileHoldsExactlyTheNamedHooksAndTheIdsAsTheSafetensorsSpecLaysThemOut()
    {
        string path = Path.Combine(_dir, "acts.safetensors");
        var (code, _, err) = CliHarness.Run("run", "-m", Stories, "-p", "Once upon a time", "--cache", "blocks.*.hook_resid_post,blocks.1.attn.hook_pattern,blocks.2.mlp.post", "--cache-out", path);
        Assert.True(code == 0, err);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));

        // Read it as the spec says, independently of mspgt's reader: u64 header length, JSON header, data.
        byte[] bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = JsonDocument.Parse(bytes.AsMemory(8, (int)n)).RootElement;
        var tensors = header.EnumerateObject().Where(p => p.Name != "__metadata__").ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(["blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post", "blocks.2.hook_resid_post",
                      "blocks.2.mlp.hook_post", "blocks.3.hook_resid_post", "blocks.4.hook_resid_post", "input_ids"], tensors.Keys.Order());
        Assert.All(header.GetProperty("__metadata__").EnumerateObject(), m => Assert.Equal(JsonValueKind.String, m.Value.ValueKind));
        long end = 0;
        foreach (var t in tensors.Values.OrderBy(t => t.GetProperty("data_offsets")[0].GetInt64()))
        {
            Assert.Equal(end, t.GetProperty("data_offsets")[0].GetInt64()); // contiguous, no gaps or overlaps
            end = t.GetProperty("data_offsets")[1].GetInt64();
        }
        Assert.Equal(bytes.Length - 8 - n, end);

        using var m = ModelLoader.Load(Stories);
        int[] ids = Mspgt.Loading.ModelPrompts.Encode(m, "Once upon a time");
        var (_, cache) = new Transformer(m.Config, m.Weights).RunWithCache(ids, [HookPoint.ResidPost(3), HookPoint.AttnPattern(1)]);
        float[] Read(string name)
        {
            var t = tensors[name];
            long from = 8 + n + t.GetProperty("data_offsets")[0].GetInt64(), to = 8 + n + t.GetProperty("data_offsets")[1].GetInt64();
            Assert.Equal("F32", t.GetProperty("dtype").GetString());
            return MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)from, (int)(to - from))).ToArray();
        }
        Assert.Equal(cache[HookPoint.ResidPost(3)].Data, Read("blocks.3.hook_resid_post"));
        Assert.Equal(cache[HookPoint.AttnPattern(1)].Data, Read("blocks.1.attn.hook_pattern"));
        Assert.Equal([m.Config.Heads, ids.Length, ids.Length], tensors["blocks.1.attn.hook_pattern"].GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([ids.Length, m.Config.Ffn], tensors["blocks.2.mlp.hook_post"].GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var idTensor = tensors["input_ids"];
        Assert.Equal("I64", idTensor.GetProperty("dtype").GetString());
        long idsFrom = 8 + n + idTensor.GetProperty("data_offsets")[0].GetInt64();
        Assert.Equal(ids.Select(i => (long)i), MemoryMarshal.Cast<byte, long>(bytes.AsSpan((int)idsFrom, ids.Length * 8)).ToArray());
    }

    [Fact]
    public void BadCacheRequestsAreOneLine()
    {
        Assert.Contains("go together", CliHarness.AssertOneLineError("run", "-m", Stories, "-p", "hi", "--cache", "hook_embed"));
        Assert.Contains("unknown hook name \"blocks.0.hook_nothing\"",
            CliHarness.AssertOneLineError("run", "-m", Stories, "-p", "hi", "--cache", "blocks.0.hook_nothing", "--cache-out", Path.Combine(_dir, "a.safetensors")));
        Assert.Contains("layers 0..4", CliHarness.AssertOneLineError("run", "-m", Stories, "-p", "hi", "--cache", "blocks.9.hook_resid_pre", "--cache-out", Path.Combine(_dir, "a.safetensors")));
        Assert.False(File.Exists(Path.Combine(_dir, "a.safetensors")));
    }
}
