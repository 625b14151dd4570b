using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Mspgt.Experiments;
using Mspgt.Models;
using Mspgt.Reporting;
using Mspgt.Tokenization;
using Mspgt.Corpora;
using Mspgt.Files;

namespace Mspgt.Training;

/// <summary>
/// The token streams a run trains and validates on: documents (each starting with BOS where the vocabulary has one)
/// concatenated, the last 5% of documents held out for validation.
/// </summary>
public sealed class TrainingData
{
    public required int[] Train { get; init; }
    public required int[] Validation { get; init; }
    public required int TrainDocuments { get; init; }
    public required int ValidationDocuments { get; init; }
    public required string Description { get; init; }
    /// <summary>sha256 of both streams (little-endian int32 ids): identifies the data in training.json.</summary>
    public required string Sha256 { get; init; }

    public const double ValidationFraction = 0.05;

    public static TrainingData Split(IReadOnlyList<int[]> documents, string description)
    {
        if (documents.Count < 2) throw new MspgtException("corpus", $"need at least 2 documents (one held out for validation), got {documents.Count}");
        int val = Math.Max(1, (int)Math.Round(documents.Count * ValidationFraction));
        var train = documents.Take(documents.Count - val).SelectMany(d => d).ToArray();
        var valid = documents.Skip(documents.Count - val).SelectMany(d => d).ToArray();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var s in new[] { train, valid })
        {
            var bytes = new byte[s.Length * 4];
            for (int i = 0; i < s.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), s[i]);
            sha.AppendData(bytes);
        }
        return new TrainingData
        {
            Train = train, Validation = valid, TrainDocuments = documents.Count - val, ValidationDocuments = val,
            Description = description, Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset()),
        };
    }

    /// <summary>Documents of a corpus file (plain text separated by blank lines, or JSONL "text"), each encoded with
    /// BOS first when the vocabulary has one, else followed by EOS when it has one (so documents stay separated).</summary>
    public static List<int[]> EncodeFile(string path, ITokenizer tokenizer)
    {
        var docs = new List<int[]>();
        foreach (var text in Corpus.ReadTexts(path))
        {
            var ids = tokenizer.Encode(text, addBos: tokenizer.BosId != null);
            if (tokenizer.BosId == null && tokenizer.EosId is int eos) ids = [.. ids, eos];
            if (ids.Length >= 2) docs.Add(ids);
        }
        if (docs.Count == 0) throw new MspgtException(path, "no document has at least 2 tokens");
        return docs;
    }

    /// <summary>
    /// Documents sampled from a teacher at temperature 1: document i starts from BOS, uses seed (seed + i) and stops at
    /// EOS/BOS (not stored) or maxTokens — exactly <see cref="Corpus.Sample"/>'s documents, computed in parallel.
    /// </summary>
    public static List<int[]> SampleTeacher(IDecoder teacher, int bos, int? eos, int documents, int maxTokens, int seed,
        int threads = 0, Action<int>? progress = null)
    {
        if (documents <= 0) throw MspgtException.ForSetting("teacher_docs", $"must be ≥ 1, got {documents}");
        if (maxTokens < 2) throw MspgtException.ForSetting("teacher_doc_tokens", $"must be ≥ 2, got {maxTokens}");
        var stop = StopTokens.Of(bos, eos);
        var docs = new int[documents][];
        int done = 0;
        var options = Mspgt.Numerics.Parallelism.OptionsFor(threads);
        Parallel.For(0, documents, options, i =>
        {
            var gen = Generator.Generate(teacher, [bos], Math.Min(maxTokens, teacher.Config.MaxSeq) - 1,
                new SamplingOptions(1f, 0, 1f, seed + i), stop);
            docs[i] = [bos, .. gen];
            int n = Interlocked.Increment(ref done);
            progress?.Invoke(n);
        });
        return docs.ToList();
    }

    private const string DocumentsMagic = "MSPGTDOC";

    /// <summary>Saves documents with a key (what produced them) so a later run can reuse them only if the key matches.</summary>
    public static void SaveDocuments(string path, IReadOnlyList<int[]> docs, string key)
    {
        AtomicFile.Write(path, s =>
        {
            using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
            w.Write(Encoding.ASCII.GetBytes(DocumentsMagic));
            w.Write(1); // version
            w.Write(key);
            w.Write(docs.Count);
            foreach (var d in docs)
            {
                w.Write(d.Length);
                foreach (int id in d) w.Write(id);
            }
        });
    }

    /// <summary>The saved documents, or null when the file does not exist. A different key is an error (the cache
    /// belongs to another corpus).</summary>
    public static List<int[]>? LoadDocuments(string path, string key)
    {
        if (!File.Exists(path)) return null;
        RegularFile.Require(path);
        try
        {
            using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (Encoding.ASCII.GetString(r.ReadBytes(8)) != DocumentsMagic || r.ReadInt32() != 1)
                throw new MspgtException(path, "not an mspgt document cache (bad magic or version)");
            string stored = r.ReadString();
            if (stored != key)
                throw new MspgtException(path, $"cached corpus was made with different settings ({stored}); expected ({key}); use another output folder or delete the file");
            int n = r.ReadInt32();
            var docs = new List<int[]>(n);
            for (int i = 0; i < n; i++)
            {
                int len = r.ReadInt32();
                if (len < 0 || len > 1 << 26) throw new MspgtException(path, $"document {i} has an invalid length {len}");
                var d = new int[len];
                for (int j = 0; j < len; j++) d[j] = r.ReadInt32();
                docs.Add(d);
            }
            return docs;
        }
        catch (EndOfStreamException) { throw new MspgtException(path, "truncated document cache"); }
    }
}
