using System.Text.Json;

namespace Mspgt.Tests;

/// <summary>A case of a shared golden.json (schema llm-fixture-golden/1).</summary>
public sealed record GoldenCase(
    string Sequence, string Weights, string? File, string? Text, int[] Ids, double[] LogitsLast, int[]? Argmax,
    int? ArgmaxLast, double? Nll, double[]? ResidualNorms, double[]? AttnEntropy, double[]? AttnDistance,
    int? HiddenBlock, int? HiddenPosition, double[]? HiddenValues);

public static class Golden
{
    public static IReadOnlyList<GoldenCase> Load(string path)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(path));
        var list = new List<GoldenCase>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            double[]? D(string n) => c.TryGetProperty(n, out var v) ? v.EnumerateArray().Select(x => x.GetDouble()).ToArray() : null;
            int[]? I(string n) => c.TryGetProperty(n, out var v) ? v.EnumerateArray().Select(x => x.GetInt32()).ToArray() : null;
            string? S(string n) => c.TryGetProperty(n, out var v) ? v.GetString() : null;
            int? hb = null, hp = null; double[]? hv = null;
            if (c.TryGetProperty("hidden_state", out var hs))
            {
                hb = hs.GetProperty("block").GetInt32();
                hp = hs.GetProperty("position").GetInt32();
                hv = hs.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            }
            list.Add(new GoldenCase(S("sequence") ?? "", S("weights") ?? "", S("file"), S("text"), I("ids")!, D("logits_last")!,
                I("argmax"), c.TryGetProperty("argmax_last", out var al) ? al.GetInt32() : null,
                c.TryGetProperty("nll", out var nl) ? nl.GetDouble() : null,
                D("residual_norms"), D("attn_entropy"), D("attn_distance"), hb, hp, hv));
        }
        return list;
    }

    /// <summary>The fixtures' documented tolerance: |got − want| ≤ 1e-4 + 1e-4·|want|.</summary>
    public static void Close(IReadOnlyList<double> want, IReadOnlyList<double> got, string what, double atol = 1e-4, double rtol = 1e-4)
    {
        Assert.True(want.Count == got.Count, $"{what}: length {got.Count}, expected {want.Count}");
        for (int i = 0; i < want.Count; i++)
        {
            double tol = atol + rtol * Math.Abs(want[i]);
            Assert.True(Math.Abs(got[i] - want[i]) <= tol, $"{what}[{i}]: got {got[i]:R}, want {want[i]:R} (tol {tol:G3})");
        }
    }
}
