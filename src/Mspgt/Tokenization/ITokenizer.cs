namespace Mspgt.Tokenization;

/// <summary>
/// Text ↔ token ids for one vocabulary. Implementations: llama2.c vocab files, GGUF-embedded vocabularies
/// (SentencePiece-style with byte fallback, byte-level BPE) and Hugging Face tokenizer.json.
/// </summary>
public interface ITokenizer
{
    /// <summary>Short description for `inspect` and manifests, e.g. "llama2.c tok512.bin (512 tokens)".</summary>
    string Description { get; }
    int VocabSize { get; }
    int? BosId { get; }
    int? EosId { get; }

    /// <summary>Whether the model's own pipeline puts BOS first (llama2.c: always; tokenizer.json: its
    /// post-processor or tokenizer_config.json add_bos_token; GGUF: tokenizer.ggml.add_bos_token). Qwen: false.</summary>
    bool AddBosByDefault { get; }

    /// <summary>Token ids for text; BOS first when addBos and the vocabulary has one. Special tokens written
    /// literally in the text (e.g. &lt;|im_start|&gt;) map to their ids where the format defines them.</summary>
    int[] Encode(string text, bool addBos);

    /// <summary>Text for ids; byte-fallback and byte-level pieces are joined into UTF-8 before decoding. A leading
    /// BOS and the dummy-prefix space print nothing; other special tokens print as written, so
    /// Decode(Encode(text, addBos)) == text (after the tokenizer's normalizer).</summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The vocabulary entry for one id, as stored (for `tokenize --json` "tokens").</summary>
    string TokenText(int id);
}
