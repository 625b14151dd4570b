using Mspgt.Checkpoints;
using Mspgt.Loading;

namespace Mspgt.Tests.Checkpoints;

public class GgufReaderTests
{
    public static IEnumerable<object[]> AllGgufFiles()
    {
        foreach (var f in Directory.GetFiles(TestData.Path("fixtures"), "*.gguf").Order())
            yield return [Path.GetFileName(f), 3];
        yield return [Path.Combine("..", "models", "stories260K", "tinyllamas-stories-260k-f32.gguf"), 1];
    }

    private static string Fixture(string name) => Path.GetFullPath(Path.Combine(TestData.Path("fixtures"), name));

    [Theory]
    [MemberData(nameof(AllGgufFiles))]
    public void EveryShippedFileParses(string name, int version)
    {
        string path = Fixture(name);
        using var f = GgufReader.Open(path);
        Assert.Equal(version, f.Version);
        Assert.Equal(32, f.Alignment);
        Assert.Equal(0, f.DataStart % 32);
        Assert.NotEmpty(f.Tensors);
        Assert.Contains(f.GetString("general.architecture"), new[] { "llama", "qwen2", "qwen3" });
        long end = 0;
        foreach (var t in f.Tensors)
        {
            Assert.Equal(0, t.Offset % 32);
            Assert.True(t.FileOffset + t.Bytes <= f.FileLength);
            Assert.NotNull(t.Type);
            end = Math.Max(end, t.FileOffset + t.Bytes);
        }
        // the data section runs to the end of the file (up to the final tensor's padding)
        Assert.True(f.FileLength - end < 32, $"{f.FileLength - end} unexplained bytes at the end");
    }

    [Fact]
    public void MetadataValuesHaveTheDocumentedClrTypes()
    {
        using var f = GgufReader.Open(Fixture("tiny-qwen3.q8_0.gguf"));
        var m = f.Metadata;
        Assert.Equal("qwen3", m["general.architecture"]);
        Assert.Equal(7L, m["general.file_type"]);
        Assert.Equal(2L, m["general.quantization_version"]);
        Assert.Equal(16L, m["qwen3.attention.key_length"]);
        Assert.Equal((double)1e-6f, m["qwen3.attention.layer_norm_rms_epsilon"]);
        Assert.Equal(1000000.0, m["qwen3.rope.freq_base"]);
        var tokens = Assert.IsType<string[]>(m["tokenizer.ggml.tokens"]);
        Assert.Equal(300, tokens.Length);
        Assert.Equal("<|begin_of_text|>", tokens[298]);
        Assert.Equal(42, Assert.IsType<string[]>(m["tokenizer.ggml.merges"]).Length);
        var types = Assert.IsType<long[]>(m["tokenizer.ggml.token_type"]);
        Assert.Equal(1L, types[0]);
        Assert.Equal(3L, types[299]);
        Assert.Equal(298L, m["tokenizer.ggml.bos_token_id"]);
        Assert.Equal(false, m["tokenizer.ggml.add_bos_token"]);
        Assert.Equal("gpt2", f.GetString("tokenizer.ggml.model"));

        var embd = f.FindTensor("token_embd.weight")!;
        Assert.Equal(new long[] { 64, 300 }, embd.Dims);
        Assert.Equal(new long[] { 300, 64 }, embd.Shape);
        Assert.Equal("Q8_0", embd.TypeName);
        Assert.Equal(300 * 2 * 34, embd.Bytes);
    }

