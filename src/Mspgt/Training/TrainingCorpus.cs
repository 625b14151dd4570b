using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Tokenization;

namespace Mspgt.Training;

/// <summary>Builds a run's <see cref="TrainingData"/> from a corpus file or from a teacher model (sampled once and
/// cached, so a resumed run or a zoo's students reuse the same documents).</summary>
public static class TrainingCorpus
{
    public static TrainingData FromFile(string path, ITokenizer tokenizer) =>
        TrainingData.Split(TrainingData.EncodeFile(path, tokenizer), $"file {Path.GetFullPath(path)}");

    /// <summary>The teacher's documents from cacheFile when it holds the same request, else sampled and saved there.</summary>
    public static TrainingData FromTeacher(LoadedModel teacher, ITokenizer tokenizer, int documents, int maxTokens, int seed,
        string cacheFile, Action<int>? progress = null, int threads = 0)
    {
        if (tokenizer.VocabSize > teacher.Config.Vocab)
            throw new MspgtException("--tokenizer", $"tokenizer has {tokenizer.VocabSize} tokens but the teacher's vocabulary has {teacher.Config.Vocab}");
        int bos = tokenizer.BosId ?? teacher.Config.BosId
            ?? throw new MspgtException(teacher.Path, "the teacher has no BOS token to start sampled documents from; use --corpus FILE");
        int? eos = tokenizer.EosId ?? teacher.Config.EosId;
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
