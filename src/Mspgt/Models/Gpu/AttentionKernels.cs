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
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>,
        ArrayView<double>, ArrayView<double>, PassDims>? fusedWarps;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>,
        ArrayView<double>, ArrayView<double>, PassDims>? fusedThreads;

    /// <summary>Largest head dimension <see cref="Fused"/> takes (8 elements per lane of a warp, in registers).</summary>
    public const int FusedMaxHeadDim = 8 * WarpLanes;

    /// <summary>Whether <see cref="Fused"/> gives each row and head a warp (else a thread).</summary>
    public bool WarpPerRow { get; }

    /// <summary>Lanes of a warp: <see cref="Fused"/> gives each query row and head one warp (RMSNorm each row).</summary>
    internal const int WarpLanes = 32;

    /// <summary>
    /// Whether the kernels that reduce along a row (the fused attention, RMSNorm) take their warp-per-row form:
    /// <paramref name="asked"/>, else what <see cref="FormVariable"/> says, else on CUDA yes and elsewhere no. The warp
    /// form needs warps of <see cref="WarpLanes"/> threads.
    /// </summary>
    internal static bool WarpForm(Accelerator a, bool? asked)
    {
        bool warp = asked ?? Environment.GetEnvironmentVariable(FormVariable) switch
        {
            null or "" => a.AcceleratorType == AcceleratorType.Cuda,
            "warp" => true,
            "thread" => false,
            var other => throw new MspgtException(FormVariable, $"'{other}' is not a form of the fused attention kernel; give warp or thread"),
        };
        if (warp && a.WarpSize != WarpLanes) throw new NotSupportedException($"a warp of {a.WarpSize} threads; the warp-per-row kernels need {WarpLanes}");
        return warp;
    }

    /// <summary>Warps per group of a <see cref="Fused"/> launch: 4, or as many as the device allows (the emulator: 1).</summary>
    readonly int fusedWarpsPerGroup;

    /// <summary>A pass's attention shape for <see cref="Fused"/>: what every document shares; positions and key rows come per row.</summary>
    public readonly struct PassDims(int rows, AttentionShape s, bool withRowStatistics)
    {
        public readonly int Rows = rows, Heads = s.Heads, Group = s.Group, HeadDim = s.HeadDim, KvDim = s.KvDim, Window = s.Window;
        public readonly float Scale = s.Scale;
        public readonly int WithRowStatistics = withRowStatistics ? 1 : 0;

        public int FirstKey(int position) => FirstVisibleKey(position, Window);
    }

    /// <summary>Environment variable that picks the fused kernel's form where the caller does not: "warp" or "thread"
    /// (so that a GPU check can time both on the same device); RMSNorm follows it (<see cref="RowKernels"/>).</summary>
    public const string FormVariable = "MSPGT_GPU_ATTENTION";

    /// <param name="warpPerRow">The fused kernel's form: a warp per row and head, or a thread per row and head; null:
    /// what <see cref="FormVariable"/> says, else a warp on CUDA and a thread elsewhere (ILGPU's CPU accelerator runs
    /// each warp shuffle as a barrier of 32 threads, which made the emulated test suite more than ten times slower).</param>
    public AttentionKernels(Accelerator a, bool? warpPerRow = null)
    {
        scores = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Dims>(ScoresKernel);
        softmax = a.LoadGroupedKernel<Index1D, ArrayView<float>, Dims>(SoftmaxKernel);
        mix = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Dims>(MixKernel);
        rows = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, Dims>(RowsKernel);
        WarpPerRow = WarpForm(a, warpPerRow);
        if (WarpPerRow)
        {
            fusedWarpsPerGroup = Math.Clamp(a.MaxNumThreadsPerGroup / WarpLanes, 1, 4);
            fusedWarps = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>,
                ArrayView<float>, ArrayView<double>, ArrayView<double>, PassDims>(FusedWarpKernel);
        }
        else
            fusedThreads = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
                ArrayView<int>, ArrayView<float>, ArrayView<double>, ArrayView<double>, PassDims>(FusedThreadKernel);
    }

    /// <summary>
    /// Attention of every row of a pass at once, each query over its own document's keys: row g (of
    /// <paramref name="d"/>.Rows) is at <paramref name="positions"/>[g] and its key j is row keyRows[g] + j of k and v
    /// ([·, kv_heads, hd]). One warp (or thread, <see cref="WarpPerRow"/>) per query row and head walks its visible
    /// keys in order with a running maximum (online softmax): z [rows, heads, hd] = Σ softmax(scores)·v, and, when asked, per row [heads, rows] the entropy
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
        if (n == 0) return;
        if (fusedThreads != null) { fusedThreads(checked((int)n), q, k, v, keyRows, positions, z, entropy, distance, d); return; }
        int groups = checked((int)((n + fusedWarpsPerGroup - 1) / fusedWarpsPerGroup));
        fusedWarps!(new KernelConfig(groups, fusedWarpsPerGroup * WarpLanes), q, k, v, keyRows, positions, z, entropy, distance, d);
    }

    /// <summary>
    /// Warp i = h·Rows + g serves row g and head h; lane l holds elements l, l + 32, … (8 at most) of the row's query
    /// and of its output accumulator in registers, so each key costs the warp two coalesced loads of the key's and
    /// value's head slice and one butterfly sum of the lanes' partial dot products. (A thread per row and head, which
    /// (<see cref="FusedThreadKernel"/>) keeps both vectors in local memory: a kilobyte of local traffic per key per thread.) The butterfly
    /// adds the same two values in every lane at every step, so all lanes hold the same dot product, bit for bit, and
    /// every lane runs the same softmax; consecutive warps are consecutive rows of one head, reading the same keys.
    /// </summary>
    static void FusedWarpKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> keyRows,
        ArrayView<int> positions, ArrayView<float> z, ArrayView<double> entropy, ArrayView<double> distance, PassDims s)
    {
        long i = Grid.GlobalIndex.X / WarpLanes;
        if (i >= (long)s.Rows * s.Heads) return;   // whole warps leave together: no lane is missing from a shuffle
        int lane = Warp.LaneIdx, hd = s.HeadDim;
        int g = (int)(i % s.Rows), h = (int)(i / s.Rows);
        int pos = positions[g], lo = s.FirstKey(pos);
        long qo = ((long)g * s.Heads + h) * hd, kvo = (long)(h / s.Group) * hd, r0 = keyRows[g];
        // This lane's elements: d_t = lane + 32·t, present while d_t < hd.
        bool on0 = lane < hd, on1 = lane + 32 < hd, on2 = lane + 64 < hd, on3 = lane + 96 < hd;
        bool on4 = lane + 128 < hd, on5 = lane + 160 < hd, on6 = lane + 192 < hd, on7 = lane + 224 < hd;
        float q0 = on0 ? q[qo + lane] : 0, q1 = on1 ? q[qo + lane + 32] : 0, q2 = on2 ? q[qo + lane + 64] : 0, q3 = on3 ? q[qo + lane + 96] : 0;
        float q4 = on4 ? q[qo + lane + 128] : 0, q5 = on5 ? q[qo + lane + 160] : 0, q6 = on6 ? q[qo + lane + 192] : 0, q7 = on7 ? q[qo + lane + 224] : 0;
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        var row = RunningSoftmax.Start;
        for (int j = lo; j <= pos; j++)
        {
            long ko = (r0 + j) * s.KvDim + kvo + lane;
            float dot = 0;
            if (on0) dot += q0 * k[ko];
            if (on1) dot += q1 * k[ko + 32];
            if (on2) dot += q2 * k[ko + 64];
            if (on3) dot += q3 * k[ko + 96];
            if (on4) dot += q4 * k[ko + 128];
            if (on5) dot += q5 * k[ko + 160];
            if (on6) dot += q6 * k[ko + 192];
            if (on7) dot += q7 * k[ko + 224];
            for (int o = WarpLanes / 2; o > 0; o /= 2) dot += Warp.ShuffleXor(dot, o);
            float x = dot * s.Scale;
            if (row.Rescales(x))
            {
                float r = row.Rescale(x);
                a0 *= r; a1 *= r; a2 *= r; a3 *= r; a4 *= r; a5 *= r; a6 *= r; a7 *= r;
            }
            float e = row.Add(x, pos - j);
            if (on0) a0 += e * v[ko];
            if (on1) a1 += e * v[ko + 32];
            if (on2) a2 += e * v[ko + 64];
            if (on3) a3 += e * v[ko + 96];
            if (on4) a4 += e * v[ko + 128];
            if (on5) a5 += e * v[ko + 160];
            if (on6) a6 += e * v[ko + 192];
            if (on7) a7 += e * v[ko + 224];
        }
        long zo = qo + lane;
        float sum = row.Sum;
        if (on0) z[zo] = a0 / sum;
        if (on1) z[zo + 32] = a1 / sum;
        if (on2) z[zo + 64] = a2 / sum;
        if (on3) z[zo + 96] = a3 / sum;
        if (on4) z[zo + 128] = a4 / sum;
        if (on5) z[zo + 160] = a5 / sum;
        if (on6) z[zo + 192] = a6 / sum;
        if (on7) z[zo + 224] = a7 / sum;
        if (s.WithRowStatistics == 0 || lane != 0) return;
        entropy[i] = row.Entropy;
        distance[i] = row.MeanDistance;
    }

    /// <summary>
    /// Thread i = h·Rows + g serves row g and head h, as a warp does in <see cref="FusedWarpKernel"/>, with the query
    /// and the accumulator in local memory and every dot product summed in index order: the form for ILGPU's CPU
    /// accelerator (tests and emulation), where a thread is cheap and a warp shuffle is not.
    /// </summary>
    static void FusedThreadKernel(Index1D i, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> keyRows,
        ArrayView<int> positions, ArrayView<float> z, ArrayView<double> entropy, ArrayView<double> distance, PassDims s)
    {
        // Consecutive threads are consecutive rows of one head: they walk the same keys together (one load serves the warp).
        int g = i % s.Rows, h = i / s.Rows, hd = s.HeadDim;
        int pos = positions[g], lo = s.FirstKey(pos);
        long qo = ((long)g * s.Heads + h) * hd, kvo = (long)(h / s.Group) * hd, r0 = keyRows[g];
        var qv = LocalMemory.Allocate1D<float>(FusedMaxHeadDim);
        var acc = LocalMemory.Allocate1D<float>(FusedMaxHeadDim);
        for (int d = 0; d < hd; d++) { qv[d] = q[qo + d]; acc[d] = 0; }
        var row = RunningSoftmax.Start;
        for (int j = lo; j <= pos; j++)
        {
            long ko = (r0 + j) * s.KvDim + kvo;
            float dot = 0;
            for (int d = 0; d < hd; d++) dot += qv[d] * k[ko + d];
            float x = dot * s.Scale;
            if (row.Rescales(x))
            {
                float r = row.Rescale(x);
                for (int d = 0; d < hd; d++) acc[d] *= r;
            }
            float e = row.Add(x, pos - j);
            for (int d = 0; d < hd; d++) acc[d] += e * v[ko + d];
        }
        for (int d = 0; d < hd; d++) z[qo + d] = acc[d] / row.Sum;
        if (s.WithRowStatistics == 0) return;
        entropy[i] = row.Entropy;
        distance[i] = row.MeanDistance;
    }

    /// <summary>
    /// One query row's online softmax, shared by both forms of the fused kernel: the running maximum m, S = Σ e (e =
    /// exp(x − m)), and, in double, Σ e·x and Σ e·distance. A score above m first rescales what was summed (the caller
    /// rescales its output accumulator by the same factor); each score then adds its weight e.
    /// </summary>
    struct RunningSoftmax
    {
        public float M, Sum;
        public double Ex, Dist;

        public static RunningSoftmax Start => new() { M = float.NegativeInfinity };

        /// <summary>Whether score <paramref name="x"/> is a new maximum.</summary>
        public readonly bool Rescales(float x) => x > M;

        /// <summary>Makes <paramref name="x"/> the maximum and returns the factor the sums so far were scaled by
        /// (exp(−∞) = 0 on the first key).</summary>
        public float Rescale(float x)
        {
            float r = DeviceMath.Exp(M - x);
            Sum *= r;
            Ex *= r;
            Dist *= r;
            M = x;
            return r;
        }

        /// <summary>Adds score <paramref name="x"/> of a key <paramref name="distance"/> positions back; returns its weight e.</summary>
        public float Add(float x, int distance)
        {
            float e = DeviceMath.Exp(x - M);
            Sum += e;
            Ex += e * (double)x;
            Dist += e * (double)distance;
            return e;
        }

        /// <summary>−Σ p log p = log S + m − Σ e·x / S.</summary>
        public readonly double Entropy => DeviceMath.Log(Sum) + (double)M - Ex / Sum;

        /// <summary>Σ p·distance.</summary>
        public readonly double MeanDistance => Dist / Sum;
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
    /// position, summed in double in key order (the logarithm in float, <see cref="DeviceMath.Log"/>: the PTX backend
    /// has no double log without libdevice; the difference to the CPU's double log is far below the statistics'
    /// tolerance).
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
            if (w > 0) e -= w * (double)DeviceMath.Log(w);
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
        for (int j = lo; j <= pos; j++) { float e = DeviceMath.Exp(p[o + j] - max); p[o + j] = e; sum += e; }
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
