using ILGPU;
using ILGPU.Runtime;
using Mspgt.Numerics;

namespace Mspgt.Models.Gpu;

/// <summary>
/// Causal grouped-query attention on the device in the three steps of <see cref="AttentionReference"/>: scaled
/// scores [heads, T, keys] (−∞ where a query does not see a key: after its own position or before its sliding
/// window), softmax over each query's visible keys (0 elsewhere), and z = pattern · v. Kept as separate steps so
/// hooks on scores or pattern see (and may edit) exactly what the next step reads; and, when no hook asks for
/// either, the three steps fused into one launch for every document of a pass (<see cref="Fused"/>), which never
/// writes the T×T pattern. Every sum runs in index order in one thread, so results do not depend on the group size
/// or on which other documents share the launch.
/// </summary>
public sealed class AttentionKernels
{
    /// <summary>The shape as plain fields, the form a kernel argument takes.</summary>
    public readonly struct Dims(AttentionShape s)
    {
        public readonly int Tokens = s.Tokens, Start = s.Start, Heads = s.Heads, Group = s.Group, HeadDim = s.HeadDim;
        public readonly int KvDim = s.KvDim, Keys = s.Keys, Window = s.Window;
        public readonly float Scale = s.Scale;

        public int FirstKey(int position) => FirstVisibleKey(position, Window);
    }

    /// <summary>The first key a query at <paramref name="position"/> sees (its sliding window's start, else 0), as
    /// <see cref="AttentionShape.FirstKey"/> gives it, in the form kernels can call.</summary>
    static int FirstVisibleKey(int position, int window) =>
        window == int.MaxValue ? 0 : (position - window + 1 > 0 ? position - window + 1 : 0);

    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Dims> scores;
    readonly Action<Index1D, ArrayView<float>, Dims> softmax;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Dims> mix;
    readonly Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, Dims> rows;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>,
        ArrayView<double>, ArrayView<double>, PassDims> fused;

    /// <summary>Largest head dimension <see cref="Fused"/> takes (its per-row accumulators live in local memory).</summary>
    public const int FusedMaxHeadDim = 256;

    /// <summary>A pass's attention shape for <see cref="Fused"/>: what every document shares; positions and key rows come per row.</summary>
    public readonly struct PassDims(int rows, AttentionShape s, bool withRowStatistics)
    {
        public readonly int Rows = rows, Heads = s.Heads, Group = s.Group, HeadDim = s.HeadDim, KvDim = s.KvDim, Window = s.Window;
        public readonly float Scale = s.Scale;
        public readonly int WithRowStatistics = withRowStatistics ? 1 : 0;

        public int FirstKey(int position) => FirstVisibleKey(position, Window);
    }

    public AttentionKernels(Accelerator a)
    {
        scores = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Dims>(ScoresKernel);
        softmax = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, Dims>(SoftmaxKernel);
        mix = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Dims>(MixKernel);
        rows = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, Dims>(RowsKernel);
        fused = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>,
            ArrayView<float>, ArrayView<double>, ArrayView<double>, PassDims>(FusedKernel);
    }

    /// <summary>
    /// Attention of every row of a pass at once, each query over its own document's keys: row g (of
    /// <paramref name="d"/>.Rows) is at <paramref name="positions"/>[g] and its key j is row keyRows[g] + j of k and v
    /// ([·, kv_heads, hd]). One thread per query row and head walks its visible keys in order with a running maximum
    /// (online softmax): z [rows, heads, hd] = Σ softmax(scores)·v, and, when asked, per row [heads, rows] the entropy
    /// −Σ p log p = log S + m − Σ e·x / S and the mean distance Σ e·(position − j) / S (e = exp(x − m), S = Σ e; these
    /// two sums in double). The same values as <see cref="Scores"/>, <see cref="Softmax"/>, <see cref="Mix"/> and
    /// <see cref="Rows"/> up to float rounding, in one launch instead of three or four per document.
    /// </summary>
    public void Fused(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> keyRows, ArrayView<int> positions,
        PassDims d, ArrayView<float> z, ArrayView<double> entropy, ArrayView<double> distance)
    {
        long n = (long)d.Rows * d.Heads;
        if (d.HeadDim > FusedMaxHeadDim) throw new ArgumentException($"head dimension {d.HeadDim} is above the fused kernel's {FusedMaxHeadDim}");
        if (keyRows.Length < d.Rows || positions.Length < d.Rows || z.Length < n * d.HeadDim || q.Length < n * d.HeadDim)
            throw new ArgumentException("fused attention buffers shorter than the pass");
        if (d.WithRowStatistics != 0 && (entropy.Length < n || distance.Length < n))
            throw new ArgumentException("row statistics buffers shorter than heads × rows");
        if (n > 0) fused((int)n, q, k, v, keyRows, positions, z, entropy, distance, d);
    }

