using System.Text.Json.Serialization;
using Mspgt.Numerics;

namespace Mspgt.Scales;

/// <summary>One step of the sequential test for the number of boundaries.</summary>
/// <param name="K">The number of boundaries this step decides for (K boundaries against <see cref="Null"/>).</param>
/// <param name="Null">The null model the replicates were drawn from.</param>
/// <param name="StatisticName">What <see cref="Statistic"/> is.</param>
/// <param name="PValue">Parametric-bootstrap p-value, (1 + #{replicate ≥ observed}) / (B + 1).</param>
public sealed record KTest(
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("null")] string Null,
    [property: JsonPropertyName("statistic_name")] string StatisticName,
    [property: JsonPropertyName("statistic")] double Statistic,
    [property: JsonPropertyName("p_value")] double PValue,
    [property: JsonPropertyName("replicates")] int Replicates);

/// <summary>The best fit with exactly K boundaries and how it compares with the smooth null.</summary>
/// <param name="Cost">Weighted RSS of the piecewise-linear fit, in squared standard errors.</param>
/// <param name="StatisticVsSmooth">RSS(smooth null) − RSS(this fit): how much better K boundaries fit than the smooth curve.</param>
/// <param name="PValueVsSmooth">Its parametric-bootstrap p-value under the smooth null (this K alone, not adjusted over K).</param>
public sealed record KFitTest(
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("min_segment_length")] int MinSegmentLength,
    [property: JsonPropertyName("boundaries")] int[] Boundaries,
    [property: JsonPropertyName("cost")] double Cost,
    [property: JsonPropertyName("statistic_vs_smooth")] double StatisticVsSmooth,
    [property: JsonPropertyName("p_value_vs_smooth")] double PValueVsSmooth);

/// <summary>Everything <see cref="CalibratedSelection"/> decided, with the numbers behind it.</summary>
public sealed record SelectionResult(
    int KSelected, int KMax, IReadOnlyList<KTest> Tests, IReadOnlyList<KFitTest> PerK, IReadOnlyList<KFitTest> Forced,
    double SmoothCost, SmoothFit[] SmoothFits, double PeltPenalty);

/// <summary>
/// Chooses the number of boundaries K by sequential parametric-bootstrap tests against smooth nulls, so that
/// K = 0 is a possible answer and "more segments fit better" is never evidence by itself.
/// <para><b>Model.</b> Signals in standard-error units (<see cref="SignalPanel"/>), weighted (<see cref="SignalFusion.Weights"/>),
/// fitted jointly with change points shared by all signals and a line per signal and segment
/// (<see cref="LinearTrendCost"/>, exact dynamic programming, segments of at least m layers, K ≤ K_max capped by
/// what L layers can hold).</para>
/// <para><b>Step 0: smooth null against any K.</b> H0: every signal is a smooth curve of at most
/// <c>MaxEdf</c> effective degrees of freedom (<see cref="WhittakerSmoother"/>, τ by GCV). Statistic per K:
/// T_K = RSS(smooth) − RSS(best K-boundary fit). Replicates: the fitted smooth curves plus whole-document residual
/// vectors resampled with replacement and scaled by √(D/(D−1)) (every signal and layer of a document moves
/// together, so the documents' own correlation and heteroscedasticity are kept; one curve without documents gets
/// Gaussian noise of its difference-based level), with the standard errors re-estimated in every replicate and the
/// smoother refitted. A single change point can fit worse than the smooth curve when there are two jumps, so the
/// test combines all K by the smallest per-K p-value, calibrated by the same replicates (min-p, Westfall–Young).</para>
/// <para><b>Step j ≥ 1: j+1 against j boundaries.</b> H0: j boundaries (those of the best j-boundary fit) with a
/// smooth curve of at most <c>MaxEdf</c> degrees of freedom within each segment; statistic
/// U = RSS(best j fit) − RSS(best j+1 fit); replicates drawn from that null as above.</para>
/// <para>K_selected is the number of consecutive rejections at level α (0 when step 0 does not reject). Each step
/// uses its own seeded random stream per replicate, so results depend only on data, settings and seed, not on the
/// thread count. A reference run of this design (shared/docs/calibration-notes.md) rejected a true 5% null 2–3%
/// of the time: slightly conservative.</para>
/// </summary>
public sealed class CalibratedSelection
{
    private readonly SignalPanel _p;
    private readonly double[] _w;
    private readonly BoundaryOptions _o;
    private readonly int _kMax;
    private readonly double[] _residuals;   // D × L × S: x − mean (documents only)
    private readonly int[] _used;

