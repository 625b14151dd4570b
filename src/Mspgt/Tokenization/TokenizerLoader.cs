namespace Mspgt.Tokenization;

/// <summary>Opens a tokenizer from a file: tokenizer.json, a llama2.c vocab (.bin) or a GGUF file's vocab. (Being implemented.)</summary>
public static class TokenizerLoader
{
    public static ITokenizer Load(string path) =>
        throw new MspgtException(path, "tokenizer loading is not implemented yet");
}
