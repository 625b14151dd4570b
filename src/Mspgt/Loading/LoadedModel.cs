using Mspgt.Checkpoints;
using Mspgt.Models;
using Mspgt.Tokenization;

namespace Mspgt.Loading;

/// <summary>A model opened from any supported format: config + weights (memory-mapped) + what inspect shows.</summary>
public sealed class LoadedModel : IDisposable
{
    public required ModelConfig Config { get; init; }
    public required ModelWeights Weights { get; init; }
    /// <summary>The path the user gave (folder or file).</summary>
    public required string Path { get; init; }
    /// <summary>Format with version, e.g. "gguf v3", "safetensors", "llama2.c v0".</summary>
    public required string Format { get; init; }
    public required IReadOnlyList<TensorEntry> Tensors { get; init; }
    /// <summary>Extra facts for inspect (file type, quantization version, dtype, tokenizer model, ...).</summary>
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();
    /// <summary>The model's own tokenizer when the format embeds one or one lies beside it; null otherwise.</summary>
    public ITokenizer? Tokenizer { get; set; }
    /// <summary>Why the model's own tokenizer could not be read, when it could not (reported if text is needed).</summary>
    public string? TokenizerError { get; set; }
    /// <summary>The files whose bytes define the weights (hashed for run manifests).</summary>
    public IReadOnlyList<string> WeightFiles { get; init; } = [];
    /// <summary>Mapped files and other resources that must outlive the weights.</summary>
    public List<IDisposable> Owned { get; init; } = [];

    private IDecoder? _decoder;
    private Func<IDecoder>? _deferred;

    /// <summary>
    /// The forward pass every command runs: the CPU <see cref="Transformer"/> unless <see cref="UseDevice"/> put the
    /// model on a GPU. One per model, so weights are uploaded once however many steps use it.
    /// </summary>
    public IDecoder Decoder
    {
        get
        {
            if (Volatile.Read(ref _decoder) is { } d) return d;
            lock (Owned)
            {
                if (_decoder == null && _deferred is { } open) { _deferred = null; Use(open()); }
                return _decoder ??= new Transformer(Config, Weights);
            }
        }
    }

    /// <summary>Where <see cref="Decoder"/> runs ("cpu", "cuda:0 (…)"), for manifests.</summary>
    public string Device => Decoder.Device;

    /// <summary>
    /// Puts the forward pass on <paramref name="spec"/> (see <see cref="Models.Gpu.DeviceChoice.Open"/>); a note for
    /// stderr when <c>auto</c> falls back to the CPU. <paramref name="deferred"/>: open the device when the forward
    /// pass is first needed (a study whose model is cached never touches it), not now.
    /// </summary>
    public void UseDevice(Models.Gpu.DeviceSpec spec, Models.Gpu.ComputeType? dtype = null, Action<string>? note = null, bool deferred = false)
    {
        IDecoder Open() => Models.Gpu.DeviceChoice.Open(Config, Weights, spec, dtype, note);
        if (deferred) _deferred = Open;
        else Use(Open());
    }

    private void Use(IDecoder decoder)
    {
        if (_decoder is IDisposable old) { old.Dispose(); Owned.Remove(old); }
        _decoder = decoder;
        if (decoder is IDisposable d) Owned.Insert(0, d);
    }

    /// <summary>
    /// Lets the weight files' pages go from the process's resident set while keeping the model usable (see
    /// <see cref="MappedFile.DropResidentPages"/>): the next forward pass reads them back from the page cache.
    /// </summary>
    public void DropResidentWeights()
    {
        foreach (var o in Owned)
            switch (o)
            {
                case MappedFile f: f.DropResidentPages(); break;
                case GgufFile g: g.DropResidentPages(); break;
                case SafetensorsReader st: st.DropResidentPages(); break;
            }
    }

    public void Dispose()
    {
        foreach (var d in Owned) d.Dispose();
        Owned.Clear();
    }
}