    private CalibratedSelection(SignalPanel panel, double[] weights, BoundaryOptions options, int kMax)
    {
        _p = panel;
        _w = weights;
        _o = options;
        _kMax = kMax;
        _used = Enumerable.Range(0, panel.Signals).Where(s => weights[s] > 0).ToArray();
        int ls = panel.Layers * panel.Signals;
        _residuals = new double[panel.Values.Length];
        for (int d = 0; d < panel.Documents; d++)
            for (int k = 0; k < ls; k++) _residuals[d * ls + k] = panel.Values[d * ls + k] - panel.Mean[k];
    }

    /// <summary>
    /// Runs the sequential test. <paramref name="forced"/>: extra fits to report with their p-value against the
    /// smooth null, as (K, minimum segment length) pairs.
    /// </summary>
    public static SelectionResult Run(SignalPanel panel, double[] weights, BoundaryOptions options, int kMax, IReadOnlyList<(int K, int MinSize)> forced)
        => new CalibratedSelection(panel, weights, options, kMax).Execute(forced);

    private SelectionResult Execute(IReadOnlyList<(int K, int MinSize)> forced)
    {
        int L = _p.Layers, S = _p.Signals, B = _o.NullReplicates, m = _o.MinSegmentLength;
        var z = _p.Standardized();
        var cost = new LinearTrendCost(L, S, z, _w);
        var dp = OptimalSegmentation.Fit(cost, Math.Max(_kMax, 1), m);
        var smoothFits = new SmoothFit[S];
        var smooth = SmoothCurves(z, [], smoothFits);
        double rssSmooth = WeightedRss(smoothFits);

        // Step 0: replicates from the smooth null; per replicate T_K for every K and every forced fit.
        var nullMean = Raw(smooth);
        int nForced = forced.Count;
        var tStar = new double[_kMax + 1, B];   // T*_K, K ≥ 1
        var fStar = new double[nForced, B];
        var u1Star = new double[B];
        RunReplicates(0, nullMean, (w, b) =>
        {
            var fits = new SmoothFit[S];
            double rs = SmoothCostOf(w, fits);
            var rdp = OptimalSegmentation.Fit(w.Cost!, Math.Max(_kMax, 1), m);
            for (int k = 1; k <= _kMax; k++) tStar[k, b] = rs - rdp.OptimalCost(k);
            u1Star[b] = rdp.OptimalCost(0) - (rdp.MaxChangePoints >= 1 ? rdp.OptimalCost(1) : rdp.OptimalCost(0));
            for (int f = 0; f < nForced; f++)
            {
                var (k, mf) = forced[f];
                var fdp = mf == m && k <= rdp.MaxChangePoints ? rdp : OptimalSegmentation.Fit(w.Cost!, k, mf);
                fStar[f, b] = rs - fdp.OptimalCost(k);
            }
        });

        var perK = new List<KFitTest>();
        var pK = new double[_kMax + 1];
        for (int k = 1; k <= _kMax; k++)
        {
            var seg = dp.Predict(k);
            double t = rssSmooth - seg.Cost;
            pK[k] = PValue(t, Row(tStar, k));
            perK.Add(new KFitTest(k, m, seg.Boundaries, seg.Cost, t, pK[k]));
        }
        var forcedTests = new List<KFitTest>();
        for (int f = 0; f < nForced; f++)
        {
            var (k, mf) = forced[f];
            var seg = (mf == m && k <= dp.MaxChangePoints ? dp : OptimalSegmentation.Fit(cost, k, mf)).Predict(k);
            double t = rssSmooth - seg.Cost;
            forcedTests.Add(new KFitTest(k, mf, seg.Boundaries, seg.Cost, t, PValue(t, Row(fStar, f))));
        }

        var tests = new List<KTest>();
        int selected = 0;
        if (_kMax >= 1)
        {
            double minP = Enumerable.Range(1, _kMax).Min(k => pK[k]);
            double adjusted = MinPAdjusted(minP, tStar);
            tests.Add(new KTest(1, $"smooth curves (each ≤ {Fmt(_o.MaxEdf)} effective degrees of freedom, τ by GCV)",
                $"smallest per-K p-value over K = 1..{_kMax} of RSS(smooth) − RSS(K boundaries)", minP, adjusted, B));
            if (adjusted <= _o.Alpha)
            {
                selected = 1;
                for (int j = 1; j < _kMax; j++)
                {
                    var test = StepTest(j, z, dp);
                    tests.Add(test);
                    if (test.PValue > _o.Alpha) break;
                    selected = j + 1;
                }
            }
        }

        var sortedU = u1Star.ToArray();
        Array.Sort(sortedU);
        double penalty = Math.Max(0, Quantile(sortedU, 1 - _o.Alpha));
        return new SelectionResult(selected, _kMax, tests, perK, forcedTests, rssSmooth, smoothFits, penalty);
    }

