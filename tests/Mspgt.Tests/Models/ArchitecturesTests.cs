using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Tests.Models;

public class ArchitecturesTests
{
    [Fact]
    public void EveryArchitectureHasOneRowInEnumOrderFoundByItsName()
    {
        var ids = Enum.GetValues<Architecture>();
        Assert.Equal(ids.Length, Architectures.All.Count);
        foreach (var id in ids)
        {
            var spec = Architectures.Of(id);
            Assert.Equal(id, spec.Id);
            Assert.Same(spec, Architectures.Find(spec.Name));
            Assert.Equal(id.ToString().ToLowerInvariant(), spec.Name);
        }
        Assert.Null(Architectures.Find("mistral"));
        Assert.Equal("llama, qwen2, qwen3", Architectures.Names);
    }

    [Theory]
    [InlineData("attention_bias")]
    [InlineData("use_sliding_window")]
    public void AFlagTheTableDoesNotAllowIsRefused(string key)
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-arch").FullName;
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestData.Path("fixtures", "tiny-llama", "config.json")))!.AsObject();
            node[key] = true;
            File.WriteAllText(Path.Combine(dir, "config.json"), node.ToJsonString());
            var ex = Assert.Throws<MspgtException>(() => HuggingFaceModelLoader.ReadConfig(Path.Combine(dir, "config.json")));
            Assert.Contains($"{key} = true is not supported for llama models", ex.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
