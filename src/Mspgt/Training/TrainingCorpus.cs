using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Tokenization;

namespace Mspgt.Training;

/// <summary>What a run trains on, named as `mspgt train`'s options and a zoo recipe's keys name it: a teacher model to
/// sample documents from (its tokenizer by default), or a corpus file with a tokenizer.</summary>
public sealed record TrainingDataSource
{
    public string? Teacher { get; init; }
    public int TeacherDocs { get; init; } = 2000;
    public int TeacherDocTokens { get; init; } = 256;
    public int TeacherSeed { get; init; } = 1;
    public string? Corpus { get; init; }
    public string? Tokenizer { get; init; }
}

/// <summary>A run's data with the tokenizer file and the vocabulary the students are built for.</summary>
public sealed record PreparedTrainingData(TrainingData Data, string TokenizerPath, int Vocab, int? Bos, int? Eos);

/// <summary>Builds a run's <see cref="TrainingData"/> from a corpus file or from a teacher model (sampled once and
/// cached, so a resumed run or a zoo's students reuse the same documents).</summary>
public static class TrainingCorpus
{
    /// <summary>Subfolder of a run's (or zoo's) output folder that caches a teacher's documents.</summary>
    public const string CacheFolder = "corpus";

    /// <summary>
    /// The data of `mspgt train` and of a zoo: a teacher's documents (sampled once into OUT/corpus, reused after), or
    /// a corpus file encoded with the given tokenizer. <paramref name="log"/> hears one line before sampling starts.
    /// </summary>
    /// <param name="sampled">Documents sampled so far (only when the teacher's documents are not cached yet).</param>
    public static PreparedTrainingData Prepare(TrainingDataSource source, string outDir, Action<string>? log = null,
        Action<int>? sampled = null, int threads = 0)
    {
        if ((source.Teacher == null) == (source.Corpus == null))
            throw MspgtException.ForSetting("corpus", "give exactly one of a corpus file and a teacher model");
        if (source.Teacher == null)
        {
            string tokPath = source.Tokenizer ?? throw MspgtException.ForSetting("tokenizer", "a corpus file needs a tokenizer");
            var tok = TokenizerLoader.Load(tokPath);
            return new PreparedTrainingData(FromFile(source.Corpus!, tok), tokPath, tok.VocabSize, tok.BosId, tok.EosId);
        }
        using var teacher = ModelLoader.Load(source.Teacher, source.Tokenizer);
        string tokenizerPath = source.Tokenizer ?? ModelLoader.FindTokenizerBeside(source.Teacher)
            ?? throw MspgtException.ForSetting("tokenizer", $"no tokenizer file (tokenizer.json or tok*.bin) beside the teacher {source.Teacher}; give one");
        var t = teacher.Tokenizer ?? TokenizerLoader.Load(tokenizerPath);
        string cache = Path.Combine(outDir, CacheFolder);
        log?.Invoke($"sampling {source.TeacherDocs} documents from {source.Teacher} (cached in {cache})");
        var data = FromTeacher(teacher, t, source.TeacherDocs, source.TeacherDocTokens, source.TeacherSeed,
            Path.Combine(cache, "teacher-docs.bin"), sampled, threads);
        return new PreparedTrainingData(data, tokenizerPath, teacher.Config.Vocab,
            StopTokens.BosOf(teacher.Config, t), StopTokens.EosOf(teacher.Config, t));
    }

    public static TrainingData FromFile(string path, ITokenizer tokenizer) =>
        TrainingData.Split(TrainingData.EncodeFile(path, tokenizer), $"file {Path.GetFullPath(path)}");

    /// <summary>The teacher's documents from cacheFile when it holds the same request, else sampled and saved there.</summary>
    public static TrainingData FromTeacher(LoadedModel teacher, ITokenizer tokenizer, int documents, int maxTokens, int seed,
        string cacheFile, Action<int>? progress = null, int threads = 0)
    {
        if (tokenizer.VocabSize > teacher.Config.Vocab)
            throw MspgtException.ForSetting("tokenizer", $"tokenizer has {tokenizer.VocabSize} tokens but the teacher's vocabulary has {teacher.Config.Vocab}");
        int bos = StopTokens.BosOf(teacher.Config, tokenizer)
            ?? throw new MspgtException(teacher.Path, "the teacher has no BOS token to start sampled documents from; train on a corpus file");
        int? eos = StopTokens.EosOf(teacher.Config, tokenizer);
        string teacherFile = teacher.WeightFiles.Count > 0 ? teacher.WeightFiles[0] : teacher.Path;
        long bytes = File.Exists(teacherFile) ? new FileInfo(teacherFile).Length : 0;
        string key = $"teacher {Path.GetFullPath(teacher.Path)} ({bytes} bytes), {documents} documents, ≤{maxTokens} tokens, temperature 1, seed {seed}";
        var docs = TrainingData.LoadDocuments(cacheFile, key);
        if (docs == null)
        {
            docs = TrainingData.SampleTeacher(new Transformer(teacher.Config, teacher.Weights), bos, eos, documents, maxTokens, seed, threads, progress);
            TrainingData.SaveDocuments(cacheFile, docs, key);
        }
        return TrainingData.Split(docs, $"sampled from {key}");
    }
}
