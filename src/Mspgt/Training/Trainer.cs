using System.Diagnostics;
using Mspgt.Reporting;

namespace Mspgt.Training;

/// <summary>A progress report after each step (for the CLI's progress line).</summary>
public sealed record TrainingProgress(long Step, int Steps, double TrainLoss, double? ValLoss, double Lr, double GradNorm,
    long Tokens, double Seconds, double TokensPerSecond, double EtaSeconds);

/// <summary>How a run ended: the final checkpoint and its record.</summary>
public sealed record TrainingResult(string FinalCheckpoint, TrainingRecord Record, bool Resumed, long ResumedFromStep);

/// <summary>
/// The training loop: seeded init (or resume from the newest checkpoint in the output folder), per step a batch of
/// random windows, mean cross-entropy and its gradient, global-norm clipping, AdamW with warmup + cosine schedule;
/// validation on held-out windows, loss.csv / loss.png, and checkpoints. Deterministic for a seed: the windows and
/// learning rate of a step depend only on (seed, step), and gradients are reduced in a fixed order, so a run resumed
/// from a checkpoint continues bit-identically.
/// </summary>
/// <summary>Draws the loss curve (loss.png) from the logged rows; training itself draws nothing, the caller's
/// renderer does (Reporting.LossFigure.Write).</summary>
public delegate void LossPlotter(string path, string title, IReadOnlyList<LossRow> rows);

