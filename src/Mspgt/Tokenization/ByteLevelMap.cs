namespace Mspgt.Tokenization;

/// <summary>
/// GPT-2's byte ↔ character table used by byte-level BPE: printable Latin-1 bytes map to themselves, the other
/// 68 bytes to U+0100.. in byte order, so every byte string becomes a printable string (space → 'Ġ', '\n' → 'Ċ').
/// </summary>
public static class ByteLevelMap
{
    private static readonly char[] ByteToCharTable = BuildTable();
    private static readonly Dictionary<char, byte> CharToByteTable =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToCharTable[b], b => (byte)b);

    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The one-character token of byte <paramref name="b"/> (0–255).</summary>
    public static string Token(int b) => ByteToCharTable[checked((byte)b)].ToString();

    public static bool TryCharToByte(char c, out byte b) => CharToByteTable.TryGetValue(c, out b);

    /// <summary>The byte-level spelling of a UTF-8 byte string (what the vocabulary stores).</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToCharTable[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildTable()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }
}
