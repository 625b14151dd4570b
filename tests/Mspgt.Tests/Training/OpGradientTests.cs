using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Training;
using static Mspgt.Tests.Training.GradientCheck;

namespace Mspgt.Tests.Training;

/// <summary>
/// Each op's hand-written backward against central finite differences of a float64 reference of the op, for the
/// scalar L = Σ r ⊙ y with a fixed random r (so dL/dy = r).
/// </summary>
public class OpGradientTests
{
    [Fact]
    public void RmsNormGradientMatchesFiniteDifferences()
    {
        const int rows = 3, n = 6; const double eps = 1e-5;
        var x = RoundToFloat(Random(rows * n, 1)); var w = RoundToFloat(Random(n, 2)); var r = RoundToFloat(Random(rows * n, 3));
        double Ref(double[] xv, double[] wv)
        {
            double L = 0;
            for (int t = 0; t < rows; t++)
            {
                double ms = 0; for (int i = 0; i < n; i++) ms += xv[t * n + i] * xv[t * n + i];
                double inv = 1 / Math.Sqrt(ms / n + eps);
                for (int i = 0; i < n; i++) L += r[t * n + i] * xv[t * n + i] * inv * wv[i];
            }
            return L;
        }
        var y = new float[rows * n]; var inv = new float[rows];
        Kernels.RmsNormRows(ToFloat(x), rows, ToFloat(w), (float)eps, y, inv);
        var dx = new float[rows * n]; var dw = new float[n];
        RmsNormOp.Backward(ToFloat(x), rows, ToFloat(w), inv, ToFloat(r), dx, dw);
        AssertClose(dx, Numeric(v => Ref(v, w), (double[])x.Clone()), "dx");
        AssertClose(dw, Numeric(v => Ref(x, v), (double[])w.Clone()), "dw");
    }

    [Theory]
    [InlineData(RopeForm.RotateHalf)]
    [InlineData(RopeForm.AdjacentPairs)]
    public void RopeGradientMatchesFiniteDifferences(RopeForm form)
    {
        const int T = 4, H = 2, hd = 6, half = hd / 2;
        var cfg = TinyConfigs.Make(Architecture.Llama, tied: false) with { HeadDim = hd };
        var (cos, sin) = new Rope(cfg, null).Tables(0, T);
        var x = RoundToFloat(Random(T * H * hd, 4)); var r = RoundToFloat(Random(T * H * hd, 5));
        double Ref(double[] v)
        {
            double L = 0;
            for (int t = 0; t < T; t++)
                for (int h = 0; h < H; h++)
                    for (int i = 0; i < half; i++)
                    {
                        int a = form == RopeForm.RotateHalf ? i : 2 * i, b = form == RopeForm.RotateHalf ? i + half : 2 * i + 1;
                        int o = (t * H + h) * hd;
                        double c = cos[t * half + i], s = sin[t * half + i];
                        L += r[o + a] * (v[o + a] * c - v[o + b] * s) + r[o + b] * (v[o + b] * c + v[o + a] * s);
                    }
            return L;
        }
        // Forward agrees with the reference rotation...
        var y = ToFloat(x);
        Rope.Rotate(y, T, H, hd, cos, sin, form);
        double Ly = 0; for (int i = 0; i < y.Length; i++) Ly += r[i] * y[i];
        Assert.Equal(Ref(x), Ly, 5);
        // ...and backward is its gradient.
        var dx = ToFloat(r);
        RopeOp.Backward(dx, T, H, hd, cos, sin, form);
        AssertClose(dx, Numeric(Ref, (double[])x.Clone()), "dx");
    }

    [Fact]
    public void RotateHalfAndAdjacentPairsDifferOnlyByAPermutation()
    {
        // Adjacent-pair RoPE on a vector permuted (x[2i] = a[i], x[2i+1] = a[i+half]) equals rotate-half on a.
        const int T = 3, hd = 8, half = hd / 2;
        var cfg = TinyConfigs.Make(Architecture.Llama, tied: false) with { HeadDim = hd };
        var (cos, sin) = new Rope(cfg, null).Tables(0, T);
        var a = ToFloat(Random(T * hd, 6));
        var p = new float[T * hd];
        for (int t = 0; t < T; t++) for (int i = 0; i < half; i++) { p[t * hd + 2 * i] = a[t * hd + i]; p[t * hd + 2 * i + 1] = a[t * hd + i + half]; }
        Rope.Rotate(a, T, 1, hd, cos, sin, RopeForm.RotateHalf);
        Rope.Rotate(p, T, 1, hd, cos, sin, RopeForm.AdjacentPairs);
        for (int t = 0; t < T; t++) for (int i = 0; i < half; i++)
        {
            Assert.Equal(a[t * hd + i], p[t * hd + 2 * i]);
            Assert.Equal(a[t * hd + i + half], p[t * hd + 2 * i + 1]);
        }
    }

    [Fact]
    public void SwiGluGradientMatchesFiniteDifferences()
    {
        const int n = 20;
        var g = RoundToFloat(Random(n, 7, 3)); var u = RoundToFloat(Random(n, 8, 2)); var r = RoundToFloat(Random(n, 9));
        double Ref(double[] gv, double[] uv) { double L = 0; for (int i = 0; i < n; i++) L += r[i] * gv[i] / (1 + Math.Exp(-gv[i])) * uv[i]; return L; }
        var dg = new float[n]; var du = new float[n];
        SwiGluOp.Backward(ToFloat(g), ToFloat(u), ToFloat(r), dg, du);
        AssertClose(dg, Numeric(v => Ref(v, u), (double[])g.Clone()), "dg");
        AssertClose(du, Numeric(v => Ref(g, v), (double[])u.Clone()), "du");
    }

