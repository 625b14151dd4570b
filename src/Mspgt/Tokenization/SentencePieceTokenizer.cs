using System.Text;

namespace Mspgt.Tokenization;

/// <summary>
/// A SentencePiece BPE vocabulary with scores and byte-fallback tokens, as GGUF files embed it
/// (tokenizer.ggml.model = "llama"). Encodes as llama.cpp's llm_tokenizer_spm: control / user-defined / unknown
/// tokens written in the text are matched literally first; each remaining fragment gets the dummy-prefix space
/// when it opens the text or follows such a token, spaces become '▁', code points are merged by score, and a
/// final symbol missing from the vocabulary becomes its &lt;0xXX&gt; byte tokens.
/// </summary>
public sealed class SentencePieceTokenizer : ITokenizer
{
    public const char SpaceSymbol = '\u2581'; // ▁
    private readonly Vocabulary _vocab;
    private readonly float[] _scores;
    private readonly int[] _byteIds;
    private readonly int? _unkId;
    private readonly bool _addSpacePrefix;
    private readonly LiteralTokenMatcher _literals;
    private readonly HashSet<int> _byteTokenIds;

    public string Description { get; }
    public int VocabSize => _vocab.Count;
    public int? BosId { get; }
    public int? EosId { get; }
    public bool AddBosByDefault { get; }

    /// <param name="tokens">Token texts by id ('▁' for spaces).</param>
    /// <param name="scores">Merge scores by id (higher merges first).</param>
    /// <param name="literalTokens">Tokens matched literally in text (control, user-defined, unknown).</param>
    public SentencePieceTokenizer(string[] tokens, float[] scores, IEnumerable<LiteralToken> literalTokens,
        int? bosId, int? eosId, int? unkId, bool addBosByDefault, bool addSpacePrefix, string description)
    {
        if (tokens.Length != scores.Length) throw new MspgtException(description, $"{tokens.Length} tokens but {scores.Length} scores");
        _vocab = new Vocabulary(tokens);
        _scores = scores;
        _byteIds = _vocab.ByteTokenIds();
        _byteTokenIds = _byteIds.Where(i => i >= 0).ToHashSet();
        _unkId = unkId;
        _addSpacePrefix = addSpacePrefix;
        _literals = new LiteralTokenMatcher(literalTokens);
        BosId = bosId;
        EosId = eosId;
        AddBosByDefault = addBosByDefault;
        Description = description;
    }

    public int[] Encode(string text, bool addBos)
    {
        var ids = new List<int>(text.Length / 2 + 2);
        if (addBos && BosId is int bos) ids.Add(bos);
        if (text.Length == 0) return ids.ToArray();
        bool prevIsToken = true; // the dummy prefix goes on the first fragment
        foreach (var seg in _literals.Split(text))
        {
            if (seg.IsToken) { ids.Add(seg.TokenId); prevIsToken = true; continue; }
            string fragment = text.Substring(seg.Start, seg.Length);
            if (_addSpacePrefix && prevIsToken) fragment = " " + fragment;
            EncodeFragment(fragment.Replace(' ', SpaceSymbol), ids);
            prevIsToken = false;
        }
        return ids.ToArray();
    }

    private void EncodeFragment(string text, List<int> ids)
    {
        var starts = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            starts.Add(i);
            i += char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
        }
        foreach (var (start, length) in ScoreMerge.Run(text, starts, _vocab, _scores))
        {
            var piece = text.AsSpan(start, length);
            if (_vocab.TryGetId(piece, out int id)) { ids.Add(id); continue; }
            // only single code points can be missing (merged symbols are vocabulary entries): byte fallback
            foreach (byte b in Encoding.UTF8.GetBytes(piece.ToString()))
            {
                if (_byteIds[b] >= 0) ids.Add(_byteIds[b]);
                else if (_unkId is int unk) ids.Add(unk);
                else throw new MspgtException(Description, $"byte 0x{b:X2} has no <0x{b:X2}> token and the vocabulary has no unknown token");
            }
        }
    }

    /// <summary>Byte tokens become raw bytes, '▁' a space; a leading BOS prints nothing and the dummy-prefix space
    /// of the first piece is dropped (as SentencePiece's decoder does), so Decode(Encode(text)) == text.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool first = true;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            _vocab.Check(id);
            if (i == 0 && BosId == id) continue;
            string piece = _vocab[id];
            if (_byteTokenIds.Contains(id)) { bytes.Add((byte)Vocabulary.ParseByteToken(piece)); first = false; continue; }
            piece = piece.Replace(SpaceSymbol, ' ');
            if (first && _addSpacePrefix && piece.StartsWith(' ')) piece = piece[1..];
            first = false;
            bytes.AddRange(Encoding.UTF8.GetBytes(piece));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string TokenText(int id) => _vocab.Text(id);
}
