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

    /// <summary>Whether this vocabulary's convention puts BOS before a text prompt (llama2.c and SentencePiece
    /// Llama vocabularies: yes; Qwen's byte-level BPE: no; GGUF: tokenizer.ggml.add_bos_token).</summary>
    bool AddsBosByDefault { get; }

    /// <summary>Token ids for text; BOS first when addBos and the vocabulary has one. Special tokens written
    /// literally in the text (e.g. &lt;|im_start|&gt;) map to their ids where the format defines them.</summary>
    int[] Encode(string text, bool addBos);

    /// <summary>Text for ids; byte-fallback and byte-level pieces are joined into UTF-8 before decoding.</summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The vocabulary entry for one id, as stored (for `tokenize --json` "tokens").</summary>
    string TokenText(int id);
}