    [Fact]
    public void LinearGradientMatchesFiniteDifferences()
    {
        const int T = 5, inD = 7, outD = 9;
        var x = RoundToFloat(Random(T * inD, 10)); var w = RoundToFloat(Random(outD * inD, 11)); var b = RoundToFloat(Random(outD, 12));
        var r = RoundToFloat(Random(T * outD, 13));
        double Ref(double[] xv, double[] wv, double[] bv)
        {
            double L = 0;
            for (int t = 0; t < T; t++)
                for (int o = 0; o < outD; o++)
                {
                    double s = bv[o]; for (int i = 0; i < inD; i++) s += xv[t * inD + i] * wv[o * inD + i];
                    L += r[t * outD + o] * s;
                }
            return L;
        }
        var y = new float[T * outD];
        Kernels.Linear(ToFloat(x), T, WeightMatrix.FromFloats("w", outD, inD, ToFloat(w)), ToFloat(b), y);
        double Ly = 0; for (int i = 0; i < y.Length; i++) Ly += r[i] * y[i];
        Assert.Equal(Ref(x, w, b), Ly, 4);
        var wT = new float[inD * outD]; Mspgt.Numerics.DenseMatMul.Transpose(ToFloat(w), outD, inD, wT);
        var xT = new float[inD * T]; Mspgt.Numerics.DenseMatMul.Transpose(ToFloat(x), T, inD, xT);
        var dx = new float[T * inD]; var dw = new float[outD * inD]; var db = new float[outD];
        LinearOp.BackwardInput(ToFloat(r), T, wT, outD, inD, dx, new float[T * inD]);
        LinearOp.BackwardWeight(ToFloat(r), T, xT, outD, inD, dw, new float[outD * T], new float[outD * inD]);
        LinearOp.BackwardBias(ToFloat(r), T, outD, db);
        AssertClose(dx, Numeric(v => Ref(v, w, b), (double[])x.Clone()), "dx");
        AssertClose(dw, Numeric(v => Ref(x, v, b), (double[])w.Clone()), "dW");
        AssertClose(db, Numeric(v => Ref(x, w, v), (double[])b.Clone()), "db");
    }

    [Theory]
    [InlineData(4, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    public void CausalGqaAttentionGradientMatchesFiniteDifferences(int H, int KvH)
    {
        const int T = 5, hd = 4;
        int group = H / KvH;
        var q = RoundToFloat(Random(T * H * hd, 14)); var k = RoundToFloat(Random(T * KvH * hd, 15)); var v = RoundToFloat(Random(T * KvH * hd, 16));
        var r = RoundToFloat(Random(T * H * hd, 17));
        double Ref(double[] qv, double[] kv, double[] vv)
        {
            double L = 0;
            for (int h = 0; h < H; h++)
            {
                int g = h / group;
                for (int t = 0; t < T; t++)
                {
                    var s = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        double d = 0; for (int e = 0; e < hd; e++) d += qv[(t * H + h) * hd + e] * kv[(j * KvH + g) * hd + e];
                        s[j] = d / Math.Sqrt(hd);
                    }
                    double m = s.Max(), z = s.Sum(x => Math.Exp(x - m));
                    for (int j = 0; j <= t; j++)
                    {
                        double p = Math.Exp(s[j] - m) / z;
                        for (int e = 0; e < hd; e++) L += r[(t * H + h) * hd + e] * p * vv[(j * KvH + g) * hd + e];
                    }
                }
            }
            return L;
        }
        var scratch = new ScratchBuffers();
        var probs = new float[H * T * T]; var zOut = new float[T * H * hd];
        var shape = new AttentionShape(T, 0, H, KvH, hd);
        var attention = new Attention();
        attention.Probabilities(ToFloat(q), ToFloat(k), shape, probs);
        attention.Mix(probs, ToFloat(v), shape, zOut);
        double Lz = 0; for (int i = 0; i < zOut.Length; i++) Lz += r[i] * zOut[i];
        Assert.Equal(Ref(q, k, v), Lz, 4);
        var dq = new float[q.Length]; var dk = new float[k.Length]; var dv = new float[v.Length];
        AttentionOp.Backward(ToFloat(q), ToFloat(k), ToFloat(v), probs, ToFloat(r), T, H, KvH, hd, dq, dk, dv, scratch);
        AssertClose(dq, Numeric(x => Ref(x, k, v), (double[])q.Clone()), "dq");
        AssertClose(dk, Numeric(x => Ref(q, x, v), (double[])k.Clone()), "dk");
        AssertClose(dv, Numeric(x => Ref(q, k, x), (double[])v.Clone()), "dv");
    }

    [Fact]
    public void CrossEntropyGradientMatchesFiniteDifferences()
    {
        const int T = 4, V = 7; const float scale = 0.25f;
        var logits = RoundToFloat(Random(T * V, 18, 3));
        int[] targets = [0, 6, 3, 3];
        double Ref(double[] l)
        {
            double L = 0;
            for (int t = 0; t < T; t++)
            {
                double m = double.NegativeInfinity; for (int i = 0; i < V; i++) m = Math.Max(m, l[t * V + i]);
                double s = 0; for (int i = 0; i < V; i++) s += Math.Exp(l[t * V + i] - m);
                L += m + Math.Log(s) - l[t * V + targets[t]];
            }
            return L * scale;
        }
        var g = ToFloat(logits);
        Assert.Equal(Ref(logits) / scale, CrossEntropyOp.Loss(g, targets, V), 5);
        double loss = CrossEntropyOp.ForwardBackward(g, targets, V, scale);
        Assert.Equal(Ref(logits) / scale, loss, 5);
        AssertClose(g, Numeric(Ref, (double[])logits.Clone()), "dlogits");
    }
}
