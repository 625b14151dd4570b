namespace Mspgt.Tests.Scales;

/// <summary>The kinds of per-layer curves the calibration tests use.</summary>
internal enum PanelKind
{
    /// <summary>Sigmoid plus a line per signal family, no jump.</summary>
    Smooth,
    /// <summary>Constant means: nothing but noise.</summary>
    Flat,
    /// <summary>Two real jumps on top of within-segment linear trends.</summary>
    TwoJumps,
}

/// <summary>
/// Per-document signal curves with known truth, in the regime the analysis really works in (the design of
/// shared/docs/calibration-notes.md): 16 documents, 8 signals in 4 families of redundant pairs (the second member
/// a scaled, sign-flipped copy of the first, as distance and entropy or rank and TwoNN are), noise SD 1 per document
/// and cell with a per-document offset per signal (so a document's values are correlated across layers), optionally
/// AR(1) across layers and growing with depth. In standard-error units (σ/√16 = 0.25) the sigmoids rise 4–16, the
/// jumps are 6–8 (defaults) and the trends move 0–8 over the depth.
/// </summary>
internal static class SyntheticPanels
{
    public const int Documents = 16, Families = 4, Signals = 8;

    public static string[] Names => Enumerable.Range(0, Signals).Select(i => $"s{i}").ToArray();

    public static IReadOnlyDictionary<string, string> FamilyOf => Names.ToDictionary(n => n, n => "f" + int.Parse(n[1..]) / 2);

    public sealed record Panel(double[,,] Documents, int[] Planted);

    public static Panel Make(PanelKind kind, int layers, int seed, double jumpLow = 1.5, double jumpHigh = 2.0,
        double autocorrelation = 0, bool noiseGrowsWithDepth = false)
    {
        var rng = new Random(seed);
        int L = layers;
        int[] planted = [];
        if (kind == PanelKind.TwoJumps)
        {
            int min = L >= 9 ? Math.Max(3, L / 6) : Math.Max(1, L / 3);
            int b1 = rng.Next(min, L - 2 * min + 1);
            int b2 = rng.Next(b1 + min, L - min + 1);
            planted = [b1, b2];
        }
        var means = new double[L, Signals];
        for (int f = 0; f < Families; f++)
        {
            var curve = new double[L];
            switch (kind)
            {
                case PanelKind.Smooth:
                {
                    double a = 1 + 3 * rng.NextDouble(), centre = L * (0.25 + 0.5 * rng.NextDouble());
                    double width = L * (0.08 + 0.12 * rng.NextDouble()), slope = rng.NextDouble() * 4 - 2;
                    for (int l = 0; l < L; l++) curve[l] = a / (1 + Math.Exp(-(l - centre) / width)) + slope * l / L;
                    break;
                }
                case PanelKind.TwoJumps:
                {
                    double level = 0, slope = (rng.NextDouble() * 2 - 1) * 2.0 / L;
                    int next = 0;
                    for (int l = 0; l < L; l++)
                    {
                        if (next < 2 && l == planted[next])
                        {
                            level += (rng.Next(2) == 0 ? 1 : -1) * (jumpLow + (jumpHigh - jumpLow) * rng.NextDouble());
                            slope = (rng.NextDouble() * 2 - 1) * 2.0 / L;
                            next++;
                        }
                        level += slope;
                        curve[l] = level;
                    }
                    break;
                }
            }
            for (int l = 0; l < L; l++) { means[l, 2 * f] = curve[l]; means[l, 2 * f + 1] = -0.7 * curve[l] + 3; }
        }
        var docs = new double[Documents, L, Signals];
        for (int d = 0; d < Documents; d++)
        {
            var offset = new double[Signals];
            var previous = new double[Signals];
            for (int s = 0; s < Signals; s++) offset[s] = 0.3 * Synthetic.Gaussian(rng);
            for (int l = 0; l < L; l++)
                for (int s = 0; s < Signals; s++)
                {
                    double e = Synthetic.Gaussian(rng);
                    if (autocorrelation > 0 && l > 0) e = autocorrelation * previous[s] + Math.Sqrt(1 - autocorrelation * autocorrelation) * e;
                    previous[s] = e;
                    double sd = noiseGrowsWithDepth ? 0.3 + 2.0 * l / L : 1;
                    docs[d, l, s] = means[l, s] + offset[s] + sd * e;
                }
        }
        return new Panel(docs, planted);
    }
}
