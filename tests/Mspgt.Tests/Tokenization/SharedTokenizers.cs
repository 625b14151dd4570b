using Mspgt.Tokenization;

namespace Mspgt.Tests.Tokenization;

/// <summary>The real Qwen3 tokenizer, loaded once for all tests that only use it (loading parses 11 MB of JSON).</summary>
internal static class SharedTokenizers
{
    public static readonly Lazy<ITokenizer> Qwen3 = new(() => TokenizerLoader.Load(TestData.Path("tokenizers", "qwen3", "tokenizer.json")));
}
