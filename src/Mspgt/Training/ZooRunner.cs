using System.Text.Json;
using Mspgt.Loading;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Training;

/// <summary>One trained student of a zoo, as listed in zoo.json.</summary>
public sealed record ZooEntry(string Name, string Architecture, int Layers, int Dim, long Parameters, string Folder,
    IReadOnlyList<string> Checkpoints, long Step, double? ValLoss, double? TrainLoss);

/// <summary>
/// Trains every student of a <see cref="ZooRecipe"/> into OUT/&lt;name&gt; on one shared corpus (a teacher's samples are
/// drawn once and cached in OUT/corpus). Each student resumes from its own last checkpoint, so re-running an
/// interrupted zoo continues where it stopped; finished students are not retrained. Writes OUT/zoo.json.
/// </summary>
public static class ZooRunner
{
    public static IReadOnlyList<ZooEntry> Run(ZooRecipe recipe, string outDir, Action<string, TrainingProgress>? progress = null,
        Action<string>? log = null, int threads = 0, LossPlotter? lossFigure = null)
    {
        Directory.CreateDirectory(outDir);
        PreparedTrainingData prepared;
        try
        {
            prepared = TrainingCorpus.Prepare(recipe.Data, outDir, log,
                n => { if (n % 200 == 0) log?.Invoke($"  sampled {n}/{recipe.Data.TeacherDocs}"); }, threads);
        }
        catch (MspgtException e) when (e.Setting != null) { throw e.InFile(recipe.File); } // a recipe key, e.g. "tokenizer"
        var (data, tokenizerPath, vocab, bos, eos) = prepared;
        log?.Invoke($"corpus: {data.Train.Length} training tokens ({data.TrainDocuments} documents), {data.Validation.Length} held out ({data.ValidationDocuments} documents)");
        var entries = new List<ZooEntry>();
        foreach (var student in recipe.Students)
        {
            string folder = Path.Combine(outDir, student.Name);
            log?.Invoke($"student {student.Name}: {student.Settings.Architecture} {student.Settings.Layers} layers, dim {student.Settings.Dim}");
            var r = Trainer.Run(student.Settings, data, tokenizerPath, vocab, bos, eos, folder, p => progress?.Invoke(student.Name, p), log, threads, lossFigure);
            var checkpoints = Directory.GetDirectories(TrainingCheckpoint.CheckpointsDir(folder), TrainingCheckpoint.FolderPrefix + "*")
                .Select(d => Path.GetRelativePath(outDir, d)).OrderBy(s => s, StringComparer.Ordinal).ToList();
            entries.Add(new ZooEntry(student.Name, r.Record.ModelType, student.Settings.Layers, student.Settings.Dim, r.Record.Parameters,
                student.Name, checkpoints, r.Record.Step, r.Record.ValLoss, r.Record.TrainLoss));
            JsonOutput.WriteFile(Path.Combine(outDir, "zoo.json"), new { students = entries });
        }
        return entries;
    }
}
