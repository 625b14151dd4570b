using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mspgt.Numerics;

/// <summary>
/// Causal grouped-query attention (<see cref="AttentionShape"/>), fast. With at least <see cref="GemmKernel.Mr"/>
/// queries, scores (Q·Kᵀ) and mixing (P·V) run as small GEMMs on <see cref="GemmKernel"/> tiles over each KV head's
/// keys and values, packed once per call (by the first work item that reads them), skipping tiles wholly above the
/// causal diagonal. Fewer queries (decoding) or no SIMD take <see cref="AttentionReference"/>'s rows. The parallel
/// unit is one head × a run of <see cref="QueryBlock"/>-query blocks (<see cref="WorkItems"/>): whole heads when
/// they give every thread 4 items, down to single blocks (a 256-token prefill with 12 heads: 12 items at 2 threads,
/// 72 at 16). Each query row is computed the same way whatever the cut, so results do not depend on the thread count.
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
            var packed = tiles ? PreparePacking(s, keys: true, values: true) : null;
            ForEachItem(s, (head, t0, n) =>
            {
                var block = Rent((long)(tiles ? Math.Min(n, QueryBlock) : 1) * s.Keys);
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
                        EnsurePacked(o, head / s.Group, packed!);
                        // Score blocks of QueryBlock (Mr-aligned) queries: the same tiles whatever the item, so the same sums.
                        for (int b0 = t0; b0 < t0 + n; b0 += QueryBlock)
                        {
                            int bn = Math.Min(QueryBlock, t0 + n - b0);
                            ScoresTiles(o, head, b0, bn, pb, s.Keys);
                            FinishRows(s, b0, bn, pb, s.Keys, softmax: true);
                            if (rows is { } all) RowStatistics(s, head, b0, bn, pb, s.Keys, all);
                            MixTiles(o, head, b0, bn, pb, s.Keys);
                        }
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
            (rows.Entropy[r], rows.Distance[r]) = AttentionRows.Of(new ReadOnlySpan<float>(p + i * ldp, s.Keys), pos);
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
            var packed = tiles ? PreparePacking(s, keys: false, values: true) : null;
            float* p0 = pp;
            long perHead = (long)s.Tokens * s.Keys;
            ForEachItem(s, (head, t0, n) =>
            {
                if (tiles) EnsurePacked(o, head / s.Group, packed!);
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
            var packed = tiles ? PreparePacking(s, keys: true, values: false) : null;
            float* d0 = pd;
            long perHead = (long)s.Tokens * s.Keys;
            ForEachItem(s, (head, t0, n) =>
            {
                float* p = d0 + head * perHead;
                if (tiles)
                {
                    EnsurePacked(o, head / s.Group, packed!);
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

    /// <summary>Independent work items of a call at <paramref name="threads"/> threads: heads × runs of query blocks,
    /// or 1 when the call is too small to share.</summary>
    public static int WorkItems(AttentionShape s, int threads) => Parallel(s) ? s.Heads * ItemsPerHead(s, threads) : 1;

    private static int Blocks(AttentionShape s) => (s.Tokens + QueryBlock - 1) / QueryBlock;

    /// <summary>Items each head's query blocks are cut into: one (the whole head: its keys and values are packed
    /// and read by one core) when the heads alone give every thread 4 items, else as many as that takes, up to one
    /// per block. A 110M layer's attention with row statistics at 2 threads: 934 µs by median with whole heads,
    /// 1,176 with one block per item (whose items pull a head's packed keys and values into both cores' caches);
    /// 1,605 at 1 thread. Results do not depend on the cut.</summary>
    private static int ItemsPerHead(AttentionShape s, int threads) =>
        Math.Clamp((4 * Math.Max(1, threads) + s.Heads - 1) / s.Heads, 1, Blocks(s));

    /// <summary>body(head, t0, n) for every head and run of query blocks [t0, t0 + n); the last runs (the most keys
    /// under the causal mask) are handed out first, so the long items do not finish the loop alone.</summary>
    private static void ForEachItem(AttentionShape s, Action<int, int, int> body)
    {
        int blocks = Blocks(s), perHead = ItemsPerHead(s, Parallelism.Threads), items = s.Heads * perHead;
        int run = (blocks + perHead - 1) / perHead;
        void Item(int i)
        {
            int head = i % s.Heads, first = (perHead - 1 - i / s.Heads) * run;
            int t0 = first * QueryBlock, t1 = Math.Min(s.Tokens, (first + run) * QueryBlock);
            if (t1 > t0) body(head, t0, t1 - t0);
        }
        if (Parallel(s)) Parallelism.For(items, Item);
        else for (int i = 0; i < items; i++) Item(i);
    }

    private float[] Rent(long n) =>
        _blocks.TryTake(out var b) && b.Length >= n ? b : GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);

    private static void Grow(ref float[] buffer, long n)
    {
        if (buffer.Length < n) buffer = GC.AllocateUninitializedArray<float>(checked((int)n), pinned: true);
    }

    /// <summary>
    /// Sizes the packed keys and/or values for a call and returns its per-KV-head packing states. Heads are packed by
    /// the first work item that reads them (<see cref="EnsurePacked"/>), not in a pass of their own before the items:
    /// that pass was a parallel region that ran slower at 2 threads than at 1, and it wrote each head on one core for
    /// another to read.
    /// </summary>
    private Packing PreparePacking(AttentionShape s, bool keys, bool values)
    {
        int nr = GemmKernel.Nr, hd = s.HeadDim;
        if (keys)
        {
            _keysStride = (long)((s.Keys + nr - 1) / nr * nr) * hd;
            Grow(ref _keys, _keysStride * s.KvHeads);
        }
        if (values)
        {
            _valuesRow = (hd + nr - 1) / nr * nr;
            _valuesStride = (long)s.Keys * _valuesRow;
            Grow(ref _values, _valuesStride * s.KvHeads);
        }
        return new Packing(new int[s.KvHeads], keys, values);
    }

    /// <summary>One call's packing: per KV head 0 (not packed), 1 (being packed), 2 (packed) or −1 (failed), and
    /// what is packed.</summary>
    private sealed record Packing(int[] State, bool Keys, bool Values);

    /// <summary>KV head g's keys and/or values (as <see cref="PreparePacking"/> asked) packed, by this thread if it
    /// is the first to need them, else by waiting for the thread packing them (a few microseconds).</summary>
    private void EnsurePacked(Operands o, int g, Packing packing)
    {
        var state = packing.State;
        if (Volatile.Read(ref state[g]) == 2) return;
        if (Interlocked.CompareExchange(ref state[g], 1, 0) == 0)
        {
            int done = -1;
            try
            {
                if (packing.Keys) PackKeys(o, g);
                if (packing.Values) PackValues(o, g);
                done = 2;
            }
            finally { Volatile.Write(ref state[g], done); }
            return;
        }
        var spin = new SpinWait();
        int now;
        while ((now = Volatile.Read(ref state[g])) == 1) spin.SpinOnce();
        if (now != 2) throw new InvalidOperationException($"packing KV head {g} failed on another thread");
    }

    /// <summary>Kᵀ of KV head g, packed for <see cref="ScoresTiles"/>; keys past the last are zero.</summary>
    private void PackKeys(Operands o, int g)
    {
        var s = o.S;
        int nr = GemmKernel.Nr, hd = s.HeadDim, padded = (s.Keys + nr - 1) / nr * nr;
        fixed (float* kt = _keys)
        {
            float* head = kt + g * _keysStride;
            int j = 0;
            // 8 keys × 8 dimensions at a time through a register transpose (nr is a multiple of 8, so 8 keys never
            // straddle two panels): one scalar store per value made this a tenth of the attention at 1 thread.
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
        }
    }

    /// <summary>V of KV head g with rows padded to whole Nr-wide chunks, for <see cref="MixTiles"/>.</summary>
    private void PackValues(Operands o, int g)
    {
        var s = o.S;
        int hd = s.HeadDim, hdPad = _valuesRow;
        fixed (float* vp = _values)
        {
            for (int j = 0; j < s.Keys; j++)
            {
                float* dst = vp + g * _valuesStride + (long)j * hdPad;
                new ReadOnlySpan<float>(o.V + (long)j * s.KvDim + g * hd, hd).CopyTo(new Span<float>(dst, hd));
                if (hdPad > hd) new Span<float>(dst + hd, hdPad - hd).Clear();
            }
        }
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
