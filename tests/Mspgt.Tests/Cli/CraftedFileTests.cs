using System.Text;
using System.Text.Json.Nodes;

namespace Mspgt.Tests.Cli;

/// <summary>
/// Crafted bad inputs made by changing one thing in a real fixture (tiny-llama GGUF F32 and safetensors, stories260K's
/// GGUF v1 and llama2.c files), run through the CLI in-process: each is refused with exit 2 and exactly one stderr line
/// that names the file. The classes are those of llama.cpp's and safetensors' published loader advisories.
/// </summary>
[Collection("Console")]
public class CraftedFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-crafted").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(params string[] parts) => TestData.Path(["fixtures", .. parts]);
    private static string Stories(string name) => TestData.Path("models", "stories260K", name);

    private string Write(string name, byte[] bytes)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static GgufImage TinyLlamaGguf() => GgufImage.Parse(File.ReadAllBytes(Fixture("tiny-llama.f32.gguf")));

    /// <summary>Runs `mspgt ARGS` (in-process, never left to hang): exit 2, one line, naming <paramref name="file"/>.</summary>
    private static string Refused(string file, string expected, params string[] args)
    {
        var run = Task.Run(() => CliHarness.AssertOneLineError(args));
        Assert.True(run.Wait(TimeSpan.FromSeconds(120)), $"mspgt {string.Join(' ', args)} did not answer");
        string line = run.Result;
        Assert.Contains(file, line);
        Assert.Contains(expected, line);
        return line;
    }

    private static string Inspect(string model, string expected) => Refused(model, expected, "inspect", "--model", model);

    private static string Tokenize(string tokenizer, string expected, string? file = null) =>
        Refused(file ?? tokenizer, expected, "tokenize", "--tokenizer", tokenizer, "--text", "hello");

    // ---- GGUF ----

    [Fact]
    public void GgufEmptyKey()
    {
        var g = TinyLlamaGguf();
        g.Key("general.name").Key = [];
        string p = Write("empty-key.gguf", g.ToBytes());
        Inspect(p, "is empty");
        Tokenize(p, "is empty");
    }

    [Fact]
    public void GgufKeyNotUtf8OrDuplicated()
    {
        var g = TinyLlamaGguf();
        g.Key("general.name").Key = [(byte)'a', 0xC3, (byte)'b'];
        Inspect(Write("utf8-key.gguf", g.ToBytes()), "is not valid UTF-8");
        g = TinyLlamaGguf();
        var kv = g.Key("general.name");
        g.Kvs.Add(new GgufImage.Kv(kv.Key, kv.Type, kv.Value));
        Inspect(Write("dup-key.gguf", g.ToBytes()), "duplicate metadata key general.name");
    }

    [Fact]
    public void GgufOverlappingTensors()
    {
        var g = TinyLlamaGguf();
        var byOffset = g.Tensors.OrderBy(t => t.Offset).ToList();
        byOffset[2].Offset = byOffset[1].Offset; // same bytes for two tensors (sizes unchanged, alignment kept)
        Inspect(Write("overlap.gguf", g.ToBytes()), "overlap");
    }

    [Fact]
    public void GgufTensorMisalignedOrOutsideTheFile()
    {
        var g = TinyLlamaGguf();
        g.Tensors[3].Offset += 4;
        Inspect(Write("misaligned.gguf", g.ToBytes()), "not a multiple of the alignment 32");
        g = TinyLlamaGguf();
        g.Tensors[0].Offset = 1UL << 40;
        Inspect(Write("outside.gguf", g.ToBytes()), "truncated or corrupt");
        g = TinyLlamaGguf();
        g.Tensors[0].Dims = [ulong.MaxValue / 2, 4];
        Inspect(Write("dims.gguf", g.ToBytes()), "absurd");
    }

    [Fact]
    public void GgufTokenTypeOfUint8()
    {
        var g = TinyLlamaGguf();
        var kv = g.Key("tokenizer.ggml.token_type");
        var words = g.Words(kv);
        kv.Value = g.ArrayValue(0, words.Length, words.Select(w => (byte)w).ToArray());
        string p = Write("token-type-u8.gguf", g.ToBytes());
        Inspect(p, "tokenizer.ggml.token_type is an array of uint8, but llama.cpp requires an array of int32");
        Tokenize(p, "an array of uint8");
    }

    [Fact]
    public void GgufTokenTypeOfTheWrongLengthAndIdsOfTheWrongWidth()
    {
        var g = TinyLlamaGguf();
        var kv = g.Key("tokenizer.ggml.token_type");
        var words = g.Words(kv);
        kv.Value = g.ArrayValue(5, words.Length - 1, words.Skip(1).SelectMany(BitConverter.GetBytes).ToArray());
        Tokenize(Write("token-type-short.gguf", g.ToBytes()), $"token_type has {words.Length - 1} entries for {words.Length} tokens");
        g = TinyLlamaGguf();
        kv = g.Key("tokenizer.ggml.bos_token_id");
        kv.Type = 2; // uint16
        kv.Value = kv.Value[..2];
        Inspect(Write("bos-u16.gguf", g.ToBytes()), "bos_token_id is a uint16, but llama.cpp requires a uint32");
        g = TinyLlamaGguf();
        kv = g.Key("tokenizer.ggml.tokens");
        kv.Value = g.ArrayValue(5, 1, BitConverter.GetBytes(7));
        Tokenize(Write("tokens-int.gguf", g.ToBytes()), "tokenizer.ggml.tokens is an array of int32");
    }

    [Theory]
    [InlineData("<0x00>", "<0x-1>")]
    [InlineData("<0x41>", "<0xZZ>")]
    public void GgufByteTokenMisspelled(string from, string to)
    {
        // stories260K's GGUF (v1) holds a SentencePiece vocabulary whose byte tokens have token type 6
        var bytes = File.ReadAllBytes(Stories("tinyllamas-stories-260k-f32.gguf"));
        Encoding.ASCII.GetBytes(to).CopyTo(bytes, Tokenization.ByteTokenTests.IndexOf(bytes, Encoding.ASCII.GetBytes(from)));
        string p = Write("byte-token.gguf", bytes);
        Tokenize(p, $"\"{to}\" is declared a byte token but is not <0xHH>");
        // weights-only work goes on without the vocabulary; text needs it
        Refused(p, "is declared a byte token", "run", "--model", p, "-p", "hello");
    }

    [Fact]
    public void GgufV3FileWhoseHeaderSaysV1()
    {
        var bytes = File.ReadAllBytes(Fixture("tiny-llama.f32.gguf"));
        bytes[4] = 1;
        string p = Write("v3-says-v1.gguf", bytes);
        string line = Inspect(p, "the header says GGUF version 1, but the file reads as version 2 or 3");
        Assert.DoesNotContain('\0', line);
        Tokenize(p, "tensor 0");
        bytes[4] = 9;
        Inspect(Write("v9.gguf", bytes), "unsupported GGUF version 9");
    }

    [Fact]
    public void AValueQuotedInTheErrorCannotBreakTheLine()
    {
        var g = TinyLlamaGguf();
        var kv = g.Key("tokenizer.ggml.pre");
        var text = Encoding.UTF8.GetBytes("qwen2\nerror: forged\r\u0007");
        kv.Value = [.. g.Count(text.Length), .. text];
        string p = Write("pre.gguf", g.ToBytes());
        Tokenize(p, "tokenizer.ggml.pre \"qwen2\\nerror: forged\\r\\x07\" is not supported");
    }

    [Fact]
    public void GgufCountsAtTheExtremes()
    {
        foreach (var (at, value) in new (int, ulong)[] { (8, ulong.MaxValue), (8, long.MaxValue), (16, int.MaxValue), (16, 1UL << 40) })
        {
            var bytes = File.ReadAllBytes(Fixture("tiny-llama.f32.gguf"));
            BitConverter.GetBytes(value).CopyTo(bytes, at);
            Inspect(Write($"count-{at}-{value}.gguf", bytes), "count");
        }
        var cut = File.ReadAllBytes(Fixture("tiny-llama.f32.gguf"))[..5000];
        Inspect(Write("cut.gguf", cut), "truncated");
    }

    // ---- safetensors (a Hugging Face folder: the fixture's config.json beside a crafted model.safetensors) ----

    private string HfFolder(string name, byte[] safetensors)
    {
        string dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        File.Copy(Fixture("tiny-llama", "config.json"), Path.Combine(dir, "config.json"));
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), safetensors);
        return dir;
    }

    private static SafetensorsImage TinyLlamaSafetensors() => SafetensorsImage.Parse(File.ReadAllBytes(Fixture("tiny-llama", "model.safetensors")));

    [Fact]
    public void SafetensorsOverlappingOffsets()
    {
        var s = TinyLlamaSafetensors();
        var r = s.Ranges();
        // two tensors of one size: the second one's range moved onto the first one's
        var (a, b) = r.SelectMany(x => r.Where(y => y.Name != x.Name && y.End - y.Begin == x.End - x.Begin && y.Begin > x.Begin).Select(y => (x, y))).First();
        s.Header[b.Name]!["data_offsets"] = new JsonArray(a.Begin, a.End);
        string dir = HfFolder("overlap", s.ToBytes());
        Inspect(dir, "overlap");
    }

    [Fact]
    public void SafetensorsRangesOutsideOrMissized()
    {
        var s = TinyLlamaSafetensors();
        var last = s.Ranges()[^1];
        s.Header[last.Name]!["data_offsets"] = new JsonArray(last.Begin + 64, last.End + 64);
        Inspect(HfFolder("outside", s.ToBytes()), "truncated or corrupt");
        s = TinyLlamaSafetensors();
        var first = s.Ranges()[0];
        s.Header[first.Name]!["data_offsets"] = new JsonArray(first.Begin, first.End - 4);
        Inspect(HfFolder("missized", s.ToBytes()), "bytes for shape");
        s = TinyLlamaSafetensors();
        s.Header[first.Name]!["shape"] = new JsonArray(1L << 40, 1L << 40);
        Inspect(HfFolder("absurd-shape", s.ToBytes()), "absurd shape");
    }

    [Fact]
    public void SafetensorsDuplicateNameAndAbsurdHeaderLength()
    {
        var s = TinyLlamaSafetensors();
        var first = s.Ranges()[0];
        string header = s.Header.ToJsonString();
        string dup = header[..^1] + $",\"{first.Name}\":" + s.Header[first.Name]!.ToJsonString() + "}";
        Inspect(HfFolder("duplicate", SafetensorsImage.Assemble(dup, s.Data)), $"tensor {first.Name} is listed twice");
        foreach (ulong len in new[] { 0UL, ulong.MaxValue, (ulong)long.MaxValue, 1UL << 31 })
        {
            var bytes = File.ReadAllBytes(Fixture("tiny-llama", "model.safetensors"));
            BitConverter.GetBytes(len).CopyTo(bytes, 0);
            Inspect(HfFolder($"len{len}", bytes), "header length");
        }
    }

    // ---- files that are not regular files ----

    private string Fifo(string name)
    {
        string p = Path.Combine(_dir, name);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [p])!) mkfifo.WaitForExit();
        Assert.True(File.Exists(p));
        return p;
    }

    [Fact]
    public void FifoAsModelAndAsTokenizer()
    {
        Inspect(Fifo("model.gguf"), "is a FIFO, not a regular file");
        Tokenize(Fifo("tok.bin"), "is a FIFO, not a regular file");
        Refused(Path.Combine(_dir, "tok.bin"), "is a FIFO", "inspect", "--model", Stories("stories260K.bin"), "--tokenizer", Path.Combine(_dir, "tok.bin"));
    }

    [Fact]
    public void DevZeroAsTokenizerAndAsModel()
    {
        Tokenize("/dev/zero", "is a character device, not a regular file");
        Inspect("/dev/zero", "is a character device, not a regular file");
    }

    [Fact]
    public void FifoInsideAHuggingFaceFolder()
    {
        // config.json a FIFO beside a real model.safetensors
        string dir = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(dir);
        File.CreateSymbolicLink(Path.Combine(dir, "model.safetensors"), Fixture("tiny-llama", "model.safetensors"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(dir, "config.json")])!) mkfifo.WaitForExit();
        Refused(Path.Combine(dir, "config.json"), "is a FIFO", "inspect", "--model", dir);
        // tokenizer_config.json a FIFO beside a real tokenizer.json
        string tok = Path.Combine(_dir, "tok");
        Directory.CreateDirectory(tok);
        File.CreateSymbolicLink(Path.Combine(tok, "tokenizer.json"), TestData.Path("tokenizers", "qwen3", "tokenizer.json"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(tok, "tokenizer_config.json")])!) mkfifo.WaitForExit();
        Tokenize(tok, "is a FIFO", Path.Combine(tok, "tokenizer_config.json"));
    }

    // ---- llama2.c ----

    [Theory]
    [InlineData("<0x00>", "<0x-1>")]
    [InlineData("<0x7F>", "<0xZZ>")]
    public void Llama2cVocabularyByteTokenMisspelled(string from, string to)
    {
        var bytes = File.ReadAllBytes(Stories("tok512.bin"));
        Encoding.ASCII.GetBytes(to).CopyTo(bytes, Tokenization.ByteTokenTests.IndexOf(bytes, Encoding.ASCII.GetBytes(from)));
        string p = Write("tok.bin", bytes);
        Tokenize(p, $"should be the byte token {from}");
        Refused(p, "byte token", "inspect", "--model", Stories("stories260K.bin"), "--tokenizer", p);
    }

    [Fact]
    public void Llama2cCheckpointTruncatedOrPadded()
    {
        var bytes = File.ReadAllBytes(Stories("stories260K.bin"));
        Inspect(Write("cut.bin", bytes[..(bytes.Length - 4)]), "truncated");
        Inspect(Write("long.bin", [.. bytes, 0, 0, 0, 0]), "not a legacy v0 llama2.c file");
        var header = (byte[])bytes.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(header, 0); // dim
        Inspect(Write("dim.bin", header), "unrecognised model file");
    }
}
