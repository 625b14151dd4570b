using Mspgt.Loading;
using Mspgt.Checkpoints;
using Mspgt.Interventions;
using Mspgt.Models;
using Mspgt.Tokenization;
using Mspgt.Corpora;

namespace Mspgt.Experiments;

/// <summary>
/// One intervention run on a loaded model, as `mspgt intervene` and a study's intervention step both make it: the
/// settings checked against the model, the documents, the experiment, and the record of the inputs for the
/// manifest. <see cref="Prepare(LoadedModel, InterventionSettings, CorpusSource)"/> does every check and reads a
/// corpus file at once, so a bad input is an error before any work starts; sampled documents are drawn by
/// <see cref="Run"/>, which reports their progress.
/// </summary>
public sealed class InterventionRun
{
    private readonly LoadedModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly IDecoder _transformer;
    private readonly InterventionSettings _settings;
    private readonly CorpusSource? _source;
    private readonly Corpus? _corpus;

    /// <summary>The most documents the run uses (the first ones of the corpus); null: all.</summary>
    public int? Documents { get; }

    /// <summary>True when the documents are sampled from the model by <see cref="Run"/> (no corpus file given).</summary>
    public bool SamplesCorpus => _corpus is null;

    private InterventionRun(LoadedModel model, ITokenizer tokenizer, InterventionSettings settings, CorpusSource? source, Corpus? corpus, int? documents)
    {
        _model = model;
        _tokenizer = tokenizer;
        _transformer = model.Decoder;
        _settings = settings;
        _source = source;
        _corpus = corpus;
        Documents = documents;
    }

    /// <summary>A run over <paramref name="corpus"/>: its file (the first <see cref="CorpusSource.Documents"/>
    /// documents), or that many documents sampled from the model.</summary>
    public static InterventionRun Prepare(LoadedModel model, InterventionSettings settings, CorpusSource corpus)
    {
        if (corpus.Documents < 2) throw MspgtException.ForSetting("documents", $"must be ≥ 2, got {corpus.Documents}");
        if (corpus.MaxTokens < 2) throw MspgtException.ForSetting("max_tokens", $"must be ≥ 2, got {corpus.MaxTokens}");
        var tok = ModelPrompts.TokenizerOf(model);
        if (corpus.MaxTokens > model.Config.MaxSeq)
            throw MspgtException.ForSetting("max_tokens", $"{corpus.MaxTokens} is longer than the model's context of {model.Config.MaxSeq}");
        settings.Validate(model.Config.Layers, model.Config.MaxSeq);
        // A corpus file is read now, before any progress output, so that a bad file is still a one-line error.
        var file = corpus.IsSampled ? null : Corpus.FromFile(corpus.Path!, tok, corpus.MaxTokens);
        return new InterventionRun(model, tok, settings, corpus, file, corpus.Documents);
    }

    /// <summary>A run over documents already read (a study's analysis corpus): the first <paramref name="documents"/>, or all.</summary>
    public static InterventionRun Prepare(LoadedModel model, InterventionSettings settings, Corpus corpus, int? documents = null)
    {
        if (documents is < 2) throw MspgtException.ForSetting("documents", $"must be ≥ 2, got {documents}");
        var tok = ModelPrompts.TokenizerOf(model);
        settings.Validate(model.Config.Layers, model.Config.MaxSeq);
        return new InterventionRun(model, tok, settings, null, corpus, documents);
    }

    /// <param name="sampled">Documents sampled so far, while sampling the corpus.</param>
    /// <param name="progress">(done, total, what is running) after each step of the experiment.</param>
    /// <param name="name">The model's name in the tables (default: the file or folder name).</param>
    public InterventionResult Run(Action<int>? sampled = null, Action<int, int, string>? progress = null, string? name = null)
    {
        var corpus = _corpus ?? _source!.Open(_transformer, _tokenizer, sampled);
        var documents = corpus.Documents.Take(Documents ?? int.MaxValue).ToList();
        var inputs = new InterventionInputs(name ?? Analysis.ModelName(_model.Path), _model.Path, ModelHash.Of(_model),
            _tokenizer.Description, corpus.Description, corpus.Sha256, _transformer.Device);
        return InterventionExperiment.Run(_transformer, _tokenizer, documents, _settings, inputs, progress);
    }
}
