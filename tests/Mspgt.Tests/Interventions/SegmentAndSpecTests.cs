using Mspgt.Interventions;

namespace Mspgt.Tests.Interventions;

public class SegmentAndSpecTests
{
    [Fact]
    public void ParsesSegments()
    {
        var s = LayerSegments.Parse("local=0-1, intermediate=2-3,global=4", 5);
        Assert.Equal([new LayerSegment("local", 0, 1), new LayerSegment("intermediate", 2, 3), new LayerSegment("global", 4, 4)], s);
        Assert.Equal(2, s[0].Width);
        Assert.Equal(SegmentScale.Global, s[2].Scale);
        Assert.Single(LayerSegments.Parse("global=3-4", 5));
    }

    [Theory]
    [InlineData("local=0-1,intermediate=1-3", "overlap")]
    [InlineData("local=0-1,global=4-5", "outside")]
    [InlineData("local=-1-1", "outside")]
    [InlineData("local=0-1,middle=2-3", "unknown segment name")]
    [InlineData("local=0-1,local=2-3", "twice")]
    [InlineData("local=3-1", "ends before")]
    [InlineData("local:0-1", "name=first-last")]
    [InlineData("local=a-b", "not a block range")]
    [InlineData("", "no segments")]
    public void RejectsBadSegments(string text, string message)
    {
        var ex = Assert.Throws<MspgtException>(() => LayerSegments.Parse(text, 5));
        Assert.Equal("segments", ex.Setting);
        Assert.Contains(message, ex.Message);
    }

    [Theory]
    [InlineData(3, new[] { 0, 0, 1, 1, 2, 2 })]
    [InlineData(5, new[] { 0, 1, 2, 3, 4, 4 })]
    [InlineData(12, new[] { 0, 3, 4, 7, 8, 11 })]
    [InlineData(13, new[] { 0, 4, 5, 8, 9, 12 })]
    public void EqualThirdsCoverEveryBlock(int layers, int[] bounds)
    {
        var s = LayerSegments.EqualThirds(layers);
        Assert.Equal(bounds, s.SelectMany(x => new[] { x.First, x.Last }));
        Assert.Equal(LayerSegments.Names, s.Select(x => x.Name));
        Assert.Throws<MspgtException>(() => LayerSegments.EqualThirds(2));
    }

    [Fact]
    public void ReadsAnAnalyzeSummary()
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-seg").FullName;
        try
        {
            string path = Path.Combine(dir, "summary.json");
            File.WriteAllText(path, """{"model":"x","n_layers":5,"boundaries":[2,4],"segments":{"local":[0,1],"intermediate":[2,3],"global":[4,4]}}""");
            Assert.Equal([new LayerSegment("local", 0, 1), new LayerSegment("intermediate", 2, 3), new LayerSegment("global", 4, 4)], LayerSegments.FromSummary(path, 5));
            Assert.Contains("this model has 6", Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(path, 6)).Message);

            File.WriteAllText(path, """{"n_layers":5,"segments":{"local":[0,2],"intermediate":[2,3]}}""");
            var ex = Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(path, 5));
            Assert.Equal(path, ex.Source);
            Assert.Contains("overlap", ex.Message);
            File.WriteAllText(path, """{"n_layers":5,"segments":{"local":[0]}}""");
            Assert.Contains("pair of integer", Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(path, 5)).Message);
            File.WriteAllText(path, """{"segments":{}}""");
            Assert.Contains("n_layers", Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(path, 5)).Message);
            File.WriteAllText(path, "{not json");
            Assert.Contains("invalid JSON", Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(path, 5)).Message);
            Assert.Contains("not found", Assert.Throws<MspgtException>(() => LayerSegments.FromSummary(Path.Combine(dir, "none.json"), 5)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ExpandsInterventionConditions()
    {
        var specs = InterventionSpec.Expand(["noise", "zero", "skip", "resample"], ["attn", "both"], [0.25, 1]);
        Assert.Equal(["noise α=0.25", "noise α=1", "zero attn", "zero both", "skip", "resample attn", "resample both"], specs.Select(s => s.Label));
        Assert.Equal("resid_post", specs[0].ComponentName);
        Assert.Equal(0.25, specs[0].Alpha);
        Assert.Null(specs[2].Alpha);
        Assert.True(specs[3].EditsAttn && specs[3].EditsMlp);
        Assert.Contains("unknown intervention", Assert.Throws<MspgtException>(() => InterventionSpec.Expand(["blur"], ["attn"], [1])).Message);
        Assert.Equal("components", Assert.Throws<MspgtException>(() => InterventionSpec.Expand(["zero"], ["ffn"], [1])).Setting);
        Assert.Equal("alpha", Assert.Throws<MspgtException>(() => InterventionSpec.Expand(["noise"], ["attn"], [-1])).Setting);
        Assert.Equal("alpha", Assert.Throws<MspgtException>(() => InterventionSpec.Expand(["noise"], ["attn"], [0.5, 0.5])).Setting);
        Assert.Contains("twice", Assert.Throws<MspgtException>(() => InterventionSpec.Expand(["skip", "skip"], ["attn"], [1])).Message);
    }
}
