using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mspgt.Numerics;

/// <summary>
/// Causal grouped-query attention (<see cref="AttentionShape"/>), fast. With at least <see cref="GemmKernel.Mr"/>
/// queries, scores (Q·Kᵀ) and mixing (P·V) run as small GEMMs on <see cref="GemmKernel"/> tiles over each KV head's
/// keys and values, packed once per call, skipping tiles wholly above the causal diagonal. Fewer queries (decoding)
/// or no SIMD take <see cref="AttentionReference"/>'s rows. The parallel unit is one head × one block of
/// <see cref="QueryBlock"/> queries (<see cref="WorkItems"/>), so a 256-token prefill with 12 heads makes 72 items,
/// enough for 16 threads; blocks are fixed, so results do not depend on the thread count.
/// </summary>
/// <remarks>
/// The instance owns its packing buffers and score blocks (reused from call to call), so it serves one call at a
/// time: the forward pass keeps one per workspace, a training pass one per thread.
/// </remarks>
public sealed unsafe class Attention
{
    /// <summary>Queries per work item (and per score block of <see cref="Forward"/>: a worker's block is
    /// QueryBlock × Keys floats); a multiple of <see cref="GemmKernel.Mr"/>.</summary>
    public const int QueryBlock = 8 * GemmKernel.Mr;

    /// <summary>Per KV head g, from g·_keysStride: Kᵀ as panels of Nr keys, k-major (kt[panel][d][i] = K[panel·Nr + i, d]).</summary>
    private float[] _keys = [];
    /// <summary>Per KV head g, from g·_valuesStride: V's rows, each padded to a whole number of Nr-wide column chunks.</summary>
    private float[] _values = [];
    private long _keysStride, _valuesStride;
    private int _valuesRow;
    /// <summary>Score blocks (fused path) or rows (row path), one per worker at a time.</summary>
    private readonly ConcurrentBag<float[]> _blocks = [];