    static void FusedKernel(Index1D i, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> keyRows,
        ArrayView<int> positions, ArrayView<float> z, ArrayView<double> entropy, ArrayView<double> distance, PassDims s)
    {
        // Consecutive threads are consecutive rows of one head: they walk the same keys together (one load serves the warp).
        int g = i % s.Rows, h = i / s.Rows, hd = s.HeadDim;
        int pos = positions[g], lo = s.FirstKey(pos);
        long qo = ((long)g * s.Heads + h) * hd, kvo = (long)(h / s.Group) * hd, r0 = keyRows[g];
        var qv = LocalMemory.Allocate1D<float>(FusedMaxHeadDim);
        var acc = LocalMemory.Allocate1D<float>(FusedMaxHeadDim);
        for (int d = 0; d < hd; d++) { qv[d] = q[qo + d]; acc[d] = 0; }
        float m = float.NegativeInfinity, sum = 0;
        double ex = 0, dist = 0;
        for (int j = lo; j <= pos; j++)
        {
            long ko = (r0 + j) * s.KvDim + kvo;
            float dot = 0;
            for (int d = 0; d < hd; d++) dot += qv[d] * k[ko + d];
            float x = dot * s.Scale;
            if (x > m)
            {
                // A new maximum: what was summed so far is rescaled (exp(−∞) = 0 on the first key).
                float r = MathF.Exp(m - x);
                sum *= r;
                ex *= r;
                dist *= r;
                for (int d = 0; d < hd; d++) acc[d] *= r;
                m = x;
            }
            float e = MathF.Exp(x - m);
            sum += e;
            ex += e * (double)x;
            dist += e * (double)(pos - j);
            for (int d = 0; d < hd; d++) acc[d] += e * v[ko + d];
        }
        for (int d = 0; d < hd; d++) z[qo + d] = acc[d] / sum;
        if (s.WithRowStatistics == 0) return;
        entropy[i] = MathF.Log(sum) + (double)m - ex / sum;
        distance[i] = dist / sum;
    }

    /// <summary>
    /// Scores of q [T, heads, hd] against keys [≥ Keys, kv_heads, hd] into <paramref name="pattern"/>
    /// [heads, T, Keys]; −∞ where not visible.
    /// </summary>
    public void Scores(ArrayView<float> q, ArrayView<float> k, AttentionShape s, ArrayView<float> pattern)
    {
        Check(s, pattern);
        scores((int)s.PatternLength, q, k, pattern, new Dims(s));
    }

    /// <summary>Scores to probabilities in place over each query's visible keys, 0 at every other key.</summary>
    public void Softmax(ArrayView<float> pattern, AttentionShape s)
    {
        Check(s, pattern);
        softmax(s.Heads * s.Tokens, pattern, new Dims(s));
    }

    /// <summary>z [T, heads, hd] = Σ_{j ≤ position} pattern[h, t, j] · v[j, kv head of h].</summary>
    public void Mix(ArrayView<float> pattern, ArrayView<float> v, AttentionShape s, ArrayView<float> z)
    {
        Check(s, pattern);
        mix((int)s.QueryLength, pattern, v, z, new Dims(s));
    }

    /// <summary>
    /// Per query row [heads·T]: entropy −Σ p log p and distance Σ p·(position − key) over the keys up to the query's
    /// position, summed in double in key order (the logarithm in float: the PTX backend has no double log without
    /// libdevice; the difference to the CPU's double log is far below the statistics' tolerance).
    /// </summary>
    public void Rows(ArrayView<float> pattern, AttentionShape s, ArrayView<double> entropy, ArrayView<double> distance)
    {
        Check(s, pattern);
        rows(s.Heads * s.Tokens, pattern, entropy, distance, new Dims(s));
    }

    static void RowsKernel(Index1D row, ArrayView<float> p, ArrayView<double> entropy, ArrayView<double> distance, Dims s)
    {
        int t = row % s.Tokens, pos = s.Start + t;
        long o = (long)row.X * s.Keys;
        double e = 0, d = 0;
        for (int j = 0; j <= pos; j++)
        {
            float w = p[o + j];
            if (w > 0) e -= w * (double)MathF.Log(w);
            d += w * (double)(pos - j);
        }
        entropy[row] = e;
        distance[row] = d;
    }

    static void Check(AttentionShape s, ArrayView<float> pattern)
    {
        if (pattern.Length < s.PatternLength || s.PatternLength > int.MaxValue)
            throw new ArgumentException($"attention pattern buffer of {pattern.Length} values for {s.PatternLength}");
    }

    static void ScoresKernel(Index1D i, ArrayView<float> q, ArrayView<float> k, ArrayView<float> p, Dims s)
    {
        int j = i % s.Keys, ht = i / s.Keys, t = ht % s.Tokens, h = ht / s.Tokens;
        int pos = s.Start + t;
        if (j > pos || j < s.FirstKey(pos)) { p[i] = float.NegativeInfinity; return; }
        long qo = ((long)t * s.Heads + h) * s.HeadDim, ko = (long)j * s.KvDim + (long)(h / s.Group) * s.HeadDim;
        float dot = 0;
        for (int d = 0; d < s.HeadDim; d++) dot += q[qo + d] * k[ko + d];
        p[i] = dot * s.Scale;
    }

    static void SoftmaxKernel(Index1D row, ArrayView<float> p, Dims s)
    {
        int t = row % s.Tokens, pos = s.Start + t, lo = s.FirstKey(pos);
        long o = (long)row.X * s.Keys;
        for (int j = 0; j < lo; j++) p[o + j] = 0;
        for (int j = pos + 1; j < s.Keys; j++) p[o + j] = 0;
        float max = float.NegativeInfinity;
        for (int j = lo; j <= pos; j++) max = MathF.Max(max, p[o + j]);
        float sum = 0;
        for (int j = lo; j <= pos; j++) { float e = MathF.Exp(p[o + j] - max); p[o + j] = e; sum += e; }
        for (int j = lo; j <= pos; j++) p[o + j] /= sum;
    }

    static void MixKernel(Index1D i, ArrayView<float> p, ArrayView<float> v, ArrayView<float> z, Dims s)
    {
        int d = i % s.HeadDim, th = i / s.HeadDim, h = th % s.Heads, t = th / s.Heads, pos = s.Start + t;
        long po = ((long)h * s.Tokens + t) * s.Keys, vo = (long)(h / s.Group) * s.HeadDim + d;
        float acc = 0;
        for (int j = 0; j <= pos; j++)
        {
            float w = p[po + j];
            if (w != 0f) acc += w * v[(long)j * s.KvDim + vo];
        }
        z[i] = acc;
    }
}
