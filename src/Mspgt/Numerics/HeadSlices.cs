using System.Numerics;

namespace Mspgt.Numerics;

/// <summary>
/// The unembedding read a vocabulary slice at a time, so that no [rows × vocab] logits array is ever whole (155 MB
/// for 256 tokens of a 152k vocabulary): the final-norm rows go through one slice of the head after another, in
/// vocabulary order, each logit the same chain of multiply-adds the forward pass's head makes. `run` and `intervene`
/// read it this way; <see cref="RowFold"/> keeps what they need of each row.
/// </summary>
public static class HeadSlices
{
    /// <summary>Vocabulary entries per slice for <paramref name="tokens"/> rows: about 4 MB of float logits, in whole
    /// 64s (fixed by the row count, never by the thread count).</summary>
    public static int SliceFor(int tokens) => Math.Clamp((int)((4L << 20) / (4L * Math.Max(1, tokens))) / 64 * 64, 256, 32768);

    /// <summary>
    /// For each slice [v0, v0 + vs) in order, the logits of <paramref name="tokens"/> rows of <paramref name="normed"/>
    /// ([tokens, dim]) handed to <paramref name="visit"/> as (v0, vs, logits), logits row-major [tokens × vs] (the
    /// buffer is reused by the next slice).
    /// </summary>
    public static void ForEach(float[] normed, int tokens, WeightMatrix head, int slice, Action<int, int, float[]> visit)
    {
        int V = head.Rows, dim = head.Cols;
        if (normed.Length < (long)tokens * dim) throw new ArgumentException("normed is shorter than tokens × dim");
        var logits = new float[(long)tokens * slice];
        for (int v0 = 0; v0 < V; v0 += slice)
        {
            int vs = Math.Min(slice, V - v0);
            MatMul.Multiply(normed.AsSpan(0, tokens * dim), tokens, head.RowSlice(v0, vs), logits);
            visit(v0, vs, logits);
        }
    }

    /// <summary>
    /// Per row, what a slice-by-slice read keeps of its logits: log Z from a running max m and S = Σ e^(z − m) in
    /// double (S rescaled when a later slice raises the max), the first argmax (an earlier slice keeps a tie, as
    /// <see cref="Kernels.ArgMax"/> over the whole row), and the logit of one chosen entry. Slices must come in
    /// vocabulary order.
    /// </summary>
    public sealed class RowFold
    {
        private readonly double[] _m, _s;
        private readonly int[] _top;
        private readonly float[] _topValue, _picked;

        public RowFold(int rows)
        {
            _m = new double[rows];
            Array.Fill(_m, double.NegativeInfinity);
            _s = new double[rows];
            _top = new int[rows];
            _topValue = new float[rows];
            _picked = new float[rows];
        }

        /// <summary>Folds row <paramref name="r"/>'s slice <paramref name="z"/> (its entries v0, v0 + 1, …); keeps
        /// entry <paramref name="pick"/>'s logit when the slice holds it (a negative pick keeps none).</summary>
        public void Add(int r, int v0, ReadOnlySpan<float> z, int pick = -1)
        {
            Fold(z, ref _m[r], ref _s[r]);
            int best = Kernels.ArgMax(z);
            if (v0 == 0 || z[best] > _topValue[r]) (_topValue[r], _top[r]) = (z[best], v0 + best);
            if (pick - v0 is int k && (uint)k < (uint)z.Length) _picked[r] = z[k];
        }

        public double LogZ(int r) => _m[r] + Math.Log(_s[r]);
        public int Top(int r) => _top[r];
        public float Picked(int r) => _picked[r];

        /// <summary>Folds one slice into a running max m and S = Σ e^(x − m) (S rescaled when the max rises). The
        /// exponentials are vectorised in double (one per logit: at a 152k vocabulary most of a comparison's time
        /// outside the head's product when they were scalar); their sum's order is fixed by the slice and the
        /// vector width, never by the thread count.</summary>
        public static void Fold(ReadOnlySpan<float> x, ref double m, ref double s)
        {
            double max = m;
            foreach (float v in x) if (v > max) max = v;
            if (max > m) { s *= Math.Exp(m - max); m = max; }
            int n = x.Length, i = 0, w = Vector<float>.Count;
            var vm = new Vector<double>(m);
            Vector<double> sum = default;
            for (; i + w <= n; i += w)
            {
                Vector.Widen(new Vector<float>(x.Slice(i)), out var x0, out var x1);
                sum += Vector.Exp(x0 - vm) + Vector.Exp(x1 - vm);
            }
            double tail = Vector.Sum(sum);
            for (; i < n; i++) tail += Math.Exp(x[i] - m);
            s += tail;
        }
    }
}