    [Fact]
    public void Version1FileUsesUint32CountsAndLengths()
    {
        using var f = GgufReader.Open(TestData.Path("models", "stories260K", "tinyllamas-stories-260k-f32.gguf"));
        Assert.Equal(1, f.Version);
        Assert.Equal(48, f.Tensors.Count);
        Assert.Equal(18, f.Metadata.Count);
        Assert.Equal("Meta AI original pth", f.GetString("llama.tensor_data_layout"));
        Assert.Equal(512, Assert.IsType<string[]>(f.Metadata["tokenizer.ggml.tokens"]).Length);
        Assert.Equal(512, Assert.IsType<double[]>(f.Metadata["tokenizer.ggml.scores"]).Length);
        Assert.Equal(new long[] { 64, 172 }, f.FindTensor("blk.0.ffn_gate.weight")!.Dims);
        Assert.Equal(11456, f.DataStart);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(3u)]
    public void SyntheticFile_AllValueTypesAndNestedArrays(uint version)
    {
        using var dir = new TempDir();
        var w = new GgufTestWriter(version);
        w.Raw("u8", 0, b => b.Write((byte)200))
         .Raw("i8", 1, b => b.Write((sbyte)-5))
         .Raw("u16", 2, b => b.Write((ushort)60000))
         .Raw("i16", 3, b => b.Write((short)-300))
         .U32("u32", 4_000_000_000)
         .Raw("i32", 5, b => b.Write(-7))
         .F32("f32", 1.5f)
         .Bool("bool", true)
         .String("str", "héllo")
         .Raw("u64big", 10, b => b.Write(ulong.MaxValue))
         .Raw("u64", 10, b => b.Write(12345UL))
         .Raw("i64", 11, b => b.Write(-9_000_000_000_000_000_000L))
         .Raw("f64", 12, b => b.Write(0.1))
         .Array("bools", 7, 3, (b, i) => b.Write((byte)(i == 1 ? 1 : 0)))
         .Array("u64s", 10, 2, (b, i) => b.Write(i == 0 ? 1UL : ulong.MaxValue))
         .Array("f32s", 6, 2, (b, i) => b.Write(i + 0.25f))
         .Array("i8s", 1, 2, (b, i) => b.Write((sbyte)(i - 1)))
         .StringArray("strs", ["a", "", "ç"])
         .Array("nested", 9, 2, (b, i) =>
         {
             w.ArrayHeader(b, 5, i + 1); // [[0], [10, 11]] as int32 arrays
             for (int k = 0; k <= i; k++) b.Write(i * 10 + k);
         })
         .F32Tensor("t", [2, 3], [1, 2, 3, 4, 5, 6]);
        string path = w.WriteTo(dir.Path, "all.gguf");
        using var f = GgufReader.Open(path);
        var m = f.Metadata;
        Assert.Equal((int)version, f.Version);
        Assert.Equal(200L, m["u8"]);
        Assert.Equal(-5L, m["i8"]);
        Assert.Equal(60000L, m["u16"]);
        Assert.Equal(-300L, m["i16"]);
        Assert.Equal(4_000_000_000L, m["u32"]);
        Assert.Equal(-7L, m["i32"]);
        Assert.Equal(1.5, m["f32"]);
        Assert.Equal(true, m["bool"]);
        Assert.Equal("héllo", m["str"]);
        Assert.Equal(ulong.MaxValue, m["u64big"]);
        Assert.Equal(12345L, m["u64"]);
        Assert.Equal(-9_000_000_000_000_000_000L, m["i64"]);
        Assert.Equal(0.1, m["f64"]);
        Assert.Equal(new[] { false, true, false }, m["bools"]);
        Assert.Equal(new[] { 1UL, ulong.MaxValue }, m["u64s"]);
        Assert.Equal(new[] { 0.25, 1.25 }, m["f32s"]);
        Assert.Equal(new[] { -1L, 0L }, m["i8s"]);
        Assert.Equal(new[] { "a", "", "ç" }, m["strs"]);
        var nested = Assert.IsType<object[]>(m["nested"]);
        Assert.Equal(new[] { 0L }, nested[0]);
        Assert.Equal(new[] { 10L, 11L }, nested[1]);
        Assert.Throws<MspgtException>(() => f.GetInteger("u64big"));
        Assert.Throws<MspgtException>(() => f.GetString("u32"));

        var t = Assert.Single(f.Tensors);
        Assert.Equal(new long[] { 3, 2 }, t.Shape);
        Assert.Equal(24, t.Bytes);
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f.TensorSpan(t)).ToArray();
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, floats);
    }

    [Fact]
    public void AlignmentKeyIsHonoured()
    {
        using var dir = new TempDir();
        var w = new GgufTestWriter(3, alignment: 64).U32("general.alignment", 64)
            .F32Tensor("a", [3], [1, 2, 3]).F32Tensor("b", [2], [7, 8]);
        using var f = GgufReader.Open(w.WriteTo(dir.Path, "a64.gguf"));
        Assert.Equal(64, f.Alignment);
        Assert.Equal(0, f.DataStart % 64);
        Assert.Equal(64, f.FindTensor("b")!.Offset);
        Assert.Equal(7f, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f.TensorSpan(f.FindTensor("b")!))[0]);
    }

    private static MspgtException OpenFails(string path)
    {
        var e = Assert.Throws<MspgtException>(() => { using var _ = GgufReader.Open(path); });
        Assert.Equal(path, e.Source);
        return e;
    }

    [Fact]
    public void TruncatedCopiesAreRefusedNamingTheFile()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Fixture("tiny-llama.q8_0.gguf"));
        using var f = GgufReader.Open(Fixture("tiny-llama.q8_0.gguf"));
        long lastTensorStart = f.Tensors.Max(t => t.FileOffset);
        long dataEnd = f.Tensors.Max(t => t.FileOffset + t.Bytes); // the file may pad after the last tensor
        // cut inside the header, the metadata, the tensor directory, and the data
        long[] cuts = [0, 3, 10, 200, 2000, f.DataStart - 40, f.DataStart + 100, lastTensorStart + 5, dataEnd - 1];
        foreach (long cut in cuts)
        {
            string path = Path.Combine(dir.Path, $"cut{cut}.gguf");
            File.WriteAllBytes(path, bytes[..(int)cut]);
            var e = OpenFails(path);
            Assert.Contains(cut < 4 ? "not a GGUF file" : "truncated", e.Message);
        }
        // a cut inside the data names the tensor
        string last = Path.Combine(dir.Path, "cut-last.gguf");
        File.WriteAllBytes(last, bytes[..(int)(dataEnd - 1)]);
        Assert.Contains(f.Tensors.MaxBy(t => t.FileOffset)!.Name, OpenFails(last).Message);
        // and the loader reports the same
        var le = Assert.Throws<MspgtException>(() => GgufModelLoader.Load(last));
        Assert.Equal(last, le.Source);
    }

    [Fact]
    public void WrongMagicIsRefused()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Fixture("tiny-qwen2.f32.gguf"));
        bytes[0] = (byte)'X';
        string path = Path.Combine(dir.Path, "magic.gguf");
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not a GGUF file", OpenFails(path).Message);
        string st = Path.Combine(dir.Path, "model.safetensors");
        File.Copy(TestData.Path("fixtures", "tiny-qwen2", "model.safetensors"), st);
        Assert.Contains("not a GGUF file", OpenFails(st).Message);
    }

    [Fact]
    public void UnsupportedVersionsAreRefused()
    {
        using var dir = new TempDir();
        var w = new GgufTestWriter(4);
        Assert.Contains("version 4", OpenFails(w.WriteTo(dir.Path, "v4.gguf")).Message);
        var bytes = new GgufTestWriter(3).ToBytes();
        bytes[4] = 0; bytes[7] = 3; // version field big-endian
        string be = Path.Combine(dir.Path, "be.gguf");
        File.WriteAllBytes(be, bytes);
        Assert.Contains("big-endian", OpenFails(be).Message);
    }

    [Fact]
    public void UnknownValueTypesAreRefused()
    {
        using var dir = new TempDir();
        var e = OpenFails(new GgufTestWriter().Raw("weird", 13, b => b.Write(0)).WriteTo(dir.Path, "vt.gguf"));
        Assert.Contains("weird", e.Message);
        Assert.Contains("unknown value type 13", e.Message);
        e = OpenFails(new GgufTestWriter().Array("arr", 77, 1, (b, _) => b.Write(0)).WriteTo(dir.Path, "at.gguf"));
        Assert.Contains("unknown value type 77", e.Message);
    }

    [Fact]
    public void UnknownTensorTypeIsRefused()
    {
        using var dir = new TempDir();
        var e = OpenFails(new GgufTestWriter().Tensor("w", [32, 2], 99, new byte[64]).WriteTo(dir.Path, "tt.gguf"));
        Assert.Contains("tensor w has unknown ggml type 99", e.Message);
    }

    [Fact]
    public void KnownGgmlTypeThatMspgtCannotDecodeIsListedButNotLoaded()
    {
        using var dir = new TempDir();
        // Q5_K (13): 176 bytes per 256 values; readable directory entry, refused only when a model needs it
        string path = new GgufTestWriter().Tensor("w", [256, 2], 13, new byte[352]).WriteTo(dir.Path, "q5k.gguf");
        using var f = GgufReader.Open(path);
        var t = Assert.Single(f.Tensors);
        Assert.Equal("Q5_K", t.TypeName);
        Assert.Null(t.Type);
        Assert.Equal(352, t.Bytes);
    }

    [Fact]
    public void AbsurdCountsAreRefusedWithoutAllocating()
    {
        using var dir = new TempDir();
        var e = OpenFails(new GgufTestWriter().Array("huge", 4, 0, (_, _) => { })
            .Raw("x", 9, b => { b.Write(4u); b.Write(1UL << 40); }).WriteTo(dir.Path, "huge.gguf"));
        Assert.Contains("length of x", e.Message);
        var bytes = new GgufTestWriter().ToBytes();
        BitConverter.GetBytes(1UL << 50).CopyTo(bytes, 8); // tensor count
        string p2 = Path.Combine(dir.Path, "count.gguf");
        File.WriteAllBytes(p2, bytes);
        Assert.Contains("tensor count", OpenFails(p2).Message);
        var e3 = OpenFails(new GgufTestWriter().Raw("s", 8, b => b.Write(1UL << 62)).WriteTo(dir.Path, "str.gguf"));
        Assert.Contains("truncated", e3.Message);
    }

    [Fact]
    public void StructuralErrorsAreRefused()
    {
        using var dir = new TempDir();
        Assert.Contains("duplicate metadata key k",
            OpenFails(new GgufTestWriter().U32("k", 1).U32("k", 2).WriteTo(dir.Path, "dup.gguf")).Message);
        Assert.Contains("duplicate tensor a",
            OpenFails(new GgufTestWriter().F32Tensor("a", [1], [1]).F32Tensor("a", [1], [2]).WriteTo(dir.Path, "dupt.gguf")).Message);
        Assert.Contains("not a multiple of the Q8_0 block size",
            OpenFails(new GgufTestWriter().Tensor("q", [31], 8, new byte[34]).WriteTo(dir.Path, "blk.gguf")).Message);
        Assert.Contains("5 dimensions",
            OpenFails(new GgufTestWriter().F32Tensor("d", [1, 1, 1, 1, 1], [1]).WriteTo(dir.Path, "dims.gguf")).Message);
        Assert.Contains("general.alignment",
            OpenFails(new GgufTestWriter().U32("general.alignment", 48).WriteTo(dir.Path, "al.gguf")).Message);
        Assert.Contains("not a multiple of the alignment",
            OpenFails(new GgufTestWriter(3, alignment: 8).F32Tensor("a", [3], [1, 2, 3]).F32Tensor("b", [64], new float[64]).WriteTo(dir.Path, "off.gguf")).Message);
        var missing = Path.Combine(dir.Path, "nope.gguf");
        Assert.Contains("not found", OpenFails(missing).Message);
    }

    [Fact]
    public void KeysAndTensorNamesMustBeNonEmptyStrictUtf8WithoutControlCharacters()
    {
        using var dir = new TempDir();
        Assert.Contains("metadata key 1 is empty",
            OpenFails(new GgufTestWriter().U32("a", 1).U32("", 2).WriteTo(dir.Path, "empty.gguf")).Message);
        Assert.Contains("name of tensor 0 is empty",
            OpenFails(new GgufTestWriter().F32Tensor("", [1], [1]).WriteTo(dir.Path, "emptyt.gguf")).Message);
        // a lone continuation byte: the key is written raw so that no encoder repairs it
        var bad = new GgufTestWriter().Raw("k\u00e9y", 4, b => b.Write(1u)).ToBytes();
        int at = System.Array.IndexOf(bad, (byte)0xC3);
        bad[at] = 0x80;
        string p = Path.Combine(dir.Path, "utf8.gguf");
        File.WriteAllBytes(p, bad);
        Assert.Contains("metadata key 0 is not valid UTF-8", OpenFails(p).Message);
        Assert.Contains("control character U+000A",
            OpenFails(new GgufTestWriter().U32("a\nb", 1).WriteTo(dir.Path, "ctl.gguf")).Message);
        // keys are unique (also when the second copy has another type)
        Assert.Contains("duplicate metadata key k",
            OpenFails(new GgufTestWriter().U32("k", 1).String("k", "x").WriteTo(dir.Path, "dup2.gguf")).Message);
    }

    [Fact]
    public void OverlappingTensorDataIsRefused()
    {
        using var dir = new TempDir();
        var bytes = new GgufTestWriter().F32Tensor("a", [16], new float[16]).F32Tensor("b", [16], new float[16]).ToBytes();
        // b's offset (64, the second tensor's u64 after its type) rewritten to 32: inside a's 64 bytes
        int at = LastIndexOf(bytes, BitConverter.GetBytes(64UL));
        BitConverter.GetBytes(32UL).CopyTo(bytes, at);
        string p = Path.Combine(dir.Path, "overlap.gguf");
        File.WriteAllBytes(p, bytes);
        Assert.Contains("tensors a (data bytes 0..64) and b (from 32) overlap", OpenFails(p).Message);
        // the same range twice is an overlap too; empty tensors take no bytes and never overlap
        BitConverter.GetBytes(0UL).CopyTo(bytes, at);
        File.WriteAllBytes(p, bytes);
        Assert.Contains("overlap", OpenFails(p).Message);
        using var ok = GgufReader.Open(new GgufTestWriter().F32Tensor("e", [0], []).F32Tensor("f", [4], [1, 2, 3, 4]).WriteTo(dir.Path, "empty-tensor.gguf"));
        Assert.Equal(2, ok.Tensors.Count);
    }

    private static int LastIndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = haystack.Length - needle.Length; i >= 0; i--)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("pattern not found");
    }

    [Fact]
    public void KeysMspgtReadsMustHaveTheTypesLlamaCppRequires()
    {
        using var dir = new TempDir();
        Assert.Contains("metadata tokenizer.ggml.token_type is an array of uint8, but llama.cpp requires an array of int32",
            OpenFails(new GgufTestWriter().Array("tokenizer.ggml.token_type", 0, 3, (b, _) => b.Write((byte)1)).WriteTo(dir.Path, "tt.gguf")).Message);
        Assert.Contains("tokenizer.ggml.scores is an array of float64, but llama.cpp requires an array of float32",
            OpenFails(new GgufTestWriter().Array("tokenizer.ggml.scores", 12, 1, (b, _) => b.Write(0.5)).WriteTo(dir.Path, "sc.gguf")).Message);
        Assert.Contains("tokenizer.ggml.tokens is an array of int32",
            OpenFails(new GgufTestWriter().Array("tokenizer.ggml.tokens", 5, 1, (b, _) => b.Write(7)).WriteTo(dir.Path, "tok.gguf")).Message);
        Assert.Contains("tokenizer.ggml.bos_token_id is a uint16, but llama.cpp requires a uint32",
            OpenFails(new GgufTestWriter().Raw("tokenizer.ggml.bos_token_id", 2, b => b.Write((ushort)1)).WriteTo(dir.Path, "bos.gguf")).Message);
        Assert.Contains("general.alignment is a uint64",
            OpenFails(new GgufTestWriter().Raw("general.alignment", 10, b => b.Write(32UL)).WriteTo(dir.Path, "al.gguf")).Message);
        // per-architecture keys are checked under the file's own architecture only
        Assert.Contains("metadata qwen3.block_count is a uint8, but llama.cpp requires a uint32",
            OpenFails(new GgufTestWriter().String("general.architecture", "qwen3").Raw("qwen3.block_count", 0, b => b.Write((byte)2))
                .WriteTo(dir.Path, "bc.gguf")).Message);
        using (GgufReader.Open(new GgufTestWriter().String("general.architecture", "qwen3").Raw("llama.block_count", 0, b => b.Write((byte)2))
                   .WriteTo(dir.Path, "other-arch.gguf"))) { }
        // per-layer counts may be int32 or uint32 arrays, not int16 ones
        using (var f = GgufReader.Open(new GgufTestWriter().String("general.architecture", "llama")
                   .Array("llama.feed_forward_length", 5, 2, (b, _) => b.Write(8)).WriteTo(dir.Path, "ffn.gguf")))
            Assert.Equal(new GgufValueType(GgufType.Array, GgufType.Int32), f.MetadataTypes["llama.feed_forward_length"]);
        Assert.Contains("llama.attention.head_count is an array of int16",
            OpenFails(new GgufTestWriter().String("general.architecture", "llama")
                .Array("llama.attention.head_count", 3, 2, (b, _) => b.Write((short)2)).WriteTo(dir.Path, "hc.gguf")).Message);
        Assert.Contains("general.architecture is a uint32",
            OpenFails(new GgufTestWriter().U32("general.architecture", 1).WriteTo(dir.Path, "arch.gguf")).Message);
    }

    [Fact]
    public void AHeaderThatSaysV1OnAV3FileGivesOneLineNamingTheFile()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Fixture("tiny-llama.f32.gguf"));
        bytes[4] = 1;
        string p = Path.Combine(dir.Path, "v1.gguf");
        File.WriteAllBytes(p, bytes);
        var e = OpenFails(p);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\0', e.Message);
    }
}
