using System.Text.Json.Nodes;
using static Mspgt.Experiments.Predictions.PredictionContext;

namespace Mspgt.Experiments.Predictions;

/// <summary>
/// P6: boundaries settle during training. Per student (checkpoints sharing <see cref="StudyModelSpec.Student"/>,
/// ordered by step), the settled run is the number of checkpoints before the final one whose two boundaries both lie
/// within ±1 layer of the final's, counted back from the end; a checkpoint whose calibrated test did not select two
/// boundaries has none to agree with, and a student whose final checkpoint has none is not evaluable. Its null: the same statistic when every checkpoint's
/// boundaries are drawn uniformly among the valid two-boundary splits at that depth (<see cref="RandomBoundaries"/>)
/// — at 4 layers any two splits agree within a layer, so the null says how much agreement is free. The study's
/// statistic is the sum over students; p = exceedance over Monte Carlo draws. Supported when p ≤ 0.05.
/// </summary>
public sealed class P6Settling : IPrediction
{
    public string Id => "P6";
    public string Statement => "Boundaries settle during training: late checkpoints keep their boundaries within one layer of the final ones more than random boundaries at that depth would.";
    public string Threshold => "exceedance p ≤ 0.05 of the summed settled run against random boundaries";
    public string Null => "every checkpoint's two boundaries uniform among the valid splits at its depth (independently)";

    public Prediction Evaluate(PredictionContext c)
    {
        var numbers = new JsonObject();
        var all = c.All.Where(m => m.Spec.Student is not null).GroupBy(m => m.Spec.Student!, StringComparer.Ordinal)
            .Where(g => g.Count() >= 2).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.OrderBy(m => m.Spec.Step).ToList()).ToList();
        if (all.Count == 0)
            return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null,
                "no student with two or more checkpoints (give checkpoints of one training run the same \"student\")", numbers);
        var students = all.Where(s => s[^1].Summary.KSelected == 2).ToList();
        foreach (var s in all.Except(students))
            numbers[s[0].Spec.Student!] = new JsonObject { ["note"] = $"final checkpoint has K = {s[^1].Summary.KSelected}: no boundaries to settle on" };
        if (students.Count == 0)
            return new Prediction(Id, Statement, Verdict.NotEvaluable, Threshold, Null, null, null,
                "no student's final checkpoint has two selected boundaries", numbers);
        int observed = 0;
        var nulls = new List<((int, int)[] Pairs, int Checkpoints)>();
        foreach (var ordered in students)
        {
            var bounds = ordered.Select(m => m.Summary.KSelected == 2 ? m.Summary.ForcedK2.Boundaries : []).ToList();
            int run = SettledRun(bounds);
            observed += run;
            var last = ordered[^1];
            nulls.Add((RandomBoundaries.All(last.Summary.NLayers, last.Summary.ForcedK2.MinSegmentLength), ordered.Count));
            int finalStep = last.Spec.Step ?? 0, settledIndex = ordered.Count - 1 - run;
            numbers[ordered[0].Spec.Student!] = new JsonObject
            {
                ["family"] = last.Spec.Family,
                ["n_layers"] = last.Summary.NLayers,
                ["steps"] = Array(ordered.Select(m => m.Spec.Step ?? 0)),
                ["boundaries"] = new JsonArray(bounds.Select(b => (JsonNode?)Array(b)).ToArray()),
                ["settled_run"] = run,
                ["settled_at_step"] = run == 0 ? null : JsonValue.Create(ordered[settledIndex].Spec.Step ?? 0),
                ["settled_fraction_of_training"] = run == 0 || finalStep == 0 ? null : Num((ordered[settledIndex].Spec.Step ?? 0) / (double)finalStep, "fraction"),
            };
        }
        var rng = c.Random(Id);
        int atLeast = 0, draws = c.Resamples;
        var random = new List<int[]>();
        for (int r = 0; r < draws; r++)
        {
            int total = 0;
            foreach (var (pairs, n) in nulls)
            {
                random.Clear();
                for (int k = 0; k < n; k++) { var (b1, b2) = pairs[rng.NextInt(pairs.Length)]; random.Add([b1, b2]); }
                total += SettledRun(random);
            }
            if (total >= observed) atLeast++;
        }
        double p = (atLeast + 1.0) / (draws + 1.0);
        numbers["settled_run_total"] = observed;
        numbers["null_draws"] = draws;
        bool supported = p <= Alpha;
        return new Prediction(Id, Statement, supported ? Verdict.Supported : Verdict.NotSupported, Threshold, Null, p, null,
            $"summed settled run {observed} over {students.Count} student(s); random boundaries reach it with p {p:0.###}", numbers);
    }

    /// <summary>How many checkpoints before the last agree with it within ±1 layer on both boundaries, counted back from the end.</summary>
    public static int SettledRun(IReadOnlyList<int[]> boundaries)
    {
        var final = boundaries[^1];
        int run = 0;
        for (int i = boundaries.Count - 2; i >= 0; i--)
        {
            var b = boundaries[i];
            if (b.Length == final.Length && b.Zip(final).All(x => Math.Abs(x.First - x.Second) <= 1)) run++;
            else break;
        }
        return run;
    }
}
