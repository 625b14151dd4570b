using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Mspgt.Checkpoints;

namespace Mspgt.Numerics;

/// <summary>
/// y[T, rows] = x[T, cols] · Wᵀ for a weight in any stored type. Activations stay float32 (the analysis must see
/// the model itself); quantized weights are dequantized to float32 a panel at a time, never up front.
/// <list type="bullet">
/// <item>Prefill (T ≥ <see cref="GemmMinTokens"/>): a packed GEMM. Output columns are split into tiles of a few
/// <see cref="GemmKernel.Nr"/>-wide panels, and, when those are too few for the threads, the T activation rows
/// into blocks as well (<see cref="GemmPartition"/>; a tile × block is the parallel unit); per item and per
/// <see cref="Kc"/>-long slice of the inner dimension, the tile's weight rows are decoded into a per-thread
/// buffer, packed k-major and swept over the block's activation rows by the outer-product micro-kernel.</item>
/// <item>Decode (T &lt; <see cref="GemmMinTokens"/>): memory-bound matrix-vector products; panels of 32 weight
/// rows (decoded to float32 unless already F32) dotted with each activation row by a 4-row FMA kernel.</item>
/// </list>
/// Each output element is computed by one thread in a fixed order, so results are deterministic and do not
/// depend on the number of threads.
/// </summary>
public static unsafe class MatMul
{
    private const int PanelRows = 32;

    /// <summary>From this many activation rows on, the packed GEMM is used.</summary>
    public const int GemmMinTokens = 4;

    /// <summary>Inner-dimension slice: a multiple of every block size (256 covers Q4_K / Q6_K), so slices are block-aligned.</summary>
    internal const int Kc = 256;

    /// <summary>Activation rows per sweep of a packed panel: Mc × Kc floats (144 KiB) stay in L2.</summary>
    internal const int Mc = 144;

    /// <summary>
    /// This thread's buffers, pinned, grown on demand and kept, so the hot loops allocate nothing once warm: the
    /// packed activations of a GEMM (calling thread), a tile's packed weights or a decoded panel, decoded rows, and the
    /// panels of weights whose tokens a call splits (calling thread).
    /// </summary>
    [ThreadStatic] private static float[]? _packedActivations, _packedWeights, _decodedRows, _sharedPanels;

