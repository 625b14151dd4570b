namespace Mspgt.Tokenization;

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
