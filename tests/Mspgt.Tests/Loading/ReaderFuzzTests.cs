using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;
using Mspgt.Loading;
using Mspgt.Tests.Cli;
using Mspgt.Tokenization;

namespace Mspgt.Tests.Loading;

/// <summary>
/// Property-based fuzzing of every reader on its real fixture: truncations, bit flips (mostly in the header, where
/// the structure is) and size fields set to extremes (0, 1, int/uint/long/ulong maxima). Whatever the bytes, opening
/// the file either works or throws <see cref="MspgtException"/>, and never allocates 1 GiB (counted on the calling
/// thread). Iterations are few enough that all of them take seconds; a failure prints the mutation, and CsCheck's
/// seed reproduces it.
/// </summary>
public partial class ReaderFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-fuzz").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const long AllocationLimit = 1L << 30;
    /// <summary>MSPGT_FUZZ_SCALE=N runs N times the iterations (a longer hunt by hand; CI runs the default).</summary>
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("MSPGT_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;
    private static readonly ulong[] Extremes =
        [0, 1, 0x7F, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, long.MaxValue, 0x8000_0000_0000_0000, ulong.MaxValue];
    private static readonly string[] ExtremeNumbers =
        ["0", "-1", "1", "2147483647", "2147483648", "4294967296", "9223372036854775807", "18446744073709551615", "-9223372036854775808", "1e308", "0.5"];

    /// <summary>One change to a file: 0 truncate, 1-2 flip bits, 3 set a size field to an extreme.</summary>
    public sealed record Mutation(int Kind, int A, int B, int C);

    private static readonly Gen<Mutation> Mutations =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], (k, a, b, c) => new Mutation(k, a, b, c));

    /// <summary>A fixture format: its bytes, where its structure ends (bit flips go there 4 times in 5) and how a size
    /// field is set to an extreme.</summary>
    private sealed record Format(byte[] Bytes, int HeaderEnd, Func<byte[], int, int, byte[]> SetExtreme);

    private static byte[] Apply(Format f, Mutation m)
    {
        var b = (byte[])f.Bytes.Clone();
        switch (m.Kind)
        {
            case 0:
                // cuts cluster in the header, where every field is read
                int cut = m.B % 2 == 0 ? m.A % (f.HeaderEnd + 1) : m.A % (b.Length + 1);
                return b[..cut];
            case 1:
            case 2:
                foreach (int r in new[] { m.A, m.B, m.C }.Take(m.Kind == 1 ? 1 : 3))
                {
                    int pos = r % 5 != 0 ? r / 8 % f.HeaderEnd : r / 8 % b.Length;
                    b[pos] ^= (byte)(1 << (r % 8));
                }
                return b;
            default:
                return f.SetExtreme(b, m.A, m.B);
        }
    }

    /// <summary>Sets one binary field (offset, width) of <paramref name="fields"/> to an extreme value.</summary>
    private static Func<byte[], int, int, byte[]> BinaryFields(IReadOnlyList<(int Offset, int Width)> fields) => (b, a, v) =>
    {
        var (offset, width) = fields[a % fields.Count];
        ulong value = Extremes[v % Extremes.Length];
        if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), (uint)value);
        else BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offset), value);
        return b;
    };

    [GeneratedRegex(@"-?\d+")]
    private static partial Regex Numbers();

    /// <summary>Replaces one number of a JSON text (starting at <paramref name="from"/>) by an extreme one.</summary>
    private static string ExtremeNumber(string json, int from, int a, int v)
    {
        var ms = Numbers().Matches(json, from);
        if (ms.Count == 0) return json;
        var m = ms[a % ms.Count];
        return json[..m.Index] + ExtremeNumbers[v % ExtremeNumbers.Length] + json[(m.Index + m.Length)..];
    }

    private void Check(Format format, int iterations, string fileName, Action<string> open)
    {
        Mutations.Sample(m =>
        {
            var bytes = Apply(format, m);
            string dir = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, fileName);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { open(path); }
            catch (MspgtException) { }
            finally { Directory.Delete(dir, recursive: true); }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < AllocationLimit, $"{m}: {allocated:N0} bytes allocated");
        }, iter: iterations * Scale, threads: 1);
    }

    /// <summary>Everything a user's command does with a model file before running it: weights, vocabulary, a short
    /// text encoded and decoded.</summary>
    private static void LoadAndTokenize(string path, string? tokenizer = null)
    {
        using var m = ModelLoader.Load(path, tokenizer);
        if (m.Tokenizer is { } t) t.Decode(t.Encode("Hello, wörld 123\n", addBos: true));
    }

    [Fact]
    public void Gguf()
    {
        string fixture = TestData.Path("fixtures", "tiny-qwen2.q8_0.gguf");
        var bytes = File.ReadAllBytes(fixture);
        var image = GgufImage.Parse(bytes);
        var format = new Format(bytes, image.DataStart, BinaryFields(image.SizeFields));
        Check(format, 120, "model.gguf", p =>
        {
            LoadAndTokenize(p);
            var t = TokenizerLoader.Load(p);
            t.Decode(t.Encode("Hello", addBos: false));
        });
    }

    [Fact]
    public void GgufVersion1()
    {
        var bytes = File.ReadAllBytes(TestData.Path("models", "stories260K", "tinyllamas-stories-260k-f32.gguf"));
        var image = GgufImage.Parse(bytes);
        Check(new Format(bytes, image.DataStart, BinaryFields(image.SizeFields)), 60, "model.gguf", p => LoadAndTokenize(p));
    }

    [Fact]
    public void Safetensors()
    {
        string folder = TestData.Path("fixtures", "tiny-qwen2-bf16");
        var bytes = File.ReadAllBytes(Path.Combine(folder, "model.safetensors"));
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var format = new Format(bytes, headerEnd, (b, a, v) =>
        {
            if (a % 5 == 0) return BinaryFields([(0, 8)])(b, a, v); // the header length itself
            string header = Encoding.UTF8.GetString(b, 8, headerEnd - 8);
            return SafetensorsImage.Assemble(ExtremeNumber(header, 0, a, v), b[headerEnd..]);
        });
        Check(format, 120, "model.safetensors", p =>
        {
            File.Copy(Path.Combine(folder, "config.json"), Path.Combine(Path.GetDirectoryName(p)!, "config.json"));
            using var _ = HuggingFaceModelLoader.Load(Path.GetDirectoryName(p)!);
        });
    }

    [Fact]
    public void Llama2cCheckpoint()
    {
        var bytes = File.ReadAllBytes(TestData.Path("models", "stories260K", "stories260K.bin"));
        var fields = Enumerable.Range(0, 7).Select(i => (4 * i, 4)).ToList();
        string tok = TestData.Path("models", "stories260K", "tok512.bin");
        Check(new Format(bytes, 28 + 4096, BinaryFields(fields)), 80, "model.bin", p => LoadAndTokenize(p, tok));
    }

    [Fact]
    public void Llama2cVocabulary()
    {
        var bytes = File.ReadAllBytes(TestData.Path("models", "stories260K", "tok512.bin"));
        // max_token_length, then each token's byte length (after its float score)
        var fields = new List<(int, int)> { (0, 4) };
        for (int p = 4; p < bytes.Length;)
        {
            fields.Add((p + 4, 4));
            p += 8 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(p + 4));
        }
        Check(new Format(bytes, bytes.Length, BinaryFields(fields)), 300, "tok.bin", p =>
        {
            var t = TokenizerLoader.Load(p);
            t.Decode(t.Encode("Hello, wörld 123\n", addBos: true));
        });
    }

    /// <summary>A small tokenizer.json cut from the real Qwen3 one: its pipeline, its first 400 tokens with the merges
    /// among them, and its added tokens renumbered after them.</summary>
    private static readonly Lazy<byte[]> SmallQwenTokenizer = new(() =>
    {
        var root = JsonNode.Parse(File.ReadAllBytes(TestData.Path("tokenizers", "qwen3", "tokenizer.json")))!.AsObject();
        var model = root["model"]!.AsObject();
        var vocab = new JsonObject();
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (text, id) in model["vocab"]!.AsObject())
            if ((int)id! is int n && n < 400) { vocab[text] = n; kept.Add(text); }
        var merges = new JsonArray();
        foreach (var m in model["merges"]!.AsArray())
        {
            var pair = m!.AsArray();
            string l = (string)pair[0]!, r = (string)pair[1]!;
            if (kept.Contains(l) && kept.Contains(r) && kept.Contains(l + r)) merges.Add(new JsonArray(l, r));
        }
        model["vocab"] = vocab;
        model["merges"] = merges;
        int next = 400;
        foreach (var t in root["added_tokens"]!.AsArray()) t!["id"] = next++;
        root["post_processor"] = null;
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    });

    [Fact]
    public void TokenizerJson()
    {
        var bytes = SmallQwenTokenizer.Value;
        var format = new Format(bytes, bytes.Length, (b, a, v) =>
            Encoding.UTF8.GetBytes(ExtremeNumber(Encoding.UTF8.GetString(b), 0, a, v)));
        Check(format, 120, "tokenizer.json", p =>
        {
            var t = TokenizerLoader.Load(p);
            t.Decode(t.Encode("Hello, wörld 123\n", addBos: true));
        });
    }
}
