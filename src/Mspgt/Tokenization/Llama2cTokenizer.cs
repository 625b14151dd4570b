using Mspgt.Files;
using System.Buffers.Binary;
using System.Text;

namespace Mspgt.Tokenization;

/// <summary>
/// A llama2.c vocabulary file (e.g. tok512.bin): int32 max_token_length, then per token float32 score, int32 byte
/// length, UTF-8 bytes. Encodes and decodes exactly as llama2.c's run.c: a space is prepended to non-empty text,
/// each code point is looked up (unknown → byte tokens id = byte + 3), then the adjacent pair whose joined text is
/// in the vocabulary with the highest score is merged until none is; BOS is id 1 and EOS id 2, as run.c fixes them.
/// </summary>
public sealed class Llama2cTokenizer : ITokenizer
{
    private const int RunCBos = 1, RunCEos = 2, ByteTokenOffset = 3;
    private readonly Vocabulary _vocab;
    private readonly float[] _scores;

    public string Description { get; }
    public int VocabSize => _vocab.Count;
    public int? BosId => RunCBos;
    public int? EosId => RunCEos;
    public bool AddBosByDefault => true;
    public int MaxTokenLength { get; }

    public Llama2cTokenizer(string[] tokens, float[] scores, int maxTokenLength, string description)
    {
        if (tokens.Length != scores.Length) throw new ArgumentException("tokens and scores differ in length");
        if (tokens.Length < ByteTokenOffset + 256)
            throw new MspgtException(description, $"a llama2.c vocabulary needs at least {ByteTokenOffset + 256} tokens (<unk>, <s>, </s>, 256 bytes), found {tokens.Length}");
        _vocab = new Vocabulary(tokens);
        _scores = scores;
        MaxTokenLength = maxTokenLength;
        Description = description;
    }

    /// <summary>Reads a llama2.c tokenizer .bin file; the token count is whatever the file holds.</summary>
    public static Llama2cTokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "file not found");
        RegularFile.Require(path);
        return Parse(File.ReadAllBytes(path), path) ??
            throw new MspgtException(path, "not a llama2.c vocabulary (int32 max_token_length, then score, length, bytes per token)");
    }

    /// <summary>Parses llama2.c vocabulary bytes; null when the bytes are not one.</summary>
    internal static Llama2cTokenizer? Parse(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length < 4) return null;
        int maxLen = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxLen <= 0 || maxLen > 1 << 16) return null;
        var tokens = new List<string>();
        var scores = new List<float>();
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        int p = 4;
        while (p < data.Length)
        {
            if (data.Length - p < 8) return null;
            float score = BinaryPrimitives.ReadSingleLittleEndian(data[p..]);
            int len = BinaryPrimitives.ReadInt32LittleEndian(data[(p + 4)..]);
            p += 8;
            if (float.IsNaN(score) || len < 0 || len > data.Length - p) return null;
            try { tokens.Add(utf8.GetString(data.Slice(p, len))); }
            catch (DecoderFallbackException) { return null; }
            scores.Add(score);
            p += len;
        }
        if (tokens.Count < ByteTokenOffset + 256) return null;
        // run.c encodes byte b as token b + 3 and decodes any "<0x..>" piece with sscanf: the two must agree
        for (int b = 0; b < 256; b++)
            if (tokens[ByteTokenOffset + b] != Vocabulary.ByteTokenText((byte)b))
                throw new MspgtException(source,
                    $"token {ByteTokenOffset + b} should be the byte token {Vocabulary.ByteTokenText((byte)b)} (run.c encodes byte b as token b + 3)");
        Vocabulary.RequireExactByteTokens(tokens, source, bySpelling: true);
        return new Llama2cTokenizer(tokens.ToArray(), scores.ToArray(), maxLen,
            $"llama2.c {Path.GetFileName(source)} ({tokens.Count} tokens)");
    }

    public int[] Encode(string text, bool addBos)
    {
        var ids = new List<int>(text.Length / 2 + 2);
        if (addBos) ids.Add(RunCBos);
        if (text.Length == 0) return ids.ToArray();

        // Initial symbols as run.c makes them: the " " token, then one token per code point or its byte tokens.
        // The merge step joins the symbols' vocabulary texts, so the buffer holds exactly those texts.
        var buffer = new StringBuilder(text.Length * 2);
        var starts = new List<int>(text.Length + 1);
        AppendSymbol(" ", buffer, starts);
        Span<byte> bytes = stackalloc byte[4];
        for (int i = 0; i < text.Length;)
        {
            int width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var ch = text.AsSpan(i, width);
            if (_vocab.TryGetId(ch, out _)) { starts.Add(buffer.Length); buffer.Append(ch); }
            else
            {
                int n = Encoding.UTF8.GetBytes(ch, bytes);
                for (int b = 0; b < n; b++) { starts.Add(buffer.Length); buffer.Append(_vocab[bytes[b] + ByteTokenOffset]); }
            }
            i += width;
        }
        string joined = buffer.ToString();
        foreach (var (start, length) in ScoreMerge.Run(joined, starts, _vocab, _scores))
        {
            if (!_vocab.TryGetId(joined.AsSpan(start, length), out int id))
                throw new InvalidOperationException("merged symbol missing from the vocabulary"); // cannot happen: every symbol is a vocabulary text
            ids.Add(id);
        }
        return ids.ToArray();
    }

    private void AppendSymbol(string piece, StringBuilder buffer, List<int> starts)
    {
        if (_vocab.TryGetId(piece, out _)) { starts.Add(buffer.Length); buffer.Append(piece); return; }
        foreach (byte b in Encoding.UTF8.GetBytes(piece)) { starts.Add(buffer.Length); buffer.Append(_vocab[b + ByteTokenOffset]); }
    }

    /// <summary>As run.c's decode: byte tokens &lt;0xXX&gt; become raw bytes, a space after BOS is dropped; a
    /// leading BOS itself prints nothing (run.c never prints the prompt's BOS).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        int prev = -1;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            CheckId(id);
            if (i == 0 && id == RunCBos) { prev = id; continue; }
            string piece = _vocab[id];
            if (prev == RunCBos && piece.StartsWith(' ')) piece = piece[1..];
            int b = Vocabulary.ParseByteToken(piece);
            if (b >= 0) bytes.Add((byte)b);
            else bytes.AddRange(Encoding.UTF8.GetBytes(piece));
            prev = id;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string TokenText(int id)
    {
        CheckId(id);
        return _vocab[id];
    }

    /// <summary>The vocabulary as stored (text, score) for building an equivalent GGUF-style vocabulary.</summary>
    public (string Text, float Score) Entry(int id)
    {
        CheckId(id);
        return (_vocab[id], _scores[id]);
    }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)_vocab.Count)
            throw new MspgtException("token id", $"{id} is outside the vocabulary (0..{_vocab.Count - 1})");
    }
}