public static class Trainer
{
    public static TrainingResult Run(TrainSettings settings, TrainingData data, string tokenizerPath, int vocab, int? bos, int? eos,
        string outDir, Action<TrainingProgress>? progress = null, Action<string>? log = null, int threads = 0, LossPlotter? lossFigure = null)
    {
        settings.Validate();
        if (!File.Exists(tokenizerPath)) throw new MspgtException(tokenizerPath, "tokenizer file not found");
        foreach (int id in data.Train.Concat(data.Validation))
            if ((uint)id >= (uint)vocab) throw new MspgtException("corpus", $"token id {id} is outside the vocabulary (0..{vocab - 1})");
        if (data.Validation.Length < settings.Seq + 1)
            throw new MspgtException("corpus", $"the held-out split has {data.Validation.Length} tokens, fewer than one window of seq+1 = {settings.Seq + 1}; use more documents");
        var config = settings.ToModelConfig(vocab, bos, eos);
        var model = new TrainingModel(config);
        var optimizer = new AdamW(model.Count, (float)settings.WeightDecay);
        var dataRecord = new DataRecord(data.Description, data.Sha256, data.Train.Length, data.Validation.Length, data.TrainDocuments, data.ValidationDocuments);
        string csvPath = Path.Combine(outDir, "loss.csv");
        Directory.CreateDirectory(outDir);

        long startStep = 0;
        double priorSeconds = 0;
        double? lastVal = null; long? lastValStep = null;
        List<LossRow> rows = [];
        bool resumed = false;
        string? latest = TrainingCheckpoint.FindLatest(outDir);
        if (latest != null)
        {
            var stored = TrainingRecord.Read(Path.Combine(latest, "training.json"));
            if (stored.Settings.WeightDefining() != settings.WeightDefining())
                throw new MspgtException(latest, "the output folder holds a run with different settings; use another output folder or the same settings to resume");
            if (stored.Data.Sha256 != data.Sha256)
                throw new MspgtException(latest, "the output folder holds a run on different data; use another output folder");
            var rec = TrainingCheckpoint.Load(latest, model, optimizer);
            startStep = rec.Step;
            priorSeconds = rec.WallSeconds;
            lastVal = rec.ValLoss; lastValStep = rec.ValLossStep;
            rows = LossLog.ReadCsv(csvPath).Where(r => r.Step <= startStep).ToList();
            resumed = true;
            log?.Invoke($"resuming from {latest} (step {startStep})");
        }
        else model.Initialize(settings.Seed, settings.InitStd);

        var schedule = LearningRateSchedule.Create(settings.Lr, settings.Warmup, settings.Steps);
        var sampler = new WindowSampler(settings.Seed, data.Train.Length, settings.Seq, settings.Batch);
        var evalStarts = Enumerable.Range(0, settings.EvalWindows).Select(i => i * settings.Seq)
            .TakeWhile(s => s + settings.Seq + 1 <= data.Validation.Length).ToArray();
        var batch = new BatchGradient(model, threads);
        long tokensPerStep = (long)settings.Batch * settings.Seq;
        var clock = Stopwatch.StartNew();
        string tokName = Path.GetFileName(tokenizerPath);
        string modelType = config.Spec.Name;

        TrainingRecord Record(long step, double? train, double lr, double? gnorm) => new()
        {
            ModelType = modelType, Step = step, Steps = settings.Steps, Tokens = step * tokensPerStep, TrainLoss = train,
            ValLoss = lastVal, ValLossStep = lastValStep, Lr = lr, GradNorm = gnorm, Seed = settings.Seed, Parameters = model.Count,
            WallSeconds = Math.Round(priorSeconds + clock.Elapsed.TotalSeconds, 3), Tokenizer = tokName,
            GradientGroups = Math.Min(settings.Batch, BatchGradient.MaxGroups),
            Settings = settings, Data = dataRecord,
        };

        TrainingRecord last = resumed ? TrainingRecord.Read(Path.Combine(latest!, "training.json")) : Record(0, null, 0, null);
        string finalDir = latest ?? "";
        if (!resumed)
        {
            lastVal = batch.Evaluate(data.Validation, evalStarts, settings.Seq);
            lastValStep = 0;
            last = Record(0, null, 0, null);
            finalDir = TrainingCheckpoint.Write(outDir, model, optimizer, last, tokenizerPath);
        }
        long firstStep = startStep;
        for (long step = startStep; step < settings.Steps; step++)
        {
            var starts = sampler.Starts(step);
            double loss = batch.Compute(data.Train, starts, settings.Seq);
            if (!double.IsFinite(loss)) throw new MspgtException("training", $"loss is {loss} at step {step + 1}: training diverged (try a lower learning rate)");
            double gnorm = GradientClipping.Clip(batch.Gradient, settings.Clip);
            double lr = schedule.At((int)step);
            optimizer.Update(model, batch.Gradient, (float)lr);
            long done = step + 1;
            bool evalNow = done == settings.Steps || (settings.EvalEvery > 0 && done % settings.EvalEvery == 0);
            double? val = null;
            if (evalNow)
            {
                val = batch.Evaluate(data.Validation, evalStarts, settings.Seq);
                lastVal = val; lastValStep = done;
            }
            double seconds = priorSeconds + clock.Elapsed.TotalSeconds;
            rows.Add(new LossRow(done, loss, val, lr, done * tokensPerStep, Math.Round(seconds, 3), gnorm));
            bool checkpointNow = done == settings.Steps || (settings.CheckpointEvery > 0 && done % settings.CheckpointEvery == 0);
            if (evalNow || checkpointNow || done % 10 == 0) LossLog.WriteCsv(csvPath, rows);
            if (checkpointNow)
            {
                last = Record(done, loss, lr, gnorm);
                finalDir = TrainingCheckpoint.Write(outDir, model, optimizer, last, tokenizerPath);
                WritePlot(lossFigure, outDir, modelType, rows, log);
            }
            double rate = (done - firstStep) * tokensPerStep / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            double eta = (settings.Steps - done) * tokensPerStep / Math.Max(1e-9, rate);
            progress?.Invoke(new TrainingProgress(done, settings.Steps, loss, val, lr, gnorm, done * tokensPerStep, seconds, rate, eta));
        }
        if (rows.Count > 0) { LossLog.WriteCsv(csvPath, rows); WritePlot(lossFigure, outDir, modelType, rows, log); }
        return new TrainingResult(finalDir, last, resumed, startStep);
    }

    private static void WritePlot(LossPlotter? figure, string outDir, string modelType, IReadOnlyList<LossRow> rows, Action<string>? log)
    {
        if (figure is null || rows.Count == 0) return;
        try { figure(Path.Combine(outDir, "loss.png"), $"{modelType} training loss (nats/token)", rows); }
        catch (Exception e) when (e is not MspgtException && e is not OutOfMemoryException)
        {
            // A missing font or native renderer must not lose a training run; the CSV has every number.
            log?.Invoke($"warning: loss.png not written: {e.Message}");
        }
    }
}
