namespace Mspgt.Tokenization;

/// <summary>Id ↔ token text for one vocabulary, with span look-ups (no string allocation while merging).</summary>
public sealed class Vocabulary
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    /// <summary>Tokens by id; when a text occurs twice the lower id is the one text maps to.</summary>
    public Vocabulary(string[] tokens)
    {
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) _ids.TryAdd(tokens[i], i);
        _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _tokens.Length;

    public string this[int id] => _tokens[id];

    /// <summary>The entry for <paramref name="id"/>; an id outside the vocabulary is a user error.</summary>
    public string Text(int id)
    {
        Check(id);
        return _tokens[id];
    }

    public void Check(int id)
    {
        if ((uint)id >= (uint)_tokens.Length)
            throw new MspgtException("token id", $"{id} is outside the vocabulary (0..{_tokens.Length - 1})");
    }

    public bool TryGetId(ReadOnlySpan<char> text, out int id) => _spanIds.TryGetValue(text, out id);

    public int? Find(string text) => _ids.TryGetValue(text, out int id) ? id : null;

    /// <summary>Ids of the SentencePiece byte tokens &lt;0x00&gt;..&lt;0xFF&gt; (-1 where absent).</summary>
    public int[] ByteTokenIds()
    {
        var ids = new int[256];
        for (int b = 0; b < 256; b++) ids[b] = Find(ByteTokenText((byte)b)) ?? -1;
        return ids;
    }

    public static string ByteTokenText(byte b) => $"<0x{b:X2}>";

    /// <summary>The byte of a &lt;0xXX&gt; token, or -1.</summary>
    public static int ParseByteToken(string text)
    {
        if (text.Length != 6 || !text.StartsWith("<0x", StringComparison.Ordinal) || text[5] != '>') return -1;
        return byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b) ? b : -1;
    }
}
