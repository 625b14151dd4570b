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
