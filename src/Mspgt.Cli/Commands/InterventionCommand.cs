using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Mspgt.Checkpoints;
using Mspgt.Experiments;
using Mspgt.Interventions;
using Mspgt.Interventions.Outcomes;
using Mspgt.Models;
using Mspgt.Reporting;
using Spectre.Console;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt intervene`: scale-specific causal interventions on the local / intermediate / global segments.</summary>
public static class InterventionCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption(required: false);
        var tokenizer = CliCommon.TokenizerOption();
        var corpus = new Option<string?>("--corpus") { Description = "Corpus file (JSONL with a \"text\" field, or plain text with blank-line-separated documents); default: documents sampled from the model" };
        var documents = new Option<int>("--documents") { Description = "Documents to sample, or the most to read from --corpus", DefaultValueFactory = _ => 16 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per document (longer documents are cut)", DefaultValueFactory = _ => 64 };
        var segments = new Option<string?>("--segments") { Description = "Segments, e.g. local=0-1,intermediate=2-3,global=4-4 (inclusive, 0-based blocks)" };
        var scales = new Option<string?>("--scales") { Description = "An mspgt analyze summary.json: its \"segments\" and \"n_layers\" are used" };
        var interventions = new Option<string>("--interventions") { Description = "Comma list of noise, zero, mean, resample, skip", DefaultValueFactory = _ => "noise,zero,mean,resample,skip" };
        var component = new Option<string>("--component") { Description = "Component(s) for zero / mean / resample: attn, mlp, both (comma list); resid (resample only) patches the residual stream itself", DefaultValueFactory = _ => "attn,mlp" };
        var alpha = new Option<string>("--alpha") { Description = "Noise strength(s) α, × the block's mean residual norm; a list gives a dose-response curve", DefaultValueFactory = _ => "0.5" };
        var controls = new Option<int>("--controls") { Description = "Random contiguous segments of the same width per segment (control)", DefaultValueFactory = _ => 10 };
        var continuations = new Option<int>("--continuations") { Description = "Continuations sampled per prompt (0: next-token outcomes only)", DefaultValueFactory = _ => 2 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Most new tokens per continuation", DefaultValueFactory = _ => 48 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "The prompt is the first this-many tokens of each document", DefaultValueFactory = _ => 32 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature of the continuations", DefaultValueFactory = _ => 1f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass of the continuations", DefaultValueFactory = _ => 1f };
        var seed = new Option<int>("--seed") { Description = "Seed of everything random (corpus sampling, controls, noise, sampling, statistics)", DefaultValueFactory = _ => 0 };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples per effect", DefaultValueFactory = _ => Interventions.Statistics.PairedStatistics.DefaultBootstrapResamples };
        var permutations = new Option<int>("--permutations") { Description = "Monte Carlo sign flips per effect (above 16 documents; up to 16 the test is exact)", DefaultValueFactory = _ => Interventions.Statistics.PairedStatistics.DefaultPermutationResamples };
        var threads = new Option<int?>("--threads") { Description = "Documents run at once (default: one per CPU; results do not depend on it)" };
        var output = new Option<string?>("--out") { Description = "Folder for interventions.parquet, effects.json, dissociation.png, dose_response.png" };
        var json = CliCommon.JsonOption("Print effects.json ({\"effects\", \"dissociation\", \"manifest\"}) to stdout");

        var cmd = new Command("intervene", "Perturb each scale segment (noise, zero/mean/resample ablation, skip) and measure next-token and text effects against random-segment controls");
        foreach (var o in new Option[] { model, tokenizer, corpus, documents, maxTokens, segments, scales, interventions, component, alpha, controls,
                     continuations, genTokens, promptTokens, temperature, topP, seed, bootstrap, permutations, threads, output, json })
            cmd.Options.Add(o);

        cmd.SetAction(p =>
        {
            string? segText = p.GetValue(segments), scalesPath = p.GetValue(scales);
            if (segText != null && scalesPath != null) throw new MspgtException("--segments", "give --segments or --scales, not both");
            int nDocs = p.GetValue(documents), nTokens = p.GetValue(maxTokens);
            if (nDocs < 2) throw new MspgtException("--documents", $"must be ≥ 2, got {nDocs}");
            if (nTokens < 2) throw new MspgtException("--max-tokens", $"must be ≥ 2, got {nTokens}");
            var specs = InterventionSpec.Expand(SplitList(p.GetValue(interventions)!), SplitList(p.GetValue(component)!), ParseAlphas(p.GetValue(alpha)!));

            string modelPath = CliCommon.ResolveModel(p.GetValue(model));
            using var m = ModelLoader.Load(modelPath, p.GetValue(tokenizer));
            var tok = CliCommon.RequireTokenizer(m);
            int layers = m.Config.Layers;
            var (segs, source) = segText != null ? (LayerSegments.Parse(segText, layers), "--segments")
                : scalesPath != null ? (LayerSegments.FromSummary(scalesPath, layers), $"--scales {scalesPath}")
                : (LayerSegments.EqualThirds(layers), "equal thirds (no --segments or --scales given)");
            if (nTokens > m.Config.MaxSeq) throw new MspgtException("--max-tokens", $"{nTokens} is longer than the model's context of {m.Config.MaxSeq}");
            var settings = new InterventionSettings
            {
                Segments = segs,
                SegmentsSource = source,
                Interventions = specs,
                Controls = p.GetValue(controls),
                Continuations = p.GetValue(continuations),
                GenTokens = p.GetValue(genTokens),
                PromptTokens = p.GetValue(promptTokens),
                Temperature = p.GetValue(temperature),
                TopP = p.GetValue(topP),
                Seed = p.GetValue(seed),
                BootstrapResamples = p.GetValue(bootstrap),
                PermutationResamples = p.GetValue(permutations),
                Threads = p.GetValue(threads),
            };
            settings.Validate(layers, m.Config.MaxSeq);
            string? outDir = p.GetValue(output);
            if (outDir != null && File.Exists(outDir)) throw new MspgtException(outDir, "--out must be a folder, not a file");
            string? corpusPath = p.GetValue(corpus);
            // Read the corpus file before any progress output, so that a bad file is still a one-line error.
            var fileCorpus = corpusPath != null ? Corpus.FromFile(corpusPath, tok, nTokens) : null;

            var transformer = new Transformer(m);
            var inputsModelName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelPath)));
            InterventionResult Execute(Action<int>? sampled, Action<int, int, string>? progress)
            {
                var docs = fileCorpus ?? Corpus.Sample(transformer, tok, nDocs, nTokens, settings.Seed, sampled);
                var inputs = new InterventionInputs(inputsModelName, m.Path, Mspgt.Experiments.FileHashes.OfModel(m), tok.Description, docs.Description, docs.Sha256);
                return InterventionExperiment.Run(transformer, tok, docs.Documents.Take(nDocs).ToList(), settings, inputs, progress);
            }

            // A live bar on stderr when it is a terminal; nothing when it is redirected (stdout stays pure JSON either way).
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            InterventionResult result = null!;
            if (!console.Profile.Capabilities.Interactive) result = Execute(null, null);
            else
                console.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var sampling = fileCorpus == null ? ctx.AddTask("sampling documents", maxValue: nDocs) : null;
                        var task = ctx.AddTask("interventions", maxValue: 1);
                        result = Execute(k => sampling!.Value = k, (done, total, label) =>
                        {
                            task.MaxValue = total;
                            task.Value = done;
                            task.Description = Markup.Escape(label);
                        });
                    });

            IReadOnlyList<string> written = outDir != null ? InterventionOutputs.Write(outDir, result) : [];
            if (p.GetValue(json)) Console.Out.WriteLine(JsonOutput.Serialize(result.Report));
            else PrintSummary(result.Report, written);
            return 0;
        });
        return cmd;
    }

    private static string[] SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static double[] ParseAlphas(string text)
    {
        var parts = SplitList(text);
        if (parts.Length == 0) throw new MspgtException("--alpha", "no value given");
        return parts.Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            ? a : throw new MspgtException("--alpha", $"'{s}' is not a number")).ToArray();
    }

    private static string F(double? v, string format = "0.000") => v is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static void PrintSummary(InterventionReport r, IReadOnlyList<string> written)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 132); // files and pipes: no wrapping
        var text = Console.Out;
        var mf = r.Manifest;
        text.WriteLine($"{mf.Model}: {mf.NLayers} blocks; {mf.Documents} documents ({mf.Corpus}); seed {mf.Seed}");
        text.WriteLine("segments: " + string.Join("  ", mf.Segments.Select(s => $"{s.Key}={s.Value[0]}-{s.Value[1]}")) + $"  ({mf.SegmentsSource})");
        text.WriteLine($"controls: {mf.ControlDraws.FirstOrDefault()?.Layers.Length ?? 0} random segments of the same width per segment; no-op max |effect| {F(mf.NoopMaxAbsEffect, "0.###E+0")}");

        var kl = new Table().AddColumns("condition", "segment", "blocks", "brittleness_kl", "95% CI", "×random", "p_holm", "Δnll", "top-1 agree");
        foreach (var e in r.Effects.Where(e => e.Metric == OutcomeMetrics.BrittlenessKl && e.Segment != "none"))
        {
            var same = r.Effects.Where(x => x.Segment == e.Segment && x.ControlFor == e.ControlFor && x.Intervention == e.Intervention
                                            && x.Component == e.Component && x.Alpha == e.Alpha).ToList();
            var dNll = same.FirstOrDefault(x => x.Metric == OutcomeMetrics.DeltaNll);
            var top1 = same.FirstOrDefault(x => x.Metric == OutcomeMetrics.Top1Agreement);
            string segment = e.ControlFor is { } cf ? $"random ({cf})" : e.Segment;
            string blocks = e.Layers is { } l ? $"{l[0]}-{l[1]}" : $"width {mf.Segments[e.ControlFor!][1] - mf.Segments[e.ControlFor!][0] + 1}";
            kl.AddRow(Markup.Escape(Label(e.Intervention, e.Component, e.Alpha)), Markup.Escape(segment), Markup.Escape(blocks), F(e.Effect),
                Markup.Escape(e.Ci is { } ci ? $"[{F(ci[0])}, {F(ci[1])}]" : "-"), F(e.VsRandomControl?.Ratio, "0.00"), F(e.PHolm, "0.0000"),
                F(dNll?.Effect), F(top1?.Effect is double t ? 1 + t : null));
        }
        console.Write(kl);

        if (r.Dissociation is { } d)
        {
            text.WriteLine($"dissociation ({mf.PrimaryCondition}; mean |Cohen's d_z| per metric family):");
            var t = new Table().AddColumn("segment");
            foreach (var c in d.Columns) t.AddColumn(c);
            for (int i = 0; i < d.Rows.Length; i++)
                if (mf.Segments.ContainsKey(d.Rows[i]))
                    t.AddRow([d.Rows[i], .. d.Matrix[i].Select(v => F(v, "0.00"))]);
            console.Write(t);
            text.WriteLine($"diagonal dominance {F(d.DiagonalDominance)}; rows with diagonal maximum {F(d.RowMaxFraction, "0.##")}; columns {F(d.ColumnMaxFraction, "0.##")}");
            if (d.ByCondition is { } all)
                text.WriteLine("diagonal dominance by condition: " + string.Join(", ", all.Select(x => $"{Label(x.Intervention, x.Component, x.Alpha)} {F(x.DiagonalDominance, "0.00")}")));
        }

        var significant = r.Effects.Where(e => e.PHolm is < 0.05 && e.Segment != "random" && e.Segment != "none").OrderBy(e => e.PHolm).ThenByDescending(e => Math.Abs(e.CohensD ?? 0)).ToList();
        text.WriteLine($"{significant.Count} of {r.Effects.Count(e => e.P is not null)} effects have Holm-adjusted p < 0.05 (named segments shown, up to 25):");
        foreach (var e in significant.Take(25))
            text.WriteLine($"  {e.Segment,-12} {Label(e.Intervention, e.Component, e.Alpha),-18} {e.Metric,-22} effect {F(e.Effect, "0.0000")} [{F(e.Ci?[0], "0.0000")}, {F(e.Ci?[1], "0.0000")}]  d {F(e.CohensD, "0.00")}  p_holm {F(e.PHolm, "0.0000")}  ×random {F(e.VsRandomControl?.Ratio, "0.00")}");
        foreach (var f in written) text.WriteLine($"wrote {f}");
    }

    private static string Label(string intervention, string component, double? alpha) => intervention switch
    {
        "noise" => $"noise α={F(alpha, "0.###")}",
        "skip" or "noop" => intervention,
        _ => $"{intervention} {component}",
    };
}