    /// <summary>
    /// z = softmax(scores) · v without keeping the probabilities: score blocks of QueryBlock queries at a time. With
    /// <paramref name="rows"/>, each query row's entropy and mean distance (<see cref="AttentionRows"/>, [heads·T]
    /// head-major) are taken from its probabilities while they are in the block: the values
    /// <see cref="AttentionRows.Compute(float[], int, int, int, int, double[], double[])"/> gives for the pattern
    /// <see cref="Probabilities"/> writes (the same rows), without writing the pattern and reading it twice more.
    /// </summary>
    public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape s, Span<float> z,
        (double[] Entropy, double[] Distance)? rows = null)
    {
        s.Check(q: q.Length, k: k.Length, v: v.Length, z: z.Length);
        if (rows is { } r && (r.Entropy.Length < (long)s.Heads * s.Tokens || r.Distance.Length < (long)s.Heads * s.Tokens))
            throw new ArgumentException("the row statistics are shorter than heads × tokens");
        bool tiles = UsesTiles(s);
        fixed (float* pq = q, pk = k, pv = v, pz = z)
        {
            var o = new Operands(pq, pk, pv, pz, s);
            if (tiles) { PackKeys(o); PackValues(o); }
            ForEachItem(s, (head, t0, n) =>
            {
                var block = Rent((long)(tiles ? n : 1) * s.Keys);
                try
                {
                    fixed (float* pb = block)
                    {
                        if (!tiles)
                        {
                            var row = new Span<float>(pb, s.Keys);
                            for (int t = t0; t < t0 + n; t++)
                            {
                                AttentionReference.ScoreRow(o.QSpan, o.KSpan, s, head, t, row);
                                AttentionReference.SoftmaxRow(s, t, row);
                                if (rows is { } one) RowStatistics(s, head, t, 1, pb, s.Keys, one);
                                AttentionReference.MixRow(row, o.VSpan, s, head, t, o.ZSpan);
                            }
                            return;
                        }
                        // Score blocks of Mr-aligned groups: the same tiles whatever the block, so the same sums.
                        ScoresTiles(o, head, t0, n, pb, s.Keys);
                        FinishRows(s, t0, n, pb, s.Keys, softmax: true);
                        if (rows is { } all) RowStatistics(s, head, t0, n, pb, s.Keys, all);
                        MixTiles(o, head, t0, n, pb, s.Keys);
                    }
                }
                finally { _blocks.Add(block); }
            });
        }
    }

    /// <summary>Entropy and distance of the probability rows of queries [t0, t0 + n) of one head (at p, stride ldp).</summary>
    private static void RowStatistics(AttentionShape s, int head, int t0, int n, float* p, long ldp, (double[] Entropy, double[] Distance) rows)
    {
        for (int i = 0; i < n; i++)
        {
            int pos = s.Start + t0 + i, r = head * s.Tokens + t0 + i;
            var row = new ReadOnlySpan<float>(p + i * ldp, pos + 1);
            rows.Entropy[r] = AttentionRows.Entropy(row);
            rows.Distance[r] = AttentionRows.Distance(row, pos);
        }
    }

    /// <summary>Scaled scores [Heads, T, Keys] into <paramref name="scores"/>; −∞ where a query does not see the key.</summary>
    public void Scores(ReadOnlySpan<float> q, ReadOnlySpan<float> k, AttentionShape s, Span<float> scores) =>
        ScoresOrProbabilities(q, k, s, scores, softmax: false);

    /// <summary>Attention probabilities [Heads, T, Keys] (softmax over each query's visible keys, 0 elsewhere).</summary>
    public void Probabilities(ReadOnlySpan<float> q, ReadOnlySpan<float> k, AttentionShape s, Span<float> pattern) =>
        ScoresOrProbabilities(q, k, s, pattern, softmax: true);

    /// <summary>Scores to probabilities in place (as <see cref="Probabilities"/> gives them); other entries of a
    /// query's row than its visible keys are ignored.</summary>
    public static void Softmax(Span<float> scores, AttentionShape s) => AttentionReference.Softmax(scores, s);

    /// <summary>
    /// z = pattern · v. Entries after each query's own position are first set to 0 in <paramref name="pattern"/> (the
    /// causal mask holds even for a pattern a hook has edited); entries before a sliding window count.
    /// </summary>
    public void Mix(Span<float> pattern, ReadOnlySpan<float> v, AttentionShape s, Span<float> z)
    {
        s.Check(v: v.Length, z: z.Length, pattern: pattern.Length);
        bool tiles = UsesTiles(s);
        fixed (float* pp = pattern, pv = v, pz = z)
        {
            var o = new Operands(null, null, pv, pz, s);
            if (tiles) PackValues(o);
            float* p0 = pp;
            long perHead = (long)s.Tokens * s.Keys;
            ForEachItem(s, (head, t0, n) =>
            {
                float* p = p0 + head * perHead + (long)t0 * s.Keys;
                // The item's own rows are masked by the thread that mixes them (a serial pass over the whole
                // pattern first was slower at 2 threads than the mixing at 1).
                for (int t = t0; t < t0 + n; t++)
                {
                    int visible = s.Start + t + 1;
                    new Span<float>(p + (long)(t - t0) * s.Keys + visible, s.Keys - visible).Clear();
                }
                if (tiles) { MixTiles(o, head, t0, n, p, s.Keys); return; }
                for (int t = t0; t < t0 + n; t++)
                    AttentionReference.MixRow(new ReadOnlySpan<float>(p0 + head * perHead + (long)t * s.Keys, s.Keys), o.VSpan, s, head, t, o.ZSpan);
            });
        }
    }

    private void ScoresOrProbabilities(ReadOnlySpan<float> q, ReadOnlySpan<float> k, AttentionShape s, Span<float> dst, bool softmax)
    {
        s.Check(q: q.Length, k: k.Length, pattern: dst.Length);
        bool tiles = UsesTiles(s);
        fixed (float* pq = q, pk = k, pd = dst)
        {
            var o = new Operands(pq, pk, null, null, s);
            if (tiles) PackKeys(o);
            float* d0 = pd;
            long perHead = (long)s.Tokens * s.Keys;
            ForEachItem(s, (head, t0, n) =>
            {
                float* p = d0 + head * perHead;
                if (tiles)
                {
                    ScoresTiles(o, head, t0, n, p + (long)t0 * s.Keys, s.Keys);
                    FinishRows(s, t0, n, p + (long)t0 * s.Keys, s.Keys, softmax);
                    return;
                }
                for (int t = t0; t < t0 + n; t++)
                {
                    var row = new Span<float>(p + (long)t * s.Keys, s.Keys);
                    AttentionReference.ScoreRow(o.QSpan, o.KSpan, s, head, t, row);
                    if (softmax) AttentionReference.SoftmaxRow(s, t, row);
                }
            });
        }
    }

    /// <summary>The buffers of one call, pinned by the caller for its duration.</summary>
    private readonly struct Operands(float* q, float* k, float* v, float* z, AttentionShape s)
    {
        public readonly float* Q = q, K = k, V = v, Z = z;
        public readonly AttentionShape S = s;
        public ReadOnlySpan<float> QSpan => new(Q, checked((int)S.QueryLength));
        public ReadOnlySpan<float> KSpan => new(K, checked((int)S.KeyLength));
        public ReadOnlySpan<float> VSpan => new(V, checked((int)S.KeyLength));
        public Span<float> ZSpan => new(Z, checked((int)S.QueryLength));
    }

    private static bool UsesTiles(AttentionShape s) => s.Tokens >= GemmKernel.Mr && GemmKernel.IsSupported;

    private static bool Parallel(AttentionShape s) => (double)s.Heads * s.Tokens * s.Keys * s.HeadDim > 100_000;

    /// <summary>Independent work items of a call: heads × query blocks, or 1 when the call is too small to share.</summary>
    public static int WorkItems(AttentionShape s) => Parallel(s) ? s.Heads * Blocks(s) : 1;

    private static int Blocks(AttentionShape s) => (s.Tokens + QueryBlock - 1) / QueryBlock;

    /// <summary>body(head, t0, n) for every head and block of queries [t0, t0 + n); the last blocks (the most keys
    /// under the causal mask) are handed out first, so the long items do not finish the loop alone.</summary>
    private static void ForEachItem(AttentionShape s, Action<int, int, int> body)
    {
        int blocks = Blocks(s), items = s.Heads * blocks;
        void Item(int i)
        {
            int head = i % s.Heads, t0 = (blocks - 1 - i / s.Heads) * QueryBlock;
            body(head, t0, Math.Min(QueryBlock, s.Tokens - t0));
        }
        if (Parallel(s)) System.Threading.Tasks.Parallel.For(0, items, Parallelism.Options, Item);
        else for (int i = 0; i < items; i++) Item(i);
    }

    private float[] Rent(long n) =>
        _blocks.TryTake(out var b) && b.Length >= n ? b : GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);

    private static void Grow(ref float[] buffer, long n)
    {
        if (buffer.Length < n) buffer = GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);
    }

    /// <summary>Kᵀ of every KV head, packed for <see cref="ScoresTiles"/>; keys past the last are zero.</summary>
    private void PackKeys(Operands o)
    {
        var s = o.S;
        int nr = GemmKernel.Nr, hd = s.HeadDim, padded = (s.Keys + nr - 1) / nr * nr;
        _keysStride = (long)padded * hd;
        Grow(ref _keys, _keysStride * s.KvHeads);
        fixed (float* kt0 = _keys)
        {
            float* kt = kt0;
            long stride = _keysStride;
            ForEachKvHead(s, g =>
            {
                float* head = kt + g * stride;
                int j = 0;
                // 8 keys × 8 dimensions at a time through a register transpose (nr is a multiple of 8, so 8 keys
                // never straddle two panels): one scalar store per value made this a tenth of the attention at 1
                // thread, and more at 2, where the buffer's lines move between cores.
                if (Avx.IsSupported && hd % 8 == 0)
                {
                    float** src = stackalloc float*[8];
                    float* zeros = stackalloc float[hd];
                    new Span<float>(zeros, hd).Clear();
                    for (; j < padded; j += 8)
                    {
                        for (int r = 0; r < 8; r++) src[r] = j + r < s.Keys ? o.K + (long)(j + r) * s.KvDim + g * hd : zeros;
                        float* dst = head + (long)(j / nr) * hd * nr + j % nr;
                        for (int d = 0; d < hd; d += 8) GemmKernel.Transpose8x8(src, d, dst + (long)d * nr, nr);
                    }
                }
                for (; j < padded; j++)
                {
                    float* dst = head + (long)(j / nr) * hd * nr + j % nr;
                    if (j < s.Keys)
                    {
                        float* src = o.K + (long)j * s.KvDim + g * hd;
                        for (int d = 0; d < hd; d++) dst[d * nr] = src[d];
                    }
                    else for (int d = 0; d < hd; d++) dst[d * nr] = 0f;
                }
            });
        }
    }

    /// <summary>V of every KV head with rows padded to whole Nr-wide chunks, for <see cref="MixTiles"/>.</summary>
    private void PackValues(Operands o)
    {
        var s = o.S;
        int nr = GemmKernel.Nr, hd = s.HeadDim, hdPad = (hd + nr - 1) / nr * nr;
        _valuesRow = hdPad;
        _valuesStride = (long)s.Keys * hdPad;
        Grow(ref _values, _valuesStride * s.KvHeads);
        fixed (float* vp0 = _values)
        {
            float* vp = vp0;
            long stride = _valuesStride;
            ForEachKvHead(s, g =>
            {
                for (int j = 0; j < s.Keys; j++)
                {
                    float* dst = vp + g * stride + (long)j * hdPad;
                    new ReadOnlySpan<float>(o.V + (long)j * s.KvDim + g * hd, hd).CopyTo(new Span<float>(dst, hd));
                    if (hdPad > hd) new Span<float>(dst + hd, hdPad - hd).Clear();
                }
            });
        }
    }

    private static void ForEachKvHead(AttentionShape s, Action<int> body)
    {
        if (Parallel(s)) System.Threading.Tasks.Parallel.For(0, s.KvHeads, Parallelism.Options, body);
        else for (int g = 0; g < s.KvHeads; g++) body(g);
    }

    /// <summary>Raw dot products q·k of queries [t0, t0 + n) of one head into rows p + (t − t0)·ldp, up to each tile's
    /// last visible key (the rest of a row is left as is for <see cref="FinishRows"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScoresTiles(Operands o, int head, int t0, int n, float* p, long ldp)
    {
        var s = o.S;
        int nr = GemmKernel.Nr, hd = s.HeadDim;
        long lda = s.QDim;
        fixed (float* kt0 = _keys)
        {
            float* kt = kt0 + head / s.Group * _keysStride;
            for (int i = 0; i < n; i += GemmKernel.Mr)
            {
                int m = Math.Min(GemmKernel.Mr, n - i);
                int lastKey = s.Start + t0 + i + m - 1; // the last key any of these queries sees
                float* a = o.Q + ((long)(t0 + i) * s.Heads + head) * hd;
                for (int jp = 0; jp * nr <= lastKey; jp++)
                    GemmKernel.Tile(nr, a, lda, 1, m, kt + (long)jp * hd * nr, nr, hd,
                        p + i * ldp + jp * nr, ldp, Math.Min(nr, s.Keys - jp * nr), accumulate: false);
            }
        }
    }

    /// <summary>Rows of queries [t0, t0 + n): the visible scores scaled by 1/√d, then either their softmax (0 at the
    /// other keys) or −∞ at the other keys.</summary>
    private static void FinishRows(AttentionShape s, int t0, int n, float* p, long ldp, bool softmax)
    {
        for (int i = 0; i < n; i++)
        {
            int pos = s.Start + t0 + i, lo = s.FirstKey(pos);
            var row = new Span<float>(p + i * ldp, s.Keys);
            var live = row[lo..(pos + 1)];
            TensorPrimitives.Multiply(live, s.Scale, live);
            if (softmax)
            {
                row[..lo].Clear();
                row[(pos + 1)..].Clear();
                Kernels.Softmax(live);
            }
            else
            {
                row[..lo].Fill(float.NegativeInfinity);
                row[(pos + 1)..].Fill(float.NegativeInfinity);
            }
        }
    }

    /// <summary>z rows of queries [t0, t0 + n) of one head = their probability rows (at p, stride ldp) · V; each tile
    /// reads keys up to its last query, so entries after a query's position must be 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MixTiles(Operands o, int head, int t0, int n, float* p, long ldp)
    {
        var s = o.S;
        int nr = GemmKernel.Nr, hd = s.HeadDim, hdPad = _valuesRow;
        long ldz = s.QDim;
        fixed (float* vp0 = _values)
        {
            float* vp = vp0 + head / s.Group * _valuesStride;
            for (int i = 0; i < n; i += GemmKernel.Mr)
            {
                int m = Math.Min(GemmKernel.Mr, n - i);
                int kc = s.Start + t0 + i + m; // keys up to the last of these queries
                float* zr = o.Z + ((long)(t0 + i) * s.Heads + head) * hd;
                for (int d = 0; d < hd; d += nr)
                    GemmKernel.Tile(nr, p + i * ldp, ldp, 1, m, vp + d, hdPad, kc, zr + d, ldz, Math.Min(nr, hd - d), accumulate: false);
            }
        }
    }
}
