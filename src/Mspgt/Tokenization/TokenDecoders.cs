using System.Text;

namespace Mspgt.Tokenization;

/// <summary>A decoder step: turns the list of token texts into (fewer) strings.</summary>
public abstract record TokenDecoder
{
    public abstract List<string> Apply(List<string> tokens);
}

/// <summary>Byte-level tokens back to UTF-8 (a token with a character outside the byte map is taken as its own
/// UTF-8, as Hugging Face does for added tokens); invalid UTF-8 becomes U+FFFD.</summary>
public sealed record ByteLevelDecoder : TokenDecoder
{
    public override List<string> Apply(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var t in tokens)
        {
            int mark = bytes.Count;
            bool mapped = true;
            foreach (char c in t)
            {
                if (!ByteLevelMap.TryCharToByte(c, out byte b)) { mapped = false; break; }
                bytes.Add(b);
            }
            if (!mapped)
            {
                bytes.RemoveRange(mark, bytes.Count - mark);
                bytes.AddRange(Encoding.UTF8.GetBytes(t));
            }
        }
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

public sealed record ReplaceDecoder(string Pattern, string Content) : TokenDecoder
{
    public override List<string> Apply(List<string> tokens) => tokens.Select(t => t.Replace(Pattern, Content, StringComparison.Ordinal)).ToList();
}

/// <summary>Runs of &lt;0xXX&gt; tokens become their UTF-8 text, or one U+FFFD per byte when not valid UTF-8.</summary>
public sealed record ByteFallbackDecoder : TokenDecoder
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    public override List<string> Apply(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            try { output.Add(Strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { output.AddRange(Enumerable.Repeat("\uFFFD", pending.Count)); }
            pending.Clear();
        }
        foreach (var t in tokens)
        {
            int b = Vocabulary.ParseByteToken(t);
            if (b >= 0) { pending.Add((byte)b); continue; }
            Flush();
            output.Add(t);
        }
        Flush();
        return output;
    }
}

public sealed record FuseDecoder : TokenDecoder
{
    public override List<string> Apply(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to Start leading and Stop trailing Content characters from each token.</summary>
public sealed record StripDecoder(char Content, int Start, int Stop) : TokenDecoder
{
    public override List<string> Apply(List<string> tokens) => tokens.Select(t =>
    {
        int a = 0, b = t.Length;
        while (a < Start && a < b && t[a] == Content) a++;
        while (t.Length - b < Stop && b > a && t[b - 1] == Content) b--;
        return t[a..b];
    }).ToList();
}

public sealed record MetaspaceDecoder(char Replacement, PrependScheme Prepend) : TokenDecoder
{
    public override List<string> Apply(List<string> tokens) => tokens.Select((t, i) =>
    {
        string s = t.Replace(Replacement, ' ');
        return i == 0 && Prepend != PrependScheme.Never && s.StartsWith(' ') ? s[1..] : s;
    }).ToList();
}
