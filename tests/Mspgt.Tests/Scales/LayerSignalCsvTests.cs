using Mspgt.Scales;

namespace Mspgt.Tests.Scales;

public class LayerSignalCsvTests
{
    private static LayerSignalTable Parse(params string[] lines) => LayerSignalCsv.Parse(lines, "in.csv");

    private static string ParseError(params string[] lines)
    {
        var e = Assert.Throws<MspgtException>(() => Parse(lines));
        Assert.Equal("in.csv", e.Source);
        return e.Message;
    }

    [Fact]
    public void WideWithoutLayerColumn()
    {
        var t = Parse("attn,mi", "1,2", "3,4.5", "", "5,-6e-1");
        Assert.Equal(["attn", "mi"], t.Signals);
        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4.5 }, { 5, -0.6 } }, t.Values);
        Assert.Null(t.PerDocument);
        Assert.Equal(3, t.NLayers);
    }

    [Fact]
    public void WideWithLayerColumnInAnyOrderAndQuotes()
    {
        var t = Parse("Layer,\"attn, mean\",mi", "2,5,6", "0, 1 ,2", "1,3,4");
        Assert.Equal(["attn, mean", "mi"], t.Signals);
        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }, t.Values);
    }

    [Fact]
    public void LongFormatGivesDocumentsAndMean()
    {
        var lines = new List<string> { "document,layer,signal,value" };
        foreach (var d in new[] { "d1", "d2" })
            for (int l = 0; l < 3; l++)
            {
                lines.Add($"{d},{l},mi,{(d == "d1" ? l : l + 2)}");
                lines.Add($"{d},{l},attn,{10 * l}");
            }
        var t = LayerSignalCsv.Parse(lines, "in.csv");
        Assert.Equal(["d1", "d2"], t.Documents!);
        Assert.Equal(["mi", "attn"], t.Signals);
        Assert.Equal(2, t.PerDocument!.GetLength(0));
        Assert.Equal(4.0, t.PerDocument[1, 2, 0]);
        Assert.Equal(new double[,] { { 1, 0 }, { 2, 10 }, { 3, 20 } }, t.Values);
    }

    [Fact]
    public void MalformedFilesNameTheLine()
    {
        Assert.Contains("line 3: expected 2 fields, found 3", ParseError("a,b", "1,2", "1,2,3", "4,5"));
        Assert.Contains("line 2, column 'b': 'x' is not a number", ParseError("a,b", "1,x", "1,2", "4,5"));
        Assert.Contains("line 4, column 'a': 'NaN' is not a finite number", ParseError("a,b", "1,2", "1,2", "NaN,5"));
        Assert.Contains("line 3: only 2 layer row(s)", ParseError("a,b", "1,2", "1,2"));
        Assert.Contains("file is empty", ParseError("", "  "));
        Assert.Contains("header but no data rows", ParseError("a,b"));
        Assert.Contains("line 1: signal 'a' appears twice", ParseError("a,a", "1,2", "1,2", "1,2"));
        Assert.Contains("line 4: layer 1 appears again (first on line 3)", ParseError("layer,a", "0,1", "1,2", "1,3"));
        Assert.Contains("line 4: layer 3 is out of range", ParseError("layer,a", "0,1", "1,2", "3,3"));
        Assert.Contains("line 2: unterminated quoted field", ParseError("a,b", "\"1,2", "1,2", "1,2"));
        Assert.Contains("line 3: duplicate value for document 'd', layer 0, signal 's' (first on line 2)",
            ParseError("document,layer,signal,value", "d,0,s,1", "d,0,s,2"));
        Assert.Contains("document 'e' has no value for layer 2",
            ParseError("document,layer,signal,value", "d,0,s,1", "d,1,s,1", "d,2,s,1", "e,0,s,1", "e,1,s,1"));
        Assert.Contains("line 3: only 2 layer(s)", ParseError("document,layer,signal,value", "d,0,s,1", "d,1,s,1"));
        Assert.Contains("line 2: layer '-1' is not an integer", ParseError("document,layer,signal,value", "d,-1,s,1"));
    }

    [Fact]
    public void MissingFileThrowsMspgtException()
    {
        string path = Path.Combine(Path.GetTempPath(), "mspgt-no-such-file-7f3a.csv");
        var e = Assert.Throws<MspgtException>(() => LayerSignalCsv.Read(path));
        Assert.Equal(path, e.Source);
    }
}