    /// <summary>Step j: j+1 against j boundaries, replicates from j boundaries with smooth segments.</summary>
    private KTest StepTest(int j, double[] z, OptimalSegmentation dp)
    {
        int B = _o.NullReplicates, m = _o.MinSegmentLength;
        var nullSeg = dp.Predict(j);
        double u = dp.OptimalCost(j) - dp.OptimalCost(j + 1);
        var nullMean = Raw(SmoothCurves(z, nullSeg.Boundaries, new SmoothFit[_p.Signals]));
        var uStar = new double[B];
        RunReplicates(j, nullMean, (w, b) =>
        {
            var rdp = OptimalSegmentation.Fit(w.Cost!, j + 1, m);
            uStar[b] = rdp.OptimalCost(j) - rdp.OptimalCost(j + 1);
        });
        string at = string.Join(", ", nullSeg.Boundaries);
        return new KTest(j + 1, $"{j} boundar{(j == 1 ? "y" : "ies")} (at {at}) with smooth segments (each ≤ {Fmt(_o.MaxEdf)} effective degrees of freedom)",
            $"RSS({j} boundar{(j == 1 ? "y" : "ies")}) − RSS({j + 1} boundaries)", u, PValue(u, uStar), B);
    }

    // ---------------------------------------------------------------- replicates

    /// <summary>Per-thread buffers of one replicate.</summary>
    private sealed class Worker(int l, int s, int d)
    {
        public readonly double[] Z = new double[l * s];
        public readonly double[] Acc = new double[l * s];
        public readonly double[] AccSq = new double[l * s];
        public readonly double[] Curve = new double[l];
        public readonly double[] Fitted = new double[l];
        public readonly double[] Scratch = new double[l];
        public readonly int[] Draw = new int[d];
        public LinearTrendCost? Cost;
    }

    private void RunReplicates(int step, double[] nullMean, Action<Worker, int> statistic)
    {
        int L = _p.Layers, S = _p.Signals, D = _p.Documents;
        Parallel.For(0, _o.NullReplicates, Mspgt.Numerics.Parallelism.Options, () => new Worker(L, S, D), (b, _, w) =>
        {
            var rng = SplitMix64.ForStream(_o.Seed, ((ulong)(step + 1) << 32) | (uint)b);
            Generate(nullMean, ref rng, w);
            if (w.Cost is null) w.Cost = new LinearTrendCost(L, S, w.Z, _w);
            else w.Cost.Reset(w.Z);
            statistic(w, b);
            return w;
        }, _ => { });
    }

    /// <summary>One replicate of the standardised mean curve under a null mean (raw units), into <c>w.Z</c>.</summary>
    private void Generate(double[] nullMean, ref SplitMix64 rng, Worker w)
    {
        int L = _p.Layers, S = _p.Signals, D = _p.Documents, ls = L * S;
        bool documents = D >= 2;
        if (documents)
        {
            // Whole documents: every layer and signal of a drawn residual vector moves together.
            Array.Clear(w.Acc);
            Array.Clear(w.AccSq);
            for (int i = 0; i < D; i++) w.Draw[i] = rng.NextInt(D);
            foreach (int doc in w.Draw)
            {
                var r = _residuals.AsSpan(doc * ls, ls);
                for (int k = 0; k < ls; k++) { double v = r[k]; w.Acc[k] += v; w.AccSq[k] += v * v; }
            }
        }
        double inflate = documents ? Math.Sqrt(D / (D - 1.0)) : 1;
        foreach (int s in _used)
        {
            double sigma;
            if (_p.Noise[s] == NoiseSource.Documents)
            {
                double v = 0;
                for (int l = 0; l < L; l++)
                {
                    int k = l * S + s;
                    double mean = w.Acc[k] / D;
                    w.Curve[l] = nullMean[k] + inflate * mean;
                    v += inflate * inflate * (w.AccSq[k] - D * mean * mean) / (D - 1);
                }
                sigma = Math.Sqrt(Math.Max(v, 0) / L / D);
            }
            else
            {
                for (int l = 0; l < L; l++) w.Curve[l] = nullMean[l * S + s] + _p.NoiseSd[s] * rng.NextGaussian();
                double range = w.Curve.Max() - w.Curve.Min();
                sigma = SignalPanel.DifferenceNoiseSd(w.Curve, range);
            }
            // A replicate whose drawn documents all agree has no spread: keep its scale finite.
            sigma = Math.Max(sigma, 1e-6 * _p.NoiseSd[s]);
            for (int l = 0; l < L; l++) w.Z[l * S + s] = w.Curve[l] / sigma;
        }
    }

