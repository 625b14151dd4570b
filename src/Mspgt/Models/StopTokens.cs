using Mspgt.Tokenization;

namespace Mspgt.Models;

/// <summary>
/// The ids that end a sampled text: EOS, and BOS (a model that emits BOS has started a new document). The
/// tokenizer's ids win; the model's config fills in what the tokenizer lacks. Generation, corpus sampling,
/// intervention continuations and teacher sampling all stop on this one set.
/// </summary>
public static class StopTokens
{
    public static int? BosOf(ModelConfig config, ITokenizer? tokenizer) => tokenizer?.BosId ?? config.BosId;

    public static int? EosOf(ModelConfig config, ITokenizer? tokenizer) => tokenizer?.EosId ?? config.EosId;

    public static HashSet<int> For(ModelConfig config, ITokenizer? tokenizer) => Of(BosOf(config, tokenizer), EosOf(config, tokenizer));

    public static HashSet<int> Of(int? bos, int? eos)
    {
        var stop = new HashSet<int>();
        if (eos is int e) stop.Add(e);
        if (bos is int b) stop.Add(b);
        return stop;
    }
}