    private static float[] ThreadBuffer(ref float[]? buffer, long n)
    {
        if (buffer == null || buffer.Length < n)
            buffer = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(n, Math.Min(int.MaxValue / 2, (buffer?.Length ?? 0) * 3L / 2))), pinned: true);
        return buffer;
    }

    public static void Multiply(ReadOnlySpan<float> x, int tokens, WeightMatrix w, Span<float> y)
    {
        int cols = w.Cols, rows = w.Rows;
        CheckOperands(x, tokens, w, y.Length);
        if (tokens == 0 || rows == 0) return;
        if (cols == 0) { y[..(tokens * rows)].Clear(); return; }
        fixed (float* px = x, py = y)
        {
            if (tokens >= GemmMinTokens && GemmKernel.IsSupported) Gemm(px, tokens, [w], [(nint)py], SharedPanelBytes);
            else MatrixVector(px, tokens, w, py);
        }
    }

    /// <summary>
    /// y_i = x · W_iᵀ for several weights that read the same activations (a layer's q, k and v projections; its gate
    /// and up projections): each output exactly as <see cref="Multiply"/> gives it, but in a prefill the activations
    /// are packed once for all of them and every weight's work items run in one parallel loop — one fork and join
    /// instead of one per weight, and the items of all of them to balance the threads with.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> x, int tokens, ReadOnlySpan<WeightMatrix> weights, ReadOnlySpan<float[]> outputs) =>
        Multiply(x, tokens, weights, outputs, SharedPanelBytes);

    /// <summary>The same with the shared panels held to <paramref name="sharedPanelBytes"/> (tests make them small
    /// enough to take several passes over the inner dimension).</summary>
    internal static void Multiply(ReadOnlySpan<float> x, int tokens, ReadOnlySpan<WeightMatrix> weights, ReadOnlySpan<float[]> outputs,
        long sharedPanelBytes)
    {
        if (weights.Length != outputs.Length) throw new ArgumentException("one output per weight");
        if (weights.IsEmpty) return;
        int cols = weights[0].Cols;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i].Cols != cols) throw new ArgumentException("the weights differ in their inner dimension");
            CheckOperands(x, tokens, weights[i], outputs[i].Length);
        }
        if (tokens < GemmMinTokens || !GemmKernel.IsSupported || cols == 0)
        {
            for (int i = 0; i < weights.Length; i++) Multiply(x, tokens, weights[i], outputs[i]);
            return;
        }
        // A weight without rows has no work items in Gemm.
        var handles = new System.Buffers.MemoryHandle[outputs.Length];
        var ys = new nint[outputs.Length];
        try
        {
            for (int i = 0; i < outputs.Length; i++) ys[i] = (nint)(handles[i] = outputs[i].AsMemory().Pin()).Pointer;
            fixed (float* px = x) Gemm(px, tokens, weights.ToArray(), ys, sharedPanelBytes);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    private static void CheckOperands(ReadOnlySpan<float> x, int tokens, WeightMatrix w, int yLength)
    {
        if (tokens < 0) throw new ArgumentException("tokens must be ≥ 0");
        if (x.Length < (long)tokens * w.Cols) throw new ArgumentException("x is shorter than tokens * cols");
        if (yLength < (long)tokens * w.Rows) throw new ArgumentException("y is shorter than tokens * rows");
    }

    /// <summary>
    /// How a prefill GEMM of <paramref name="tokens"/> activation rows against a weight of <paramref name="rows"/>
    /// output rows is cut into independent work items: column tiles of <c>ColumnTile</c> output columns (a whole
    /// number of <see cref="GemmKernel.Nr"/>-wide panels, 4 at most) times token blocks of <c>TokenBlock</c>
    /// activation rows (a multiple of <see cref="GemmKernel.Mr"/>). Tiles shrink first, so that there are at least 4
    /// items per thread (dynamic scheduling then balances well even when other processes share the cores); only when
    /// single-panel tiles are still too few are the tokens split as well (each block then decodes and packs its
    /// tiles' weights again, which costs little against the block's arithmetic). Every output element is the same
    /// fused-multiply-add chain over k whatever the cut, so results do not depend on it.
    /// </summary>
    public static (int ColumnTile, int ColumnTiles, int TokenBlock, int TokenBlocks) GemmPartition(int tokens, int rows, int threads)
    {
        var (nc, tiles) = ColumnTiles(rows, threads);
        var (mb, blocks) = TokenBlocks(tokens, tiles, threads);
        return (nc, tiles, mb, blocks);
    }

    /// <summary>
    /// The cut of one call over several weights that read the same activations (<see cref="Multiply(ReadOnlySpan{float}, int, ReadOnlySpan{WeightMatrix}, ReadOnlySpan{float[]})"/>):
    /// each weight's column tiles as <see cref="GemmPartition"/> makes them, but the tokens are split only when the
    /// tiles of all the weights together are too few for the threads, since they all run in one loop. At 16
    /// threads a 768-wide q, k and v have 24 single-panel tiles each: 72 together, enough, so each weight's slices
    /// are decoded and packed once rather than once per token block (3 blocks each, cut alone). Weights without
    /// rows get (0, 0, 0, 0).
    /// </summary>
    public static (int ColumnTile, int ColumnTiles, int TokenBlock, int TokenBlocks)[] GemmPartitions(int tokens, ReadOnlySpan<int> rows, int threads)
    {
        var parts = new (int, int, int, int)[rows.Length];
        var tiles = new int[rows.Length];
        int columns = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i] <= 0) continue;
            (parts[i].Item1, tiles[i]) = ColumnTiles(rows[i], threads);
            columns += tiles[i];
        }
        var (mb, blocks) = TokenBlocks(tokens, columns, threads);
        for (int i = 0; i < rows.Length; i++)
            if (rows[i] > 0) parts[i] = (parts[i].Item1, tiles[i], mb, blocks);
        return parts;
    }

    // Column tiles of 1–4 Nr-wide panels, shrunk until there are 4 per thread (or single panels).
    private static (int Width, int Tiles) ColumnTiles(int rows, int threads)
    {
        int nr = GemmKernel.Nr, minItems = 4 * Math.Max(1, threads);
        int nc = 4 * nr;
        while (nc > nr && (rows + nc - 1) / nc < minItems) nc -= nr;
        return (nc, (rows + nc - 1) / nc);
    }

    // Token blocks (a multiple of Mr rows, at least MinTokenBlock) when the column tiles are fewer than 4 per thread.
    private static (int Length, int Blocks) TokenBlocks(int tokens, int tiles, int threads)
    {
        int mr = GemmKernel.Mr, minItems = 4 * Math.Max(1, threads);
        if (tiles >= minItems || tiles == 0) return (tokens, 1);
        int blocks = Math.Min((minItems + tiles - 1) / tiles, Math.Max(1, tokens / MinTokenBlock));
        int mb = ((tokens + blocks - 1) / blocks + mr - 1) / mr * mr;
        return (mb, (tokens + mb - 1) / mb);
    }

    /// <summary>Fewest activation rows in a token block of <see cref="GemmPartition"/>.</summary>
    private const int MinTokenBlock = 8 * GemmKernel.Mr;

    /// <summary>Below this many multiply-adds a GEMM runs on the calling thread.</summary>
    private const double MinParallelWork = 2_000_000;

    /// <summary>Independent work items of a prefill GEMM at <paramref name="threads"/> threads (1 when it runs serially).</summary>
    public static int GemmWorkItems(int tokens, int rows, int cols, int threads) => GemmWorkItems(tokens, [rows], cols, threads);

    /// <summary>Work items of one call over weights of <paramref name="rows"/> output rows each, all of
    /// <paramref name="cols"/> inputs (<see cref="GemmPartitions"/>; 1 when it runs serially).</summary>
    public static int GemmWorkItems(int tokens, ReadOnlySpan<int> rows, int cols, int threads)
    {
        double work = 0;
        foreach (int r in rows) work += (double)tokens * r * cols;
        if (tokens < GemmMinTokens || work < MinParallelWork) return 1;
        int items = 0;
        foreach (var p in GemmPartitions(tokens, rows, threads)) items += p.ColumnTiles * p.TokenBlocks;
        return items;
    }

    /// <summary>Mr-row activation panels per work item of a prefill GEMM's packing.</summary>
    private const int PackPanelsPerItem = 1;

    /// <summary>Work items of packing a prefill GEMM's activations (<paramref name="tokens"/> × <paramref name="cols"/>)
    /// when the product over <paramref name="rows"/> output rows runs in parallel (1 when it runs serially).</summary>
    public static int PackingWorkItems(int tokens, int rows, int cols)
    {
        if (tokens < GemmMinTokens || (double)tokens * rows * cols < MinParallelWork) return 1;
        int panels = (tokens + GemmKernel.Mr - 1) / GemmKernel.Mr;
        return Parallelism.Chunks(panels, PackPanelsPerItem, (long)tokens * cols);
    }

    /// <summary>
    /// Most bytes of weight panels that one GEMM call packs up front for the token blocks that share them (below):
    /// past it the inner dimension goes in passes, each packing and sweeping its own run of k-slices. Without a bound
    /// the buffer was a whole weight decoded to float32 and kept by the calling thread: 17.4 MB for the 0.5B shape's
    /// down projection at 16 threads (5 passes of 3.7 MB now; 8 MB, 3 passes, left Q4_K's `run` at 16 threads 1.30×
    /// its file), which took analyze over 1.3× the Q8_0 file there. Each pass adds two parallel loops to the call.
    /// </summary>
    public const long SharedPanelBytes = 4L << 20;

    /// <summary>y_i = x · W_iᵀ for every weight (the same inner dimension, outputs at ys[i]): x packed once, then the
    /// work items of every weight's own <see cref="GemmPartition"/> in one loop.</summary>
    private static void Gemm(float* x, int tokens, WeightMatrix[] weights, nint[] ys, long sharedPanelBytes)
    {
        int cols = weights[0].Cols, nr = GemmKernel.Nr;
        var parts = GemmPartitions(tokens, weights.Select(w => w.Rows).ToArray(), Parallelism.Threads);   // no rows: no items
        var firstItem = new int[weights.Length + 1];
        double work = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            firstItem[i + 1] = firstItem[i] + parts[i].ColumnTiles * parts[i].TokenBlocks;
            work += (double)tokens * weights[i].Rows * cols;
        }
        bool parallel = work >= MinParallelWork;
        // A weight whose tokens are split into blocks (many threads, few column tiles) has its tiles' panels packed
        // once, up front, into a buffer of this call that every block's item reads; packed by each item, every block
        // decoded and packed the same panels again (3 times for the 110M's o and down at 16 threads). The tokens are
        // split alike for every weight of a call, so either all of them share panels or none does. The buffer holds
        // a run of k-slices of every tile at a time, as many as keep it within sharedPanelBytes: each pass packs its
        // slices, then sweeps them over every block. Each output element still takes its k-slices in order, each
        // the same chain of multiply-adds, so the passes change no value.
        int kSlices = (cols + Kc - 1) / Kc;
        bool shared = parts.Any(p => p.TokenBlocks > 1);
        long wholeLength = 0;
        foreach (var p in parts) wholeLength += (long)p.ColumnTiles * p.ColumnTile * cols;
        int passes = shared ? (int)Math.Clamp((wholeLength * sizeof(float) + sharedPanelBytes - 1) / Math.Max(1, sharedPanelBytes), 1, kSlices) : 1;
        int slicesPerPass = (kSlices + passes - 1) / passes;
        passes = (kSlices + slicesPerPass - 1) / slicesPerPass;
        int passCols = Math.Min(cols, slicesPerPass * Kc);
        var sharedAt = new long[weights.Length];   // where each weight's tiles start in the shared buffer
        long sharedLength = 0;
        for (int m = 0; shared && m < weights.Length; m++)
        {
            sharedAt[m] = sharedLength;
            sharedLength += (long)parts[m].ColumnTiles * parts[m].ColumnTile * passCols;
        }
        float[] sharedPanels = shared ? ThreadBuffer(ref _sharedPanels, sharedLength) : [];
        // The activations, packed once and shared read-only by every tile.
        long packedRows = (tokens + GemmKernel.Mr - 1) / GemmKernel.Mr * GemmKernel.Mr;
        float[] packed = ThreadBuffer(ref _packedActivations, packedRows * cols);
        fixed (float* xp = packed, sp = sharedPanels)
        {
            float* ap = xp, panels = sp;
            // Packed in parallel, one Mr-row panel per item: done serially it was 7-8% of a 256-token GEMM, the part
            // that a second thread could not share, and in chunks of 8 panels a 256-token prefill had 6 items for 16
            // threads. Each panel is the same copy the whole call makes (only the last pads, with the last row), so
            // the packed values do not depend on the cut.
            int panelsA = (int)(packedRows / GemmKernel.Mr);
            void PackChunk(int p0, int p1)
            {
                int r0 = p0 * GemmKernel.Mr;
                GemmKernel.PackA(x + (long)r0 * cols, cols, Math.Min(tokens - r0, (p1 - p0) * GemmKernel.Mr), cols, ap + (long)r0 * cols);
            }
            if (!parallel) PackChunk(0, panelsA);
            else Parallelism.ForChunks(panelsA, PackPanelsPerItem, (long)tokens * cols, PackChunk);
            int items = firstItem[^1];
            void Loop(int count, Action<int> body)
            {
                if (!parallel || count == 1)
                    for (int i = 0; i < count; i++) body(i);
                else Parallelism.For(count, body);
            }
            // Without shared panels, one pass over the whole inner dimension whose items pack their own.
            for (int pass = 0; pass < passes; pass++)
            {
                int kBegin = pass * slicesPerPass * Kc, kEnd = Math.Min(cols, kBegin + passCols), slices = (kEnd - kBegin + Kc - 1) / Kc;
                // Tile t of weight m in the shared buffer: its panels for this pass's k-slices, slice k0 at panels·nr·(k0 − kBegin).
                float* TilePanels(int m, int t) => panels + sharedAt[m] + (long)t * parts[m].ColumnTile * passCols;
                if (shared)
                {
                    int packItems = 0;
                    foreach (var p in parts) packItems += p.ColumnTiles * slices;
                    Loop(packItems, i =>
                    {
                        int m = 0;
                        while (i >= parts[m].ColumnTiles * slices) i -= parts[m++].ColumnTiles * slices;
                        var (nc, _, _, _) = parts[m];
                        var w = weights[m];
                        int t = i / slices, k0 = kBegin + i % slices * Kc, n0 = t * nc, nv = Math.Min(nc, w.Rows - n0);
                        float[] row = ThreadBuffer(ref _decodedRows, 8L * Kc);
                        fixed (float* rp = row)
                            PackWeights(nr, w, n0, nv, k0, Math.Min(Kc, cols - k0), TilePanels(m, t) + (long)(nv + nr - 1) / nr * nr * (k0 - kBegin), rp);
                    });
                }
                Loop(items, i =>
                {
                    var (m, t, m0, mb) = ItemOf(i);
                    GemmTile(nr, ap, m0, mb, weights[m], (float*)ys[m], t * parts[m].ColumnTile,
                        Math.Min(parts[m].ColumnTile, weights[m].Rows - t * parts[m].ColumnTile), shared ? TilePanels(m, t) : null, kBegin, kEnd);
                });
            }
        }

        // Work item i: weight m, its column tile t, and its token block's first row and length.
        (int M, int Tile, int Row0, int Rows) ItemOf(int i)
        {
            int m = 0;
            while (firstItem[m + 1] <= i) m++;
            var (_, tiles, mb, _) = parts[m];
            int j = i - firstItem[m], b = j / tiles, m0 = b * mb;
            return (m, j % tiles, m0, Math.Min(mb, tokens - m0));
        }
    }

    /// <summary>Output columns [n0, n0 + nv) for activation rows [t0, t0 + tokens) (t0 a multiple of Mr), over the
    /// inner dimension's k-slices from <paramref name="kBegin"/> to <paramref name="kEnd"/> (added to y unless kBegin
    /// is 0); ap = the activations packed by GemmKernel.PackA; <paramref name="prepacked"/>: the tile's weight panels
    /// already packed for those slices (slice k0 at panels·nr·(k0 − kBegin)), else packed here slice by slice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmTile(int nr, float* ap, int t0, int tokens, WeightMatrix w, float* y, int n0, int nv, float* prepacked, int kBegin, int kEnd)
    {
        int panels = (nv + nr - 1) / nr;
        if (prepacked != null)
        {
            for (int k0 = kBegin; k0 < kEnd; k0 += Kc)
                SweepSlice(nr, ap, t0, tokens, w, y, n0, nv, k0, prepacked + (long)panels * nr * (k0 - kBegin));
            return;
        }
        float[] pack = ThreadBuffer(ref _packedWeights, (long)panels * nr * Kc);
        float[] row = ThreadBuffer(ref _decodedRows, 8L * Kc);
        fixed (float* pp = pack, rp = row)
        {
            for (int k0 = kBegin; k0 < kEnd; k0 += Kc)
            {
                PackWeights(nr, w, n0, nv, k0, Math.Min(Kc, kEnd - k0), pp, rp);
                SweepSlice(nr, ap, t0, tokens, w, y, n0, nv, k0, pp);
            }
        }
    }

    /// <summary>One k-slice [k0, k0 + Kc) of a tile's packed weight panels <paramref name="pp"/> swept over the
    /// activation rows [t0, t0 + tokens) in blocks of <see cref="Mc"/>, added to y (the first slice writes it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SweepSlice(int nr, float* ap, int t0, int tokens, WeightMatrix w, float* y, int n0, int nv, int k0, float* pp)
    {
        int cols = w.Cols, rows = w.Rows, kc = Math.Min(Kc, cols - k0);
        for (int m0 = t0; m0 < t0 + tokens; m0 += Mc)
            GemmKernel.Block(nr, ap + (long)m0 * cols + (long)k0 * GemmKernel.Mr, cols, Math.Min(Mc, t0 + tokens - m0), pp, kc, nv,
                y + (long)m0 * rows + n0, rows, accumulate: k0 > 0);
    }

    /// <summary>
    /// Weight rows [n0, n0 + nv), columns [k0, k0 + kc), as float32 panels of nr rows stored k-major:
    /// dst[p·kc·nr + k·nr + i] = W[n0 + p·nr + i, k0 + k]; lanes past nv are zero. Rows go 8 at a time (decoded
    /// into rowBuf unless F32) through 8 × 8 register transposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackWeights(int nr, WeightMatrix w, int n0, int nv, int k0, int kc, float* dst, float* rowBuf)
    {
        int padded = (nv + nr - 1) / nr * nr;
        bool f32 = w.Type == TensorType.F32;
        float** src = stackalloc float*[8];
        for (int i0 = 0; i0 < padded; i0 += 8)
        {
            // The next 8 rows' stored bytes start loading while these are decoded: decoded weights are read a few
            // hundred bytes per row, rows apart, which the hardware prefetcher does not follow, and waiting for them
            // was about a third of the decode time (Q8_0 and BF16 110M prefill 5-6% faster at 1 thread). F32 rows
            // are read in 1 KB runs, which it does follow; hints for them made it slower.
            if (!f32) w.Prefetch(n0 + i0 + 8, Math.Min(8, nv - i0 - 8), k0, kc);
            for (int r = 0; r < 8; r++)
            {
                int i = i0 + r;
                float* buf = rowBuf + (long)r * kc;
                if (i >= nv) { new Span<float>(buf, kc).Clear(); src[r] = buf; }
                else if (f32) src[r] = w.F32RowPointer(n0 + i) + k0;
                else { w.DecodeRowRange(n0 + i, k0, new Span<float>(buf, kc)); src[r] = buf; }
            }
            float* d = dst + (long)(i0 / nr) * kc * nr + i0 % nr;
            int k = 0;
            if (Avx.IsSupported)
                for (; k + 8 <= kc; k += 8) GemmKernel.Transpose8x8(src, k, d + (long)k * nr, nr);
            for (; k < kc; k++)
                for (int r = 0; r < 8; r++) d[(long)k * nr + r] = src[r][k];
        }
    }

    private static void MatrixVector(float* x, int tokens, WeightMatrix w, float* y)
    {
        int cols = w.Cols, rows = w.Rows;
        int panels = (rows + PanelRows - 1) / PanelRows;
        double work = (double)tokens * rows * cols;
        bool decode = w.Type != TensorType.F32;
        if (work < 200_000 || panels == 1)
        {
            for (int p = 0; p < panels; p++) Panel(x, tokens, w, y, p, decode ? ThreadBuffer(ref _packedWeights, (long)PanelRows * cols) : null);
        }
        else
        {
            Parallelism.For(panels, p => Panel(x, tokens, w, y, p, decode ? ThreadBuffer(ref _packedWeights, (long)PanelRows * cols) : null));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel(float* x, int tokens, WeightMatrix w, float* y, int panel, float[]? buf)
    {
        int cols = w.Cols, rows = w.Rows;
        int r0 = panel * PanelRows;
        int n = Math.Min(PanelRows, rows - r0);
        float** rowPtr = stackalloc float*[PanelRows];
        fixed (float* pb = buf)
        {
            if (buf == null)
            {
                for (int i = 0; i < n; i++) rowPtr[i] = w.F32RowPointer(r0 + i);
            }
            else
            {
                w.DecodeRows(r0, n, buf.AsSpan(0, n * cols));
                for (int i = 0; i < n; i++) rowPtr[i] = pb + (long)i * cols;
            }
            int t = 0;
            for (; t + 4 <= tokens; t += 4)
            {
                int i = 0;
                for (; i + 4 <= n; i += 4) Kernel4x4(x + (long)t * cols, cols, rowPtr + i, y + (long)t * rows + r0 + i, rows);
                for (; i < n; i++)
                    for (int tt = 0; tt < 4; tt++)
                        y[(long)(t + tt) * rows + r0 + i] = Dot(x + (long)(t + tt) * cols, rowPtr[i], cols);
            }
            for (; t < tokens; t++)
            {
                float* xr = x + (long)t * cols;
                float* yr = y + (long)t * rows + r0;
                int i = 0;
                for (; i + 4 <= n; i += 4) Kernel1x4(xr, cols, rowPtr + i, yr + i);
                for (; i < n; i++) yr[i] = Dot(xr, rowPtr[i], cols);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<float>(a, n), new ReadOnlySpan<float>(b, n));

    /// <summary>4 activation rows × 4 weight rows, 16 accumulators of 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x4(float* x, int cols, float** w, float* y, int ldy)
    {
        if (!Fma.IsSupported || cols < 8)
        {
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    y[a * ldy + b] = Dot(x + a * cols, w[b], cols);
            return;
        }
        float* x0 = x, x1 = x + cols, x2 = x + 2 * cols, x3 = x + 3 * cols;
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int k = 0;
        for (; k + 8 <= cols; k += 8)
        {
            var b0 = Avx.LoadVector256(w0 + k); var b1 = Avx.LoadVector256(w1 + k);
            var b2 = Avx.LoadVector256(w2 + k); var b3 = Avx.LoadVector256(w3 + k);
            var a = Avx.LoadVector256(x0 + k);
            c00 = Fma.MultiplyAdd(a, b0, c00); c01 = Fma.MultiplyAdd(a, b1, c01); c02 = Fma.MultiplyAdd(a, b2, c02); c03 = Fma.MultiplyAdd(a, b3, c03);
            a = Avx.LoadVector256(x1 + k);
            c10 = Fma.MultiplyAdd(a, b0, c10); c11 = Fma.MultiplyAdd(a, b1, c11); c12 = Fma.MultiplyAdd(a, b2, c12); c13 = Fma.MultiplyAdd(a, b3, c13);
            a = Avx.LoadVector256(x2 + k);
            c20 = Fma.MultiplyAdd(a, b0, c20); c21 = Fma.MultiplyAdd(a, b1, c21); c22 = Fma.MultiplyAdd(a, b2, c22); c23 = Fma.MultiplyAdd(a, b3, c23);
            a = Avx.LoadVector256(x3 + k);
            c30 = Fma.MultiplyAdd(a, b0, c30); c31 = Fma.MultiplyAdd(a, b1, c31); c32 = Fma.MultiplyAdd(a, b2, c32); c33 = Fma.MultiplyAdd(a, b3, c33);
        }
        float* r = stackalloc float[16];
        r[0] = Vector256.Sum(c00); r[1] = Vector256.Sum(c01); r[2] = Vector256.Sum(c02); r[3] = Vector256.Sum(c03);
        r[4] = Vector256.Sum(c10); r[5] = Vector256.Sum(c11); r[6] = Vector256.Sum(c12); r[7] = Vector256.Sum(c13);
        r[8] = Vector256.Sum(c20); r[9] = Vector256.Sum(c21); r[10] = Vector256.Sum(c22); r[11] = Vector256.Sum(c23);
        r[12] = Vector256.Sum(c30); r[13] = Vector256.Sum(c31); r[14] = Vector256.Sum(c32); r[15] = Vector256.Sum(c33);
        for (; k < cols; k++)
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    r[a * 4 + b] += x[a * cols + k] * w[b][k];
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                y[a * ldy + b] = r[a * 4 + b];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel1x4(float* x, int cols, float** w, float* y)
    {
        if (!Fma.IsSupported || cols < 8)
        {
            for (int b = 0; b < 4; b++) y[b] = Dot(x, w[b], cols);
            return;
        }
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        int k = 0;
        for (; k + 8 <= cols; k += 8)
        {
            var a = Avx.LoadVector256(x + k);
            c0 = Fma.MultiplyAdd(a, Avx.LoadVector256(w0 + k), c0);
            c1 = Fma.MultiplyAdd(a, Avx.LoadVector256(w1 + k), c1);
            c2 = Fma.MultiplyAdd(a, Avx.LoadVector256(w2 + k), c2);
            c3 = Fma.MultiplyAdd(a, Avx.LoadVector256(w3 + k), c3);
        }
        float s0 = Vector256.Sum(c0), s1 = Vector256.Sum(c1), s2 = Vector256.Sum(c2), s3 = Vector256.Sum(c3);
        for (; k < cols; k++)
        {
            float xv = x[k];
            s0 += xv * w0[k]; s1 += xv * w1[k]; s2 += xv * w2[k]; s3 += xv * w3[k];
        }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
    }
}
