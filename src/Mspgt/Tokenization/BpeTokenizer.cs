using System.Text;

namespace Mspgt.Tokenization;

/// <summary>The BPE model of a tokenizer.json (or of a GGUF "gpt2" vocabulary): vocabulary plus ranked merges.</summary>
/// <param name="Tokens">Token texts by id (added tokens included; "" for ids that have none).</param>
/// <param name="Merges">Merge pairs of token texts, rank = index.</param>
/// <param name="ByteFallback">Characters missing from the vocabulary become &lt;0xXX&gt; byte tokens.</param>
/// <param name="UnkId">The unknown token, used when neither the character nor byte fallback is available.</param>
/// <param name="FuseUnk">Consecutive unknown tokens become one.</param>
/// <param name="IgnoreMerges">A word that is itself a vocabulary entry is emitted whole (Llama 3).</param>
public sealed record BpeModel(string[] Tokens, IReadOnlyList<(string Left, string Right)> Merges, bool ByteFallback = false,
    int? UnkId = null, bool FuseUnk = false, bool IgnoreMerges = false);

/// <summary>
/// Byte-pair encoding by merge rank, as Hugging Face tokenizers' BPE model and llama.cpp's llm_tokenizer_bpe:
/// literal (added / special) tokens are cut out first, each remaining run of text is normalized and pre-tokenized
/// into words, and each word's symbols (UTF-8 bytes in byte-level mode, else code points with optional byte
/// fallback) are merged lowest rank first, leftmost first on ties. Covers Llama 3 / Qwen2 / Qwen3 byte-level BPE
/// and Llama 2 / TinyLlama SentencePiece-style BPE in tokenizer.json, and GGUF "gpt2" vocabularies.
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    private readonly Vocabulary _vocab;
    private readonly Dictionary<long, long> _merges; // (left id, right id) → (rank, merged id)
    private readonly BpeModel _model;
    private readonly IReadOnlyList<TextNormalizer> _normalizers;
    private readonly IReadOnlyList<PreTokenizerStep> _preTokenizers;
    private readonly IReadOnlyList<TokenDecoder> _decoders;
    private readonly LiteralTokenMatcher _literals;
    private readonly bool _byteLevel;
    private readonly int[] _byteLevelIds = new int[256]; // id of each byte's byte-level character
    private readonly int[] _fallbackIds;                 // id of each <0xXX> token

    public string Description { get; }
    public int VocabSize => _vocab.Count;
    public int? BosId { get; }
    public int? EosId { get; }
    public bool AddBosByDefault { get; }

    public BpeTokenizer(BpeModel model, IReadOnlyList<TextNormalizer> normalizers, IReadOnlyList<PreTokenizerStep> preTokenizers,
        IReadOnlyList<TokenDecoder> decoders, IEnumerable<LiteralToken> literalTokens, int? bosId, int? eosId,
        bool addBosByDefault, string description)
    {
        Description = description;
        _model = model with { Merges = [] }; // the merges live on in _merges; the strings need not (15 MB at 150k)
        _vocab = new Vocabulary(model.Tokens);
        _normalizers = normalizers;
        _preTokenizers = preTokenizers;
        _decoders = decoders;
        _literals = new LiteralTokenMatcher(literalTokens);
        BosId = bosId;
        EosId = eosId;
        AddBosByDefault = addBosByDefault;
        for (int i = 0; i < preTokenizers.Count; i++)
            if (preTokenizers[i] is ByteLevelStep)
            {
                if (i != preTokenizers.Count - 1)
                    throw new MspgtException(description, "a ByteLevel pre-tokenizer followed by other pre-tokenizers is not supported");
                _byteLevel = true;
            }
        for (int b = 0; b < 256; b++)
            _byteLevelIds[b] = _vocab.TryGetId([ByteLevelMap.ByteToChar((byte)b)], out int id) ? id : -1;
        _fallbackIds = _vocab.ByteTokenIds();

        _merges = new Dictionary<long, long>(model.Merges.Count);
        char[] joined = new char[64];
        for (int rank = 0; rank < model.Merges.Count; rank++)
        {
            var (left, right) = model.Merges[rank];
            if (joined.Length < left.Length + right.Length) joined = new char[2 * (left.Length + right.Length)];
            left.CopyTo(joined);
            right.CopyTo(joined.AsSpan(left.Length));
            if (!_vocab.TryGetId(left, out int a) || !_vocab.TryGetId(right, out int b)
                || !_vocab.TryGetId(joined.AsSpan(0, left.Length + right.Length), out int ab))
                throw new MspgtException(description, $"merge {rank} (\"{left}\" \"{right}\") uses a token that is not in the vocabulary");
            _merges.TryAdd(Key(a, b), ((long)rank << 32) | (uint)ab); // the first (lowest-rank) entry of a pair wins
        }
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    public int[] Encode(string text, bool addBos)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos && BosId is int bos) ids.Add(bos);
        var words = new List<string>();
        foreach (var seg in _literals.Split(text))
        {
            if (seg.IsToken) { ids.Add(seg.TokenId); continue; }
            string piece = text.Substring(seg.Start, seg.Length);
            foreach (var n in _normalizers) piece = n.Apply(piece);
            words.Clear();
            if (piece.Length == 0) continue;
            words.Add(piece);
            foreach (var p in _preTokenizers) p.Apply(words, seg.Start == 0);
            foreach (var w in words) EncodeWord(w, ids);
        }
        return ids.ToArray();
    }

    // Words repeat in natural text; their ids are cached (cleared when large, so memory stays bounded).
    private const int CacheLimit = 200_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _wordCache = new(StringComparer.Ordinal);

    private void EncodeWord(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (_wordCache.TryGetValue(word, out var cached)) { output.AddRange(cached); return; }
        int mark = output.Count;
        EncodeWordUncached(word, output);
        if (word.Length <= 64)
        {
            if (_wordCache.Count >= CacheLimit) _wordCache.Clear();
            _wordCache.TryAdd(word, output.GetRange(mark, output.Count - mark).ToArray());
        }
    }

    private void EncodeWordUncached(string word, List<int> output)
    {
        var symbols = new List<int>(word.Length + 4);
        if (_byteLevel)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(word);
            if (_model.IgnoreMerges && _vocab.TryGetId(ByteLevelMap.Encode(bytes), out int whole)) { output.Add(whole); return; }
            foreach (byte b in bytes)
            {
                if (_byteLevelIds[b] >= 0) symbols.Add(_byteLevelIds[b]);
                else AddUnknown(symbols, $"byte 0x{b:X2}");
            }
        }
        else
        {
            if (_model.IgnoreMerges && _vocab.TryGetId(word, out int whole)) { output.Add(whole); return; }
            Span<byte> utf8 = stackalloc byte[4];
            for (int i = 0; i < word.Length;)
            {
                int width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
                var ch = word.AsSpan(i, width);
                i += width;
                if (_vocab.TryGetId(ch, out int id)) { symbols.Add(id); continue; }
                if (_model.ByteFallback)
                {
                    int n = Encoding.UTF8.GetBytes(ch, utf8);
                    bool all = true;
                    for (int k = 0; k < n; k++) all &= _fallbackIds[utf8[k]] >= 0;
                    if (all)
                    {
                        for (int k = 0; k < n; k++) symbols.Add(_fallbackIds[utf8[k]]);
                        continue;
                    }
                }
                AddUnknown(symbols, $"character U+{char.ConvertToUtf32(ch.ToString(), 0):X4}");
            }
        }
        MergeByRank(symbols);
        output.AddRange(symbols);
    }

    private void AddUnknown(List<int> symbols, string what)
    {
        if (_model.UnkId is not int unk)
            throw new MspgtException(Description, $"{what} is not in the vocabulary and the tokenizer has no unknown token");
        // fused unknowns never merge further: a merge of <unk> pairs would need an <unk><unk> entry
        if (_model.FuseUnk && symbols.Count > 0 && symbols[^1] == unk) return;
        symbols.Add(unk);
    }

    private readonly record struct Candidate(int Left, int Right, int LeftId, int RightId, int MergedId);

    /// <summary>Merges symbols in place, lowest rank first, leftmost first among equal ranks.</summary>
    private void MergeByRank(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2) return;
        if (n <= 24) { MergeByRankScan(symbols); return; }
        var id = symbols.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }
        var queue = new PriorityQueue<Candidate, long>();
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            if (_merges.TryGetValue(Key(id[left], id[right]), out long v))
                queue.Enqueue(new Candidate(left, right, id[left], id[right], (int)(uint)v), (v & ~0xFFFFFFFFL) | (uint)left);
        }
        for (int i = 0; i + 1 < n; i++) TryAdd(i, i + 1);
        while (queue.TryDequeue(out var c, out _))
        {
            if (!alive[c.Left] || !alive[c.Right] || next[c.Left] != c.Right || id[c.Left] != c.LeftId || id[c.Right] != c.RightId) continue;
            id[c.Left] = c.MergedId;
            alive[c.Right] = false;
            next[c.Left] = next[c.Right];
            if (next[c.Right] >= 0) prev[next[c.Right]] = c.Left;
            TryAdd(prev[c.Left], c.Left);
            TryAdd(c.Left, next[c.Left]);
        }
        symbols.Clear();
        for (int i = 0; i >= 0; i = next[i]) symbols.Add(id[i]);
    }

    /// <summary>The same merge order by repeated scans (O(n²), no allocation): faster for the short words of
    /// pre-tokenized text.</summary>
    private void MergeByRankScan(List<int> symbols)
    {
        Span<int> id = stackalloc int[symbols.Count];
        for (int i = 0; i < id.Length; i++) id[i] = symbols[i];
        int count = id.Length;
        while (count > 1)
        {
            long best = long.MaxValue;
            int at = -1;
            for (int i = 0; i + 1 < count; i++)
                if (_merges.TryGetValue(Key(id[i], id[i + 1]), out long v) && v < best) { best = v; at = i; }
            if (at < 0) break;
            id[at] = (int)(uint)best;
            id.Slice(at + 2, count - at - 2).CopyTo(id[(at + 1)..]);
            count--;
        }
        symbols.Clear();
        for (int i = 0; i < count; i++) symbols.Add(id[i]);
    }

    /// <summary>Runs the tokenizer's decoders over the token texts; a leading BOS prints nothing; other special
    /// tokens print as written (so Decode(Encode(text)) == text).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var tokens = new List<string>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            _vocab.Check(ids[i]);
            if (i == 0 && BosId == ids[i]) continue;
            tokens.Add(_vocab[ids[i]]);
        }
        if (_decoders.Count == 0) return string.Join(' ', tokens); // Hugging Face's behaviour without a decoder
        foreach (var d in _decoders) tokens = d.Apply(tokens);
        return string.Concat(tokens);
    }

    public string TokenText(int id) => _vocab.Text(id);
}
