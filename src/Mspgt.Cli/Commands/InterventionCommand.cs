using System.CommandLine;
using System.Globalization;
using Mspgt.Loading;
using Mspgt.Experiments;
using Mspgt.Interventions;
using Mspgt.Interventions.Outcomes;
using Mspgt.Models;
using Mspgt.Reporting;
using Spectre.Console;
using Mspgt.Corpora;
using Mspgt.Files;

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
        var controls = new Option<int>("--controls") { Description = "Control windows per segment: distinct windows of the same width that do not overlap it (all of them when fewer exist); 19 lets the exceedance p reach 0.05", DefaultValueFactory = _ => ControlWindows.DefaultCount };
        var continuations = new Option<int>("--continuations") { Description = "Continuations sampled per prompt (0: next-token outcomes only)", DefaultValueFactory = _ => 2 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Most new tokens per continuation", DefaultValueFactory = _ => 48 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "The prompt is the first this-many tokens of each document", DefaultValueFactory = _ => 32 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature of the continuations", DefaultValueFactory = _ => 1f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass of the continuations", DefaultValueFactory = _ => 1f };
        var seed = new Option<int>("--seed") { Description = "Seed of everything random (corpus sampling, controls, noise, sampling, statistics)", DefaultValueFactory = _ => 0 };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples per effect", DefaultValueFactory = _ => Interventions.Statistics.PairedStatistics.DefaultBootstrapResamples };
        var permutations = new Option<int>("--permutations") { Description = "Monte Carlo sign flips per effect (above 16 documents; up to 16 the test is exact)", DefaultValueFactory = _ => Interventions.Statistics.PairedStatistics.DefaultPermutationResamples };
        var threads = new Option<int?>("--threads", "-t") { Description = "Worker threads (default: all cores; results do not depend on it)" };
        var device = CliCommon.DeviceOption();
        var output = new Option<string?>("--out") { Description = "Folder for interventions.parquet, effects.json, dissociation.png, dose_response.png" };
        var json = CliCommon.JsonOption("Print effects.json ({\"effects\", \"dissociation\", \"manifest\"}) to stdout");

        var cmd = new Command("intervene", "Perturb each scale segment (noise, zero/mean/resample ablation, skip) and measure next-token and text effects against random-segment controls");
        foreach (var o in new Option[] { model, tokenizer, corpus, documents, maxTokens, segments, scales, interventions, component, alpha, controls,
                     continuations, genTokens, promptTokens, temperature, topP, seed, bootstrap, permutations, threads, output, json, device.Device, device.Dtype })
            cmd.Options.Add(o);

        cmd.SetAction(p =>
        {
            CliCommon.ApplyThreads(p, threads);
            var specs = InterventionSpec.Expand(SplitList(p.GetValue(interventions)!), SplitList(p.GetValue(component)!), ParseAlphas(p.GetValue(alpha)!));
            using var m = ModelLoader.Load(CliCommon.ResolveModel(p.GetValue(model)), p.GetValue(tokenizer));
            CliCommon.ApplyDevice(p, device, m);
            var (segs, source) = LayerSegments.Select(p.GetValue(segments), p.GetValue(scales), m.Config.Layers);
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
            int nDocs = p.GetValue(documents);
            var run = InterventionRun.Prepare(m, settings, new CorpusSource(p.GetValue(corpus), nDocs, p.GetValue(maxTokens), settings.Seed));
            string? outDir = p.GetValue(output);
            if (outDir != null && File.Exists(outDir)) throw new MspgtException(outDir, "--out must be a folder, not a file");

            // A live bar on stderr when it is a terminal; nothing when it is redirected (stdout stays pure JSON either way).
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            InterventionResult result = null!;
            if (!console.Profile.Capabilities.Interactive) result = run.Run();
            else
                console.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var sampling = run.SamplesCorpus ? ctx.AddTask("sampling documents", maxValue: nDocs) : null;
                        var task = ctx.AddTask("interventions", maxValue: 1);
                        result = run.Run(k => sampling!.Value = k, (done, total, label) =>
                        {
                            task.MaxValue = total;
                            task.Value = done;
                            task.Description = Markup.Escape(label);
                        });
                    });

            IReadOnlyList<string> written = outDir != null ? [.. InterventionOutputs.Write(outDir, result), .. InterventionFigures.Write(outDir, result.Report)] : [];
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
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 160); // files and pipes: no wrapping
        var text = Console.Out;
        var mf = r.Manifest;
        text.WriteLine($"{mf.Model}: {mf.NLayers} blocks; {mf.Documents} documents ({mf.Corpus}); seed {mf.Seed}");
        text.WriteLine("segments: " + string.Join("  ", mf.Segments.Select(s => $"{s.Key}={s.Value[0]}-{s.Value[1]}")) + $"  ({mf.SegmentsSource})");
        text.WriteLine("controls: " + string.Join("  ", mf.ControlDraws.Select(d => $"{d.Segment} {d.Layers.Length} of {d.Candidates} non-overlapping windows"
            + (d.ExceedancePFloor is double fl ? $" (exceedance p ≥ {F(fl, "0.###")})" : " (none: no comparison)")))
            + $"; no-op max |effect| {F(mf.NoopMaxAbsEffect, "0.###E+0")}");

        // brittleness_kl (nats) of the named segments, in total and per block, and its contrast with the control
        // windows: the confirmatory test. The random rows' own effects are in effects.json.
        text.WriteLine("brittleness_kl (nats): total and per block; − controls = per-document contrast with the segment's control windows");
        var kl = new Table().AddColumns(new[] { "condition", "segment", "blocks", "KL [95% CI]", "/block", "− controls [95% CI]", "/block",
            "p", "p_holm", "exceed. p", "top-1" }.Select(Markup.Escape).ToArray());
        foreach (var e in r.Effects.Where(e => e.Metric == OutcomeMetrics.BrittlenessKl && e.Layers is not null && e.Segment != "none"))
        {
            var top1 = r.Effects.FirstOrDefault(x => x.Segment == e.Segment && x.ControlFor is null && x.Intervention == e.Intervention
                                                     && x.Component == e.Component && x.Alpha == e.Alpha && x.Metric == OutcomeMetrics.Top1Agreement);
            var vs = e.VsControls;
            kl.AddRow(Markup.Escape(Label(e.Intervention, e.Component, e.Alpha)), Markup.Escape(e.Segment), $"{e.Layers![0]}-{e.Layers[1]}",
                Markup.Escape(WithCi(e.Effect, e.Ci)), F(e.EffectPerBlock, "0.00"), Markup.Escape(vs is null ? "-" : WithCi(vs.Mean, vs.Ci)),
                F(vs?.MeanPerBlock, "0.00"), F(vs?.P, "0.0000"), F(e.PHolm, "0.0000"), F(vs?.Exceedance?.P, "0.00"),
                F(top1?.Effect is double t ? 1 + t : null, "0.00"));
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
            text.WriteLine($"diagonal dominance {F(d.DiagonalDominance)}{Dominance(d)}; rows with diagonal maximum {F(d.RowMaxFraction, "0.##")}; columns {F(d.ColumnMaxFraction, "0.##")}");
            if (d.ByCondition is { } all)
                text.WriteLine("diagonal dominance by condition: " + string.Join(", ", all.Select(x =>
                    $"{Label(x.Intervention, x.Component, x.Alpha)} {F(x.DiagonalDominance, "0.00")}" + (x.DominanceTest is { } dt ? $" (p {F(dt.PValue, "0.0000")})" : ""))));
        }

        // The verdict of the confirmatory family only; the table above has every row.
        var significant = r.Effects.Where(e => e.Confirmatory && e.PHolm is < 0.05).ToList();
        text.WriteLine($"{significant.Count} of {mf.HolmFamilySize} confirmatory rows (named segment × condition × brittleness_kl against its control windows) "
                       + $"have Holm-adjusted p < 0.05: {significant.Count(e => e.VsControls!.Mean > 0)} more brittle than their controls, "
                       + $"{significant.Count(e => e.VsControls!.Mean < 0)} less; every other row is exploratory");
        foreach (var f in written) text.WriteLine($"wrote {f}");
    }

    private static string WithCi(double? v, double[]? ci) =>
        v is null ? "-" : ci is { } c ? $"{F(v, "0.00")} [{F(c[0], "0.00")}, {F(c[1], "0.00")}]" : F(v, "0.00");

    private static string Dominance(DissociationReport d) => d.DominanceTest is { } t
        ? $" (95% CI {(t.Ci is { } c ? $"[{F(c[0])}, {F(c[1])}]" : "-")}; label-permutation null mean {F(t.NullMean)}, p {F(t.PValue, "0.0000")})"
        : d.DominanceTestNote is { } note ? $" (no test: {note})" : "";

    private static string Label(string intervention, string component, double? alpha) => intervention switch
    {
        "noise" => $"noise α={F(alpha, "0.###")}",
        "skip" or "noop" => intervention,
        _ => $"{intervention} {component}",
    };
}
