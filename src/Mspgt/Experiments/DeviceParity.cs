using System.Text.Json;
using System.Text.Json.Serialization;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Models.Gpu;

namespace Mspgt.Experiments;

/// <summary>
/// `mspgt bench --parity SHARED`: the forward pass on a device against the F32 goldens of the shared fixtures
/// (tiny-llama, tiny-qwen2, tiny-qwen3, tiny-llama3 and stories260K; schema llm-fixture-golden/1), last-position
/// logits. f32: within the fixtures' tolerance |Δ| ≤ 1e-4 + 1e-4·|golden|, same argmax. bf16/f16: see
/// <see cref="HalfTolerance"/>. Run on a GPU machine by scripts/gpu-check.sh.
/// </summary>
public static class DeviceParity
{
    /// <summary>The fixtures' documented tolerance for F32 logits (f32 on the device: cuBLAS SGEMM, TF32 off).</summary>
    public const double F32Atol = 1e-4, F32Rtol = 1e-4;

    /// <summary>
    /// The bf16/f16 tolerance, derived per case from a measured reference rather than fixed: r_w, the largest
    /// |Δlogit| between the golden and the CPU's f32 forward pass over the weights rounded as the upload rounds them
    /// (<see cref="GpuWeights.AsStored"/>). The device also rounds each product's activation operand, a perturbation
    /// of the same relative size (half an ulp of the same type) entering the same products; to first order the logit
    /// error is linear in these perturbations, so it stays within about twice the weight-only error: allowed =
    /// <see cref="HalfFactor"/>·r_w + <see cref="HalfAtol"/> (f32 accumulation order, second-order terms). And a floor:
    /// the error must be at least <see cref="HalfFloor"/>·r_w, which a pass silently run in f32 (error ~1e-5) is not.
    /// The argmax is recorded, not required: rounding may swap the top two of a close pair.
    /// </summary>
    public const double HalfFactor = 3, HalfAtol = 1e-3, HalfFloor = 0.1;

    /// <summary>Whether a 16-bit pass's max |Δlogit| <paramref name="diff"/> is within bounds, given the weight-only <paramref name="weightsOnly"/>.</summary>
    public static bool HalfWithin(double diff, double weightsOnly) =>
        diff <= HalfFactor * weightsOnly + HalfAtol && diff >= HalfFloor * weightsOnly;

    public static readonly (string Model, string Golden)[] Fixtures =
    [
        ("fixtures/tiny-llama", "fixtures/tiny-llama/golden.json"),
        ("fixtures/tiny-qwen2", "fixtures/tiny-qwen2/golden.json"),
        ("fixtures/tiny-qwen3", "fixtures/tiny-qwen3/golden.json"),
        ("fixtures/tiny-llama3", "fixtures/tiny-llama3/golden.json"),
        ("models/stories260K/stories260K.bin", "models/stories260K/golden.json"),
    ];

    public sealed record Case(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("sequence")] string Sequence,
        [property: JsonPropertyName("tokens")] int Tokens,
        [property: JsonPropertyName("max_abs_diff")] double MaxAbsDiff,
        [property: JsonPropertyName("argmax_matches")] bool ArgmaxMatches,
        [property: JsonPropertyName("passed")] bool Passed,
        [property: JsonPropertyName("weights_rounded_cpu_diff"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? WeightsOnly = null,
        [property: JsonPropertyName("allowed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Allowed = null);

    public sealed record Result(
        [property: JsonPropertyName("device")] string Device,
        [property: JsonPropertyName("dtype")] string Dtype,
        [property: JsonPropertyName("tolerance")] string Tolerance,
        [property: JsonPropertyName("cases")] IReadOnlyList<Case> Cases,
        [property: JsonPropertyName("passed")] bool Passed);

    /// <param name="shared">The folder holding fixtures/ and models/ (the repository's ../shared).</param>
    public static Result Run(string shared, DeviceSpec spec, ComputeType? dtype = null, Action<string>? note = null)
    {
        var cases = new List<Case>();
        string device = "cpu";
        var type = ComputeType.F32;
        foreach (var (model, golden) in Fixtures)
        {
            string goldenPath = Path.Combine(shared, golden);
            if (!File.Exists(goldenPath)) throw new MspgtException(goldenPath, "golden file not found (give the folder that holds fixtures/ and models/)");
            using var m = ModelLoader.Load(Path.Combine(shared, model), loadTokenizer: false);
            m.UseDevice(spec, dtype, note);
            device = m.Decoder.Device;
            type = m.Decoder is GpuTransformer g ? g.Dtype : ComputeType.F32;
            var rounded = type == ComputeType.F32 ? null : new Transformer(m.Config, GpuWeights.AsStored(m.Weights, type));
            foreach (var (sequence, ids, want) in F32Cases(goldenPath))
            {
                var got = m.Decoder.Forward(ids, null, null, LogitRows.Last);
                if (rounded != null)
                {
                    double diff = MaxDiff(got, want), weightsOnly = MaxDiff(rounded.Forward(ids, null, null, LogitRows.Last), want);
                    bool top = got.Length == want.Length && Numerics.Kernels.ArgMax(got) == ArgMax(want);
                    cases.Add(new Case(model, sequence, ids.Length, diff, top, HalfWithin(diff, weightsOnly), weightsOnly,
                        HalfFactor * weightsOnly + HalfAtol));
                    continue;
                }
                double max = 0;
                bool ok = got.Length == want.Length;
                for (int i = 0; ok && i < want.Length; i++)
                {
                    double d = Math.Abs(got[i] - want[i]);
                    max = Math.Max(max, d);
                    if (!(d <= F32Atol + F32Rtol * Math.Abs(want[i]))) ok = false;
                }
                bool argmax = got.Length == want.Length && Numerics.Kernels.ArgMax(got) == ArgMax(want);
                cases.Add(new Case(model, sequence, ids.Length, max, argmax, ok && argmax));
            }
        }
        string tolerance = type == ComputeType.F32
            ? $"|Δlogit| ≤ {F32Atol:G} + {F32Rtol:G}·|golden| (f32)"
            : $"{HalfFloor:G}·r_w ≤ max |Δlogit| ≤ {HalfFactor:G}·r_w + {HalfAtol:G}, r_w = max |Δlogit| of the CPU f32 pass over the weights rounded to {DeviceChoice.Name(type)}";
        return new Result(device, DeviceChoice.Name(type), tolerance, cases, cases.Count > 0 && cases.All(c => c.Passed));
    }

    static double MaxDiff(float[] got, double[] want)
    {
        if (got.Length != want.Length) return double.PositiveInfinity;
        double max = 0;
        for (int i = 0; i < want.Length; i++) max = Math.Max(max, Math.Abs(got[i] - want[i]));
        return double.IsNaN(max) || got.Any(float.IsNaN) ? double.PositiveInfinity : max;
    }

    static int ArgMax(double[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /// <summary>The cases with weights "f32": their sequence name, ids and last-position logits.</summary>
    static IEnumerable<(string Sequence, int[] Ids, double[] Logits)> F32Cases(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var list = new List<(string, int[], double[])>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.TryGetProperty("weights", out var w) && w.GetString() != "f32") continue;
            string seq = c.TryGetProperty("sequence", out var s) ? s.GetString() ?? "" : "";
            list.Add((seq, c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                c.GetProperty("logits_last").EnumerateArray().Select(x => x.GetDouble()).ToArray()));
        }
        if (list.Count == 0) throw new MspgtException(path, "no f32 case in the golden file");
        return list;
    }
}
