namespace Mspgt.Checkpoints;

/// <summary>Opens a llama.cpp GGUF file (v1-v3) as a model. (Being implemented.)</summary>
public static class GgufModelLoader
{
    public static LoadedModel Load(string path) =>
        throw new MspgtException(path, "GGUF loading is not implemented yet");
}
