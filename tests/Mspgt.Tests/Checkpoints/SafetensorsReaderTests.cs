using System.Text;
using Mspgt.Checkpoints;

namespace Mspgt.Tests.Checkpoints;

/// <summary>The safetensors header checks: every field typed, data ranges inside the data section, sized by dtype and
/// shape, and never sharing a byte; names unique.</summary>
public class SafetensorsReaderTests
{
    /// <summary>A safetensors file: 8-byte header length, the JSON header, then <paramref name="dataBytes"/> zero bytes.</summary>
    internal static byte[] Build(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BitConverter.GetBytes((ulong)h.Length).CopyTo(bytes, 0);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    private static MspgtException Fails(TempDir dir, string header, int dataBytes)
    {
        string path = Path.Combine(dir.Path, $"t{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, Build(header, dataBytes));
        var e = Assert.Throws<MspgtException>(() => { using var _ = SafetensorsReader.OpenFile(path); });
        Assert.Equal(path, e.Source);
        return e;
    }

    [Fact]
    public void AWellFormedHeaderReads()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "ok.safetensors");
        File.WriteAllBytes(path, Build("""{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"e":{"dtype":"F16","shape":[0],"data_offsets":[22,22]}}""", 22));
        using var r = SafetensorsReader.OpenFile(path);
        Assert.Equal(3, r.Tensors.Count);
        Assert.Equal(6, r.Tensors["b"].Length);
        Assert.Equal(r.Tensors["a"].Offset + 16, r.Tensors["b"].Offset);
        Assert.Equal(new long[] { 3 }, r.Tensors["b"].Shape);
    }

    [Fact]
    public void OverlappingOrOutsideRangesAreRefused()
    {
        using var dir = new TempDir();
        Assert.Contains("tensors a (data_offsets [0, 16]) and b (from 8) overlap", Fails(dir,
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", 24).Message);
        // the same range twice, listed in reverse order
        Assert.Contains("overlap", Fails(dir,
            """{"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 16).Message);
        Assert.Contains("the data section holds 16 bytes", Fails(dir,
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}""", 16).Message);
        Assert.Contains("bad data_offsets [-4, 12]", Fails(dir,
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[-4,12]}}""", 16).Message);
        Assert.Contains("12 bytes for shape [4] F32 (expected 16)", Fails(dir,
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,12]}}""", 16).Message);
    }

    [Fact]
    public void MalformedEntriesAreRefusedByName()
    {
        using var dir = new TempDir();
        Assert.Contains("tensor a is listed twice", Fails(dir,
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8).Message);
        Assert.Contains("tensor a has no data_offsets array", Fails(dir, """{"a":{"dtype":"F32","shape":[1]}}""", 4).Message);
        Assert.Contains("tensor a has no dtype string", Fails(dir, """{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}""", 4).Message);
        Assert.Contains("shape holds \"x\", not an integer", Fails(dir, """{"a":{"dtype":"F32","shape":["x"],"data_offsets":[0,4]}}""", 4).Message);
        Assert.Contains("absurd shape", Fails(dir,
            """{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}""", 4).Message);
        Assert.Contains("negative dimension", Fails(dir, """{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}""", 16).Message);
        Assert.Contains("not a JSON object", Fails(dir, "[1, 2]", 0).Message);
        Assert.Contains("the header entry is not an object", Fails(dir, """{"a":3}""", 0).Message);
    }

    [Fact]
    public void AnAbsurdHeaderLengthIsRefusedBeforeReading()
    {
        using var dir = new TempDir();
        foreach (ulong len in new[] { 0UL, 1UL, 1UL << 40, ulong.MaxValue, 100_000_001UL })
        {
            var bytes = Build("{}", 0);
            BitConverter.GetBytes(len).CopyTo(bytes, 0);
            string path = Path.Combine(dir.Path, $"len{len}.safetensors");
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<MspgtException>(() => { using var _ = SafetensorsReader.OpenFile(path); });
            Assert.Contains("header length", e.Message);
        }
    }

    [Fact]
    public void IndexShardsMustBeFilesBesideTheIndex()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "model.safetensors.index.json"), """{"weight_map":{"a":"../x.safetensors"}}""");
        var e = Assert.Throws<MspgtException>(() => { using var _ = SafetensorsReader.OpenFolder(dir.Path); });
        Assert.Contains("weight_map entry a does not name a file in this folder", e.Message);
        File.WriteAllText(Path.Combine(dir.Path, "model.safetensors.index.json"), """{"weight_map":{"a":5}}""");
        e = Assert.Throws<MspgtException>(() => { using var _ = SafetensorsReader.OpenFolder(dir.Path); });
        Assert.Contains("weight_map entry a", e.Message);
    }
}
