using Mspgt.Models;
using Mspgt.Training;

namespace Mspgt.Tests.Training;

/// <summary>
/// The decoder written naively in float64 over a flat parameter vector with <see cref="TrainingModel"/>'s layout
/// (Hugging Face semantics: RMSNorm, rotate-half RoPE, causal GQA, optional q/k/v bias and q/k norm, SwiGLU),
/// used as the function whose finite differences check the whole model's backward pass.
/// </summary>
internal sealed class ReferenceModel(TrainingModel layout)
{
    private readonly ModelConfig _c = layout.Config;

    public double MeanLoss(double[] p, int[] ids, int[] targets)
    {
        var logits = Logits(p, ids);
        int V = _c.Vocab;
        double L = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            var row = logits[t];
            double m = row.Max(), s = row.Sum(x => Math.Exp(x - m));
            L += m + Math.Log(s) - row[targets[t]];
        }
        return L / ids.Length;
    }

    public double[][] Logits(double[] p, int[] ids)
    {
        var c = _c;
        int T = ids.Length, D = c.Dim, hd = c.HeadDim, H = c.Heads, KvH = c.KvHeads, group = H / KvH, half = hd / 2;
        double[] Lin(double[] x, ParameterInfo w, ParameterInfo? b)
        {
            var y = new double[w.Rows];
            for (int r = 0; r < w.Rows; r++)
            {
                double s = b == null ? 0 : p[b.Offset + r];
                int row = w.Offset + r * w.Cols;
                for (int k = 0; k < w.Cols; k++) s += p[row + k] * x[k];
                y[r] = s;
            }
            return y;
        }
        double[] Rms(double[] x, int off, int n, ParameterInfo w)
        {
            double ms = 0; for (int i = 0; i < n; i++) ms += x[off + i] * x[off + i];
            double inv = 1 / Math.Sqrt(ms / n + c.NormEps);
            var y = new double[n]; for (int i = 0; i < n; i++) y[i] = x[off + i] * inv * p[w.Offset + i];
            return y;
        }
        void Rope(double[] v, int off, int pos)
        {
            for (int i = 0; i < half; i++)
            {
                double a = pos * (1.0 / Math.Pow(c.RopeTheta, 2.0 * i / hd));
                double x0 = v[off + i], x1 = v[off + i + half];
                v[off + i] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
                v[off + i + half] = x1 * Math.Cos(a) + x0 * Math.Sin(a);
            }
        }
        var x = ids.Select(id => p[(layout.Embedding.Offset + id * D)..(layout.Embedding.Offset + (id + 1) * D)]).ToArray();
        foreach (var L in layout.Layers)
        {
            var q = new double[T][]; var k = new double[T][]; var v = new double[T][];
            for (int t = 0; t < T; t++)
            {
                var h = Rms(x[t], 0, D, L.AttnNorm);
                q[t] = Lin(h, L.Q, L.QBias); k[t] = Lin(h, L.K, L.KBias); v[t] = Lin(h, L.V, L.VBias);
                for (int j = 0; j < H; j++) { if (L.QNorm != null) Rms(q[t], j * hd, hd, L.QNorm).CopyTo(q[t], j * hd); Rope(q[t], j * hd, t); }
                for (int j = 0; j < KvH; j++) { if (L.KNorm != null) Rms(k[t], j * hd, hd, L.KNorm).CopyTo(k[t], j * hd); Rope(k[t], j * hd, t); }
            }
            for (int t = 0; t < T; t++)
            {
                var z = new double[c.QDim];
                for (int h = 0; h < H; h++)
                {
                    int g = h / group;
                    var s = new double[t + 1];
                    for (int j = 0; j <= t; j++) { double d = 0; for (int e = 0; e < hd; e++) d += q[t][h * hd + e] * k[j][g * hd + e]; s[j] = d / Math.Sqrt(hd); }
                    double m = s.Max(), sum = s.Sum(a => Math.Exp(a - m));
                    for (int j = 0; j <= t; j++) for (int e = 0; e < hd; e++) z[h * hd + e] += Math.Exp(s[j] - m) / sum * v[j][g * hd + e];
                }
                var o = Lin(z, L.O, null);
                x[t] = x[t].Select((a, i) => a + o[i]).ToArray();
            }
            for (int t = 0; t < T; t++)
            {
                var h = Rms(x[t], 0, D, L.FfnNorm);
                var gate = Lin(h, L.Gate, null); var up = Lin(h, L.Up, null);
                var act = gate.Select((a, i) => a / (1 + Math.Exp(-a)) * up[i]).ToArray();
                var dn = Lin(act, L.Down, null);
                x[t] = x[t].Select((a, i) => a + dn[i]).ToArray();
            }
        }
        return x.Select(r => Lin(Rms(r, 0, D, layout.FinalNorm), layout.Output, null)).ToArray();
    }
}
