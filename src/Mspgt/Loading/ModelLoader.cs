using Mspgt.Files;
using Mspgt.Checkpoints;
using Mspgt.Tokenization;

namespace Mspgt.Loading;

/// <summary>
/// The one entry point for opening a model: a Hugging Face folder, a `.gguf` file or a llama2.c `.bin` file
/// (decided by content, not by extension). Also finds the model's tokenizer when none is given.
/// </summary>
public static class ModelLoader
{
    /// <param name="loadTokenizer">false skips looking for a tokenizer (weights-only work, e.g. ids given directly).</param>
    public static LoadedModel Load(string path, string? tokenizerPath = null, bool loadTokenizer = true)
    {
        if (string.IsNullOrWhiteSpace(path)) throw MspgtException.ForSetting("model", "no model path given");
        path = HubCache.Resolve(path);
        LoadedModel model;
        if (Directory.Exists(path)) model = HuggingFaceModelLoader.Load(path);
        else
        {
            RegularFile.Require(path);
            Span<byte> head = stackalloc byte[28];
            int n;
            using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n >= 4 && head[0] == (byte)'G' && head[1] == (byte)'G' && head[2] == (byte)'U' && head[3] == (byte)'F')
                model = GgufModelLoader.Load(path);
            else if (Path.GetFileName(path) == "config.json") model = HuggingFaceModelLoader.Load(Path.GetDirectoryName(Path.GetFullPath(path))!);
            else if (n == 28 && Llama2cReader.LooksLikeLlama2c(head)) model = Llama2cModelLoader.Load(path);
            else throw new MspgtException(path, "unrecognised model file: expected a GGUF file, a llama2.c .bin checkpoint or a Hugging Face folder");
        }
        try
        {
            if (tokenizerPath != null) model.Tokenizer = TokenizerLoader.Load(tokenizerPath);
            else if (loadTokenizer && model.Tokenizer == null)
            {
                // A GGUF file carries its own vocabulary; a folder or .bin may have one beside it. A vocabulary we
                // cannot read does not stop weight-only work (ids given directly): the error is kept for later.
                // A GGUF file's vocabulary is read from the metadata its loader already parsed, not from a second parse.
                var gguf = model.Owned.OfType<GgufFile>().FirstOrDefault();
                string? source = gguf != null ? path : FindTokenizerBeside(path);
                if (source != null)
                {
                    try { model.Tokenizer = gguf != null ? TokenizerLoader.FromGgufMetadata(gguf.Metadata, path) : TokenizerLoader.Load(source); }
                    catch (MspgtException e) { model.TokenizerError = e.ToErrorLine()["error: ".Length..]; }
                    // The tokenizer holds what it needs of these (the token strings it shares); nothing reads them again.
                    gguf?.Forget("tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.ggml.scores");
                }
            }
            // What loading left behind (metadata and tokenizer.json parses, the tokenizer's construction: tens of MB for
            // a 150k vocabulary) goes back to the operating system now, before the weights are paged in beside it.
            Mspgt.Numerics.Garbage.Release();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>tokenizer.json in a model folder, else a llama2.c vocab (tok512.bin, tokenizer.bin) beside the model.</summary>
    public static string? FindTokenizerBeside(string modelPath)
    {
        string dir = Directory.Exists(modelPath) ? modelPath : Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        foreach (var name in new[] { "tokenizer.json", "tok512.bin", "tokenizer.bin" })
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        var tok = Directory.Exists(dir) ? Directory.GetFiles(dir, "tok*.bin").OrderBy(s => s, StringComparer.Ordinal).FirstOrDefault() : null;
        return tok;
    }
}
