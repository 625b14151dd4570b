using System.Text;

namespace Mspgt.Tokenization;

/// <summary>A text normalizer step of a tokenizer.json pipeline, applied to each run of text between added tokens.</summary>
public abstract record TextNormalizer
{
    public abstract string Apply(string text);
}

public sealed record UnicodeNormalizer(UnicodeForm Form) : TextNormalizer
{
    public override string Apply(string text) => UnicodeNormalization.Normalize(text, Form);
}

/// <summary>Prepends a string to non-empty text (Llama 2's "▁" dummy prefix).</summary>
public sealed record PrependNormalizer(string Prefix) : TextNormalizer
{
    public override string Apply(string text) => text.Length == 0 ? text : Prefix + text;
}

/// <summary>Replaces every match of a pattern (a literal string or a regex) by Content.</summary>
public sealed record ReplaceNormalizer(SplitPattern Pattern, string Content) : TextNormalizer
{
    public override string Apply(string text)
    {
        var matches = new List<(int Start, int Length)>();
        Pattern.FindMatches(text, matches);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int prev = 0;
        foreach (var (start, length) in matches)
        {
            sb.Append(text, prev, start - prev).Append(Content);
            prev = start + length;
        }
        return sb.Append(text, prev, text.Length - prev).ToString();
    }
}

public sealed record LowercaseNormalizer : TextNormalizer
{
    public override string Apply(string text) => text.ToLowerInvariant();
}

public sealed record StripNormalizer(bool Left, bool Right) : TextNormalizer
{
    public override string Apply(string text) => Left && Right ? text.Trim() : Left ? text.TrimStart() : Right ? text.TrimEnd() : text;
}

/// <summary>A pre-tokenizer step: splits each current word into smaller words.</summary>
public abstract record PreTokenizerStep
{
    /// <param name="words">The words so far, replaced in place by the step's output.</param>
    /// <param name="atTextStart">Whether the first word begins the whole input text (for "first" prepend schemes).</param>
    public abstract void Apply(List<string> words, bool atTextStart);
}

public sealed record SplitStep(SplitPattern Pattern, SplitBehavior Behavior, bool Invert) : PreTokenizerStep
{
    public override void Apply(List<string> words, bool atTextStart)
    {
        var output = new List<string>(words.Count * 4);
        foreach (var w in words) Pattern.Split(w, Behavior, Invert, output);
        words.Clear();
        words.AddRange(output);
    }
}

/// <summary>GPT-2 byte-level step: optional prefix space and GPT-2 regex split; the words are then byte-level encoded
/// (the BPE model works on their UTF-8 bytes). Must be the last pre-tokenizer step.</summary>
public sealed record ByteLevelStep(bool AddPrefixSpace, bool UseRegex) : PreTokenizerStep
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly Lazy<SplitPattern> Gpt2 = new(() => new SplitPattern(Gpt2Pattern, "ByteLevel"));

    public override void Apply(List<string> words, bool atTextStart)
    {
        if (!AddPrefixSpace && !UseRegex) return;
        var output = new List<string>(words.Count * 4);
        foreach (var w in words)
        {
            string s = AddPrefixSpace && !w.StartsWith(' ') ? " " + w : w;
            if (UseRegex) Gpt2.Value.Split(s, SplitBehavior.Isolated, false, output);
            else output.Add(s);
        }
        words.Clear();
        words.AddRange(output);
    }
}

public enum PrependScheme { Always, First, Never }

/// <summary>SentencePiece's Metaspace: spaces become Replacement, a Replacement is prepended, optional split before each.</summary>
public sealed record MetaspaceStep(char Replacement, PrependScheme Prepend, bool SplitWords) : PreTokenizerStep
{
    public override void Apply(List<string> words, bool atTextStart)
    {
        var output = new List<string>(words.Count * 4);
        var splitter = SplitPattern.Literal(Replacement.ToString(), "Metaspace");
        for (int i = 0; i < words.Count; i++)
        {
            string s = words[i].Replace(' ', Replacement);
            bool prepend = Prepend == PrependScheme.Always || Prepend == PrependScheme.First && atTextStart && i == 0;
            if (prepend && !s.StartsWith(Replacement)) s = Replacement + s;
            if (SplitWords) splitter.Split(s, SplitBehavior.MergedWithNext, false, output);
            else output.Add(s);
        }
        words.Clear();
        words.AddRange(output);
    }
}

public sealed record DigitsStep(bool IndividualDigits) : PreTokenizerStep
{
    private static readonly Lazy<SplitPattern> Digit = new(() => new SplitPattern(@"\p{N}", "Digits"));

    public override void Apply(List<string> words, bool atTextStart)
    {
        var output = new List<string>(words.Count * 2);
        var behavior = IndividualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous;
        foreach (var w in words) Digit.Value.Split(w, behavior, false, output);
        words.Clear();
        words.AddRange(output);
    }
}

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
