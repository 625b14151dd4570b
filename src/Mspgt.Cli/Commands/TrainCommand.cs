using Mspgt.Reporting;
using System.CommandLine;
using Mspgt.Loading;
using Mspgt.Tokenization;
using Mspgt.Training;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt train`: train a small Llama / Qwen2 / Qwen3 model from scratch into Hugging Face checkpoints.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        Option<T> Opt<T>(string name, string desc, T dflt) => new(name) { Description = desc, DefaultValueFactory = _ => dflt };
        Option<T> Req<T>(string name, string desc) => new(name) { Description = desc, Required = true };
        var arch = Req<string>("--arch", "Architecture: llama, qwen2 or qwen3");
        var layers = Req<int>("--layers", "Transformer blocks");
        var dim = Req<int>("--dim", "Hidden size");
        var heads = Req<int>("--heads", "Query heads");
        var kvHeads = Opt("--kv-heads", "Key/value heads (0 = --heads)", 0);
        var ffn = Req<int>("--ffn", "SwiGLU intermediate size");
        var headDim = Opt("--head-dim", "Head dimension (0 = dim / heads)", 0);
        var tied = new Option<bool>("--tied") { Description = "Tie the unembedding to the embedding" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer file (tokenizer.json or a llama2.c tok*.bin); with --teacher, default: the teacher's" };
        var corpus = new Option<string?>("--corpus") { Description = "Training text: plain text (blank-line separated documents) or JSONL with \"text\"" };
        var teacher = new Option<string?>("--teacher") { Description = "Sample the training corpus from this model (temperature 1) and reuse its tokenizer" };
        var teacherDocs = Opt("--teacher-docs", "Documents to sample from the teacher", 2000);
        var teacherDocTokens = Opt("--teacher-doc-tokens", "Most tokens per sampled document (BOS included)", 256);
        var teacherSeed = Opt("--teacher-seed", "Seed of the teacher's sampling (document i uses seed + i)", 1);
        var seq = Req<int>("--seq", "Tokens per training window");
        var batch = Req<int>("--batch", "Windows per step");
        var steps = Req<int>("--steps", "Optimizer steps");
        var lr = Opt("--lr", "Peak learning rate (cosine decay to lr/10)", 3e-3);
        var warmup = Opt("--warmup", "Linear warmup steps", 100);
        var wd = Opt("--weight-decay", "AdamW decoupled weight decay on 2-D weights", 0.1);
        var clip = Opt("--clip", "Global gradient-norm clip (0 = off)", 1.0);
        var seed = Opt("--seed", "Seed of initialisation and window order", 1);
        var outDir = Req<string>("--out", "Output folder (checkpoints/, loss.csv, loss.png); an existing run there is resumed");
        var ckEvery = Opt("--checkpoint-every", "Checkpoint every N steps (0 = final only; step 0 is always kept)", 0);
        var evalEvery = Opt("--eval-every", "Validation loss every N steps (0 = at the end only)", 0);
        var evalWindows = Opt("--eval-windows", "Held-out windows per validation", 32);
        var maxPos = Opt("--max-positions", "max_position_embeddings in config.json (0 = --seq)", 0);
        var threads = Opt("--threads", "Worker threads (0 = all cores; results do not depend on it)", 0);
        threads.Aliases.Add("-t");
        var cmd = new Command("train", "Train a small Llama-, Qwen2- or Qwen3-style model from scratch (Hugging Face checkpoints)");
        foreach (var o in new Option[] { arch, layers, dim, heads, kvHeads, ffn, headDim, tied, tokenizer, corpus, teacher, teacherDocs, teacherDocTokens,
                     teacherSeed, seq, batch, steps, lr, warmup, wd, clip, seed, outDir, ckEvery, evalEvery, evalWindows, maxPos, threads })
            cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            int h = p.GetValue(heads);
            var settings = new TrainSettings
            {
                Architecture = TrainSettings.ParseArchitecture(p.GetValue(arch)!), Layers = p.GetValue(layers), Dim = p.GetValue(dim),
                Heads = h, KvHeads = p.GetValue(kvHeads) is int k && k > 0 ? k : h, Ffn = p.GetValue(ffn), HeadDim = p.GetValue(headDim),
                Tied = p.GetValue(tied), Seq = p.GetValue(seq), Batch = p.GetValue(batch), Steps = p.GetValue(steps), Lr = p.GetValue(lr),
                Warmup = p.GetValue(warmup), WeightDecay = p.GetValue(wd), Clip = p.GetValue(clip), Seed = p.GetValue(seed),
                CheckpointEvery = p.GetValue(ckEvery), EvalEvery = p.GetValue(evalEvery), EvalWindows = p.GetValue(evalWindows),
                MaxPositions = p.GetValue(maxPos),
            };
            settings.Validate();
            string output = p.GetValue(outDir)!;
            string? corpusPath = p.GetValue(corpus), teacherPath = p.GetValue(teacher), tokPath = p.GetValue(tokenizer);
            if ((corpusPath == null) == (teacherPath == null)) throw new MspgtException("--corpus", "give exactly one of --corpus FILE and --teacher MODEL");
            int nThreads = p.GetValue(threads);
            Mspgt.Numerics.Parallelism.Set(nThreads);
            int docs = p.GetValue(teacherDocs);
            var source = new TrainingDataSource
            {
                Teacher = teacherPath, Corpus = corpusPath, Tokenizer = tokPath,
                TeacherDocs = docs, TeacherDocTokens = p.GetValue(teacherDocTokens), TeacherSeed = p.GetValue(teacherSeed),
            };
            var (data, tokenizerPath, vocab, bos, eos) = TrainingCorpus.Prepare(source, output, Console.Error.WriteLine,
                n => { if (n % 100 == 0 || n == docs) Console.Error.Write($"\r  sampled {n}/{docs}"); }, nThreads);
            if (teacherPath != null) Console.Error.WriteLine();
            Console.Error.WriteLine($"data: {data.Train.Length} training tokens ({data.TrainDocuments} documents), {data.Validation.Length} held out ({data.ValidationDocuments} documents)");
            var result = Trainer.Run(settings, data, tokenizerPath, vocab, bos, eos, output, ProgressLine, Console.Error.WriteLine, nThreads, LossFigure.Write);
            Console.Error.WriteLine();
            Console.Out.WriteLine($"final checkpoint: {result.FinalCheckpoint}");
            Console.Out.WriteLine($"step {result.Record.Step}, tokens {result.Record.Tokens}, train loss {result.Record.TrainLoss:F4}, val loss {result.Record.ValLoss:F4}, wall {result.Record.WallSeconds:F0} s");
            return 0;
        });
        return cmd;
    }

    private static double _lastLogged = double.NegativeInfinity;

    /// <summary>One progress line on stderr, rewritten in place on a terminal; evaluation steps get their own line. In a
    /// log, a line at most every few seconds and at every evaluation.</summary>
    public static void ProgressLine(TrainingProgress p)
    {
        if (Progress.Quiet) return;
        bool log = Console.IsErrorRedirected;
        if (log && p.ValLoss == null && p.Step < p.Steps && p.Seconds - _lastLogged < Progress.LogInterval.TotalSeconds) return;
        _lastLogged = p.Seconds;
        string line = $"step {p.Step}/{p.Steps} loss {p.TrainLoss:F4}{(p.ValLoss is double v ? $" val {v:F4}" : "")} lr {p.Lr:E2} gnorm {p.GradNorm:F2} " +
                      $"tokens {p.Tokens} {p.TokensPerSecond:F0} tok/s elapsed {Clock(p.Seconds)} ETA {Clock(p.EtaSeconds)}";
        Console.Error.Write(log ? $"{line}\n" : p.ValLoss != null ? $"\r{line}\n" : $"\r{line}   ");
    }

    public static string Clock(double s) => double.IsFinite(s) ? TimeSpan.FromSeconds(Math.Round(s)).ToString(s >= 3600 ? @"h\:mm\:ss" : @"m\:ss") : "?";
}