    private double SmoothCostOf(Worker w, SmoothFit[] fits)
    {
        int L = _p.Layers, S = _p.Signals;
        var smoother = WhittakerSmoother.For(L);
        foreach (int s in _used)
        {
            for (int l = 0; l < L; l++) w.Curve[l] = w.Z[l * S + s];
            fits[s] = smoother.Fit(w.Curve, _o.MaxEdf, w.Fitted, w.Scratch);
        }
        return WeightedRss(fits);
    }

    // ---------------------------------------------------------------- null means

    /// <summary>Smooth fit of every used signal of z within each segment given by <paramref name="boundaries"/>
    /// (standard-error units); per-signal fit summaries (summed over segments) go to <paramref name="fits"/>.</summary>
    private double[] SmoothCurves(double[] z, int[] boundaries, SmoothFit[] fits)
    {
        int L = _p.Layers, S = _p.Signals;
        var result = new double[L * S];
        var bounds = new List<int> { 0 };
        bounds.AddRange(boundaries);
        bounds.Add(L);
        foreach (int s in _used)
        {
            double rss = 0, edf = 0, tau = 0;
            for (int g = 0; g + 1 < bounds.Count; g++)
            {
                int a = bounds[g], n = bounds[g + 1] - a;
                var y = new double[n];
                var fitted = new double[n];
                for (int i = 0; i < n; i++) y[i] = z[(a + i) * S + s];
                var fit = WhittakerSmoother.For(n).Fit(y, _o.MaxEdf, fitted, new double[n]);
                for (int i = 0; i < n; i++) result[(a + i) * S + s] = fitted[i];
                rss += fit.Rss; edf += fit.Edf; tau = fit.Tau;
            }
            fits[s] = new SmoothFit(boundaries.Length == 0 ? tau : double.NaN, edf, rss);
        }
        return result;
    }

    /// <summary>Standard-error units back to the signals' own units.</summary>
    private double[] Raw(double[] zCurve)
    {
        int L = _p.Layers, S = _p.Signals;
        var raw = new double[L * S];
        for (int l = 0; l < L; l++)
            for (int s = 0; s < S; s++) raw[l * S + s] = zCurve[l * S + s] * _p.NoiseSd[s];
        return raw;
    }

    private double WeightedRss(SmoothFit[] fits)
    {
        double total = 0;
        foreach (int s in _used) total += _w[s] * fits[s].Rss;
        return total;
    }

    // ---------------------------------------------------------------- p-values

    /// <summary>(1 + #{replicates ≥ observed}) / (B + 1), with a relative tolerance so that rounding-level ties count.</summary>
    internal static double PValue(double observed, ReadOnlySpan<double> replicates)
    {
        double threshold = observed - 1e-9 * (1 + Math.Abs(observed));
        int count = 0;
        foreach (double r in replicates) if (r >= threshold) count++;
        return (1.0 + count) / (replicates.Length + 1.0);
    }

    /// <summary>
    /// The min-p statistic's own p-value: each replicate's per-K p-values come from its rank among the replicates
    /// (#{b′: T*_K(b′) ≥ T*_K(b)} / B), their minimum over K is that replicate's min-p, and the observed min-p is
    /// compared with them: (1 + #{replicate min-p ≤ observed}) / (B + 1).
    /// </summary>
    private double MinPAdjusted(double observedMinP, double[,] tStar)
    {
        int B = tStar.GetLength(1);
        var minP = new double[B];
        Array.Fill(minP, 1.0);
        for (int k = 1; k <= _kMax; k++)
        {
            var row = Row(tStar, k);
            var sorted = row.ToArray();
            Array.Sort(sorted);
            for (int b = 0; b < B; b++)
            {
                // #{b′: T ≥ T(b)} = B − (index of the first element ≥ T(b)).
                int first = LowerBound(sorted, row[b] - 1e-9 * (1 + Math.Abs(row[b])));
                minP[b] = Math.Min(minP[b], (double)(B - first) / B);
            }
        }
        int count = minP.Count(p => p <= observedMinP * (1 + 1e-12));
        return (1.0 + count) / (B + 1.0);
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi) { int mid = (lo + hi) / 2; if (sorted[mid] < value) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private static double[] Row(double[,] a, int r)
    {
        var row = new double[a.GetLength(1)];
        for (int b = 0; b < row.Length; b++) row[b] = a[r, b];
        return row;
    }

    /// <summary>Type-7 quantile of sorted values.</summary>
    internal static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return 0;
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        if (lo >= sorted.Length - 1) return sorted[^1];
        return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
    }

    private static string Fmt(double v) => v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}
