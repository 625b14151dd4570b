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

    /// <summary>True when <paramref name="text"/> is spelled like a byte token, "&lt;0x" … "&gt;".</summary>
    public static bool ClaimsByte(string text) =>
        text.Length >= 4 && text.StartsWith("<0x", StringComparison.Ordinal) && text[^1] == '>';

    /// <summary>
    /// Refuses a token spelled like a byte token that is not exactly &lt;0xHH&gt; with two hex digits (&lt;0x-1&gt;,
    /// &lt;0xZZ&gt;, &lt;0x1&gt;, &lt;0x123&gt;): in a byte-fallback vocabulary such a token would be neither a byte
    /// nor plain text (llama.cpp and run.c parse it with strtol/sscanf, which take a sign and any length).
    /// <paramref name="isByteToken"/> marks tokens the file itself declares as bytes (GGUF token type 6): they must be
    /// exact whatever their spelling. <paramref name="bySpelling"/>: the vocabulary falls back to byte tokens, so a
    /// spelling alone makes a claim (a byte-level BPE vocabulary may hold "&lt;0x1&gt;" as plain text).
    /// </summary>
    public static void RequireExactByteTokens(IReadOnlyList<string> tokens, string source, bool bySpelling, Func<int, bool>? isByteToken = null)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            bool declared = isByteToken?.Invoke(i) == true;
            if ((declared || (bySpelling && ClaimsByte(tokens[i]))) && ParseByteToken(tokens[i]) < 0)
                throw new MspgtException(source,
                    $"token {i} \"{Shorten(tokens[i])}\" {(declared ? "is declared a byte token" : "is spelled like a byte token")} but is not <0xHH> with two hex digits");
        }
    }

    private static string Shorten(string s) => s.Length > 24 ? s[..24] + "..." : s;

    /// <summary>The byte of a &lt;0xXX&gt; token, or -1.</summary>
    public static int ParseByteToken(string text)
    {
        if (text.Length != 6 || !text.StartsWith("<0x", StringComparison.Ordinal) || text[5] != '>') return -1;
        // exactly two hex digits: byte.TryParse alone would also take a leading or trailing space
        if (!char.IsAsciiHexDigit(text[3]) || !char.IsAsciiHexDigit(text[4])) return -1;
        return byte.Parse(text.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
    }
}
