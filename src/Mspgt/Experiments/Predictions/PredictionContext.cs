using System.Text.Json.Nodes;
using Mspgt.Interventions.Statistics;
using Mspgt.Numerics;

namespace Mspgt.Experiments.Predictions;

/// <summary>What the predictions need from one analysed model.</summary>
public sealed record PredictionInput(StudyModelSpec Spec, AnalysisSummary Summary, StudyInterventionOutcome? Interventions);

/// <summary>
/// The models a study hands to its predictions, split the way every prediction needs them: random-weight controls
/// apart (they only ever serve as a null), and a student's earlier checkpoints only for P6.
/// </summary>
public sealed class PredictionContext
{
    /// <summary>Level of every prediction's test.</summary>
    public const double Alpha = 0.05;
    public const string LlamaFamily = "llama";
    public const string QwenFamily = "qwen";

    /// <summary>Every non-control model, every checkpoint included.</summary>
    public IReadOnlyList<PredictionInput> All { get; }
    /// <summary>Non-control models, a student only by its latest checkpoint.</summary>
    public IReadOnlyList<PredictionInput> Subjects { get; }
    public IReadOnlyList<PredictionInput> Controls { get; }
    public int Seed { get; }
    public int Resamples { get; }

    public PredictionContext(IReadOnlyList<PredictionInput> models, int seed, int resamples)
    {
        if (resamples < 100) throw new MspgtException("predictions", $"need at least 100 resamples, got {resamples}");
        All = models.Where(m => !m.Spec.Control).ToList();
        Controls = models.Where(m => m.Spec.Control).ToList();
        var latest = All.Where(m => m.Spec.Student is null).Concat(All.Where(m => m.Spec.Student is not null)
            .GroupBy(m => m.Spec.Student).Select(g => g.OrderBy(m => m.Spec.Step).Last())).ToHashSet();
        Subjects = All.Where(latest.Contains).ToList();
        Seed = seed;
        Resamples = resamples;
    }

    /// <summary>A seeded random stream of its own for each prediction (and purpose), independent of evaluation order.</summary>
    public SplitMix64 Random(string prediction, int purpose = 0)
    {
        ulong h = 1469598103934665603UL;
        foreach (char ch in prediction) h = unchecked((h ^ ch) * 1099511628211UL);
        return SplitMix64.ForStream(Seed, unchecked(h + (ulong)purpose));
    }

    /// <summary>The first model of every base, in study order: one network is not counted twice.</summary>
    public static IEnumerable<PredictionInput> Distinct(IEnumerable<PredictionInput> models) =>
        models.GroupBy(m => m.Spec.Base, StringComparer.Ordinal).Select(g => g.First());

    /// <summary>The one family label starting with <paramref name="prefix"/> ("llama" matches "Llama-2"); null if none.</summary>
    public static string? FamilyKey(IEnumerable<string> families, string prefix)
    {
        var matches = families.Where(f => f.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (matches.Count > 1)
            throw new MspgtException("predictions", $"several family labels start with \"{prefix}\" ({string.Join(", ", matches)}); use one label per family");
        return matches.FirstOrDefault();
    }

    public static bool SameFamily(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>Type-7 percentile interval of replicates at the given confidence.</summary>
    public static double[] Interval(IEnumerable<double> replicates, double confidence = 0.95)
    {
        var sorted = replicates.ToArray();
        System.Array.Sort(sorted);
        double a = (1 - confidence) / 2;
        return [PairedStatistics.Quantile(sorted, a), PairedStatistics.Quantile(sorted, 1 - a)];
    }

    /// <summary>A finite number as JSON; a non-finite one is a bug in the caller.</summary>
    public static JsonNode Num(double v, string what) =>
        double.IsFinite(v) ? JsonValue.Create(v) : throw new InvalidOperationException($"{what} is {v}");

    public static JsonArray Array(IEnumerable<double> values, string what) => new(values.Select(v => (JsonNode?)Num(v, what)).ToArray());

    public static JsonArray Array(IEnumerable<int> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
}

/// <summary>Draws from a model's bootstrap distribution of a boundary (counts per layer).</summary>
public sealed class BoundarySampler
{
    private readonly long[] _cumulative;

    public BoundarySampler(int[] counts)
    {
        _cumulative = new long[counts.Length];
        long run = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] < 0) throw new InvalidOperationException("negative bootstrap count");
            run += counts[i];
            _cumulative[i] = run;
        }
        if (run == 0) throw new InvalidOperationException("empty bootstrap boundary distribution");
    }

    public int Draw(ref SplitMix64 rng)
    {
        long u = rng.NextInt(checked((int)_cumulative[^1]));
        int layer = 0;
        while (_cumulative[layer] <= u) layer++;
        return layer;
    }
}

/// <summary>
/// Random two-boundary segmentations at a given depth, the null of P6 and P7: uniform over every valid pair
/// (b1, b2) with segments of at least <c>minSize</c> layers, i.e. what "boundaries that mean nothing" look like at
/// that depth. At 4 layers with segments of 1 every pair lies within one layer of every other, which is why a ±1
/// tolerance alone cannot fail there.
/// </summary>
public static class RandomBoundaries
{
    public static (int B1, int B2)[] All(int layers, int minSize)
    {
        var pairs = new List<(int, int)>();
        for (int b1 = minSize; b1 <= layers - 2 * minSize; b1++)
            for (int b2 = b1 + minSize; b2 <= layers - minSize; b2++) pairs.Add((b1, b2));
        if (pairs.Count == 0) throw new InvalidOperationException($"{layers} layers cannot hold three segments of {minSize}");
        return pairs.ToArray();
    }
}
