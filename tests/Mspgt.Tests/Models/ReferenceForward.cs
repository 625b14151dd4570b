using Mspgt.Models;

namespace Mspgt.Tests.Models;

/// <summary>
/// A deliberately naive double-precision forward pass written straight from the fixtures README, used to check
/// that editing a hook changes downstream values exactly as a manual re-computation would.
/// Optional overrides: zero a layer's attention output, or replace its attention pattern with uniform weights.
/// </summary>
internal sealed class ReferenceForward
{
    private readonly ModelConfig _c;
    private readonly ModelWeights _w;
    public HashSet<int> ZeroAttnOut { get; } = [];
    public HashSet<int> UniformPattern { get; } = [];
    /// <summary>Sliding window: query t sees keys t−Window+1..t (null = all).</summary>
    public int? Window { get; init; }

    public ReferenceForward(ModelConfig c, ModelWeights w) { _c = c; _w = w; }

    private static double[] Mat(Mspgt.Numerics.WeightMatrix m) => m.ToFloats().Select(v => (double)v).ToArray();

    private double[] Linear(double[] x, Mspgt.Numerics.WeightMatrix m, float[]? bias)
    {
        var w = Mat(m);
        var y = new double[m.Rows];
        for (int r = 0; r < m.Rows; r++)
        {
            double s = bias?[r] ?? 0;
            for (int k = 0; k < m.Cols; k++) s += w[r * m.Cols + k] * x[k];
            y[r] = s;
        }
        return y;
    }

    private double[] Rms(double[] x, float[] w)
    {
        double ms = x.Sum(v => v * v) / x.Length;
        double inv = 1 / Math.Sqrt(ms + _c.NormEps);
        return x.Select((v, i) => v * inv * w[i]).ToArray();
    }

    private void RopeInPlace(double[] v, int offset, int pos, Rope rope)
    {
        int half = _c.HeadDim / 2;
        for (int i = 0; i < half; i++)
        {
            double a = pos * rope.InverseFrequencies[i];
            double x0 = v[offset + i], x1 = v[offset + i + half];
            v[offset + i] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
            v[offset + i + half] = x1 * Math.Cos(a) + x0 * Math.Sin(a);
        }
    }

    /// <summary>Runs layers [from, Layers) on residuals x (T rows) and returns logits (T rows).</summary>
    public double[][] RunFrom(int from, double[][] x)
    {
        var c = _c;
        int T = x.Length, hd = c.HeadDim, group = c.Heads / c.KvHeads;
        var rope = new Rope(c, _w.RopeFreqFactors);
        x = x.Select(r => (double[])r.Clone()).ToArray();
        for (int l = from; l < c.Layers; l++)
        {
            var L = _w.Layers[l];
            var qs = new double[T][]; var ks = new double[T][]; var vs = new double[T][];
            for (int t = 0; t < T; t++)
            {
                var h = Rms(x[t], L.AttnNorm);
                qs[t] = Linear(h, L.Q, L.QBias); ks[t] = Linear(h, L.K, L.KBias); vs[t] = Linear(h, L.V, L.VBias);
                for (int head = 0; head < c.Heads; head++)
                {
                    if (L.QNorm != null) { var seg = Rms(qs[t][(head * hd)..((head + 1) * hd)], L.QNorm); seg.CopyTo(qs[t], head * hd); }
                    RopeInPlace(qs[t], head * hd, t, rope);
                }
                for (int head = 0; head < c.KvHeads; head++)
                {
                    if (L.KNorm != null) { var seg = Rms(ks[t][(head * hd)..((head + 1) * hd)], L.KNorm); seg.CopyTo(ks[t], head * hd); }
                    RopeInPlace(ks[t], head * hd, t, rope);
                }
            }
            for (int t = 0; t < T; t++)
            {
                var z = new double[c.QDim];
                for (int head = 0; head < c.Heads; head++)
                {
                    int kv = head / group;
                    var p = new double[t + 1];
                    if (UniformPattern.Contains(l)) Array.Fill(p, 1.0 / (t + 1));
                    else
                    {
                        int lo = Window is int w ? Math.Max(0, t - w + 1) : 0;
                        for (int j = 0; j <= t; j++)
                        {
                            if (j < lo) { p[j] = double.NegativeInfinity; continue; }
                            double s = 0;
                            for (int d = 0; d < hd; d++) s += qs[t][head * hd + d] * ks[j][kv * hd + d];
                            p[j] = s / Math.Sqrt(hd);
                        }
                        double m = p.Max();
                        for (int j = 0; j <= t; j++) p[j] = Math.Exp(p[j] - m);
                        double sum = p.Sum();
                        for (int j = 0; j <= t; j++) p[j] /= sum;
                    }
                    for (int j = 0; j <= t; j++)
                        for (int d = 0; d < hd; d++) z[head * hd + d] += p[j] * vs[j][kv * hd + d];
                }
                if (!ZeroAttnOut.Contains(l))
                {
                    var o = Linear(z, L.O, null);
                    for (int d = 0; d < c.Dim; d++) x[t][d] += o[d];
                }
            }
            for (int t = 0; t < T; t++)
            {
                var h = Rms(x[t], L.FfnNorm);
                var g = Linear(h, L.Gate, null);
                var u = Linear(h, L.Up, null);
                var a = g.Select((v, i) => v / (1 + Math.Exp(-v)) * u[i]).ToArray();
                var dn = Linear(a, L.Down, null);
                for (int d = 0; d < c.Dim; d++) x[t][d] += dn[d];
            }
        }
        return x.Select(r => Linear(Rms(r, _w.FinalNorm), _w.Output, null)).ToArray();
    }

    public double[][] Embed(int[] ids)
    {
        var e = Mat(_w.Embedding);
        return ids.Select(id => e.Skip(id * _c.Dim).Take(_c.Dim).ToArray()).ToArray();
    }
}
