using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>The layer × layer CKA matrix of <see cref="LinearCka"/>: its two forms, the bands and blocks they go in
/// within a memory budget, and the cost that chooses between them.</summary>
public static partial class LinearCka
{
    /// <summary>
    /// The symmetric layer × layer CKA matrix for representations of the same samples (one matrix per layer, all
    /// with the same rows), with 1 on the diagonal. With <paramref name="maxSamples"/> &gt; 0 and more samples than
    /// that, one seeded uniform subset of rows (the same for every layer) is used; 0 uses all rows.
    /// </summary>
    public static DenseMatrix LayerMatrix(IReadOnlyList<DenseMatrix> layers, int maxSamples = 0, int seed = 0) =>
        LayerMatrix(layers.Count, l => layers[l], maxSamples, seed);

    /// <summary>
    /// <see cref="LayerMatrix(IReadOnlyList{DenseMatrix}, int, int)"/> with each layer's matrix made by
    /// <paramref name="layer"/> when it is needed (read from a sample store, say; the matrix is read before the next
    /// call and never kept, so the caller may fill one buffer every time), in whichever of two forms costs less over
    /// the whole matrix (<see cref="SampleFormCheaper"/>, decided from layer 0's shape), within about
    /// <paramref name="budgetBytes"/> of working memory:
    /// <list type="bullet">
    /// <item>the sample form, tr(Kx Ky) with K = Xc Xcᵀ (n × n), where n is small against d: every layer's Gram
    /// formed a band of rows at a time (<see cref="InBands"/>), each entry once, so that no layer's whole Gram is
    /// ever held; every layer is made again for each band (one band when they all fit, as for a few documents);</item>
    /// <item>the feature form, ‖XcᵀYc‖²_F, where n is large: the layers go in blocks that fit the budget, a block's
    /// layers (Xcᵀ and its norm) kept while every later layer is made again, paired with them and let go (its norm,
    /// the costly part, is kept from the first time). At 4,096 rows of 256 dimensions (64 documents) a layer is
    /// 8.4 MB and 25 of them would be 210 MB, while the default 32 MB keeps 3 (the pair products, 4,096 × 256² each,
    /// cost far more than the reloads). Each pair's value is <see cref="Compute(DenseMatrix, DenseMatrix)"/>'s bit
    /// for bit (a layer wider than n keeps its sample Gram, as there).</item>
    /// </list>
    /// Until 2026-12-07 the sample form kept whole Grams in the blocks and made every later layer's Gram again for
    /// each block: at 1,024 rows (16 documents) 117 Grams of 8.4 MB for 25 layers, at 2,048 rows 325.
    /// </summary>
    public static DenseMatrix LayerMatrix(int count, Func<int, DenseMatrix> layer, int maxSamples = 0, int seed = 0,
        long budgetBytes = DefaultBudget) => InForm(null, count, layer, maxSamples, seed, budgetBytes);

    /// <summary>The layer matrix in the form asked for (null: the cheaper one, as <see cref="LayerMatrix(int,
    /// Func{int, DenseMatrix}, int, int, long)"/> takes it); tests reach each form's mechanics at any budget.</summary>
    internal static DenseMatrix InForm(bool? sampleForm, int count, Func<int, DenseMatrix> layer, int maxSamples = 0, int seed = 0,
        long budgetBytes = DefaultBudget)
    {
        if (count == 0) throw new MspgtException(Source, "no layer representations given");
        var first = layer(0);
        SampleChecks.Require(first, Source, MinimumSamples);
        int gathered = first.Rows;
        var rows = SeededSampling.Subset(gathered, maxSamples, seed);
        int n = rows.Length;
        return sampleForm ?? (first.Cols > n || SampleFormCheaper(count, n, first.Cols, gathered, budgetBytes))
            ? InBands(count, layer, first, gathered, rows, budgetBytes)
            : InBlocks(count, layer, first, gathered, rows, budgetBytes);
    }

    /// <summary>Layer <paramref name="l"/> from the loader, with layer 0's row count and (when <paramref name="check"/>)
    /// 2 or more finite samples; layer 0 itself is checked once, by <see cref="InForm"/>, before either form runs.</summary>
    private static DenseMatrix Made(Func<int, DenseMatrix> layer, int l, int gathered, bool check = true)
    {
        var x = layer(l);
        if (x.Rows != gathered) throw new MspgtException(Source, $"layer {l} has {x.Rows} samples but layer 0 has {gathered}");
        if (check) SampleChecks.Require(x, Source, MinimumSamples);
        return x;
    }

    /// <summary>Working memory <see cref="LayerMatrix(int, Func{int, DenseMatrix}, int, int, long)"/> keeps to by default.</summary>
    public const long DefaultBudget = 32L << 20;

    // The feature form in blocks of layers (see LayerMatrix); first is layer 0's matrix, already made.
    private static DenseMatrix InBlocks(int count, Func<int, DenseMatrix> layer, DenseMatrix first, int gathered, int[] rows, long budgetBytes)
    {
        var norms = new double[count];
        DenseMatrix? pending = first;
        // Xcᵀ arrays of layers let go (a finished block's, each later layer's), reused by the next layer of the same
        // size: the matrix then holds at most a block and one layer of them, and leaves no large garbage behind.
        var free = new List<double[]>();
        Reduced Load(int l)
        {
            var x = pending ?? Made(layer, l, gathered);
            pending = null;
            if (rows.Length != gathered) x = x.SelectRows(rows);
            Reduced r;
            if (x.Cols > x.Rows) r = Reduced.Of(x, l).KeepOneForm();
            else
            {
                int at = free.FindIndex(a => a.Length == (long)x.Rows * x.Cols);
                double[]? into = at < 0 ? null : free[at];
                if (at >= 0) free.RemoveAt(at);
                r = Reduced.FeatureForm(x, l, norms[l], Scratch(x.Cols), into);
            }
            norms[l] = r.SelfNorm;
            return r;
        }
        void LetGo(Reduced r)
        {
            if (r.Storage is { } a) free.Add(a);
        }

        var m = new DenseMatrix(count, count);
        double[]? scratch = null;
        // One d × d product buffer, reused by every layer's self product and every pair's XcᵀYc (when widths agree).
        double[] Scratch(int d) => scratch?.Length == (long)d * d ? scratch : scratch = new double[(long)d * d];
        double Pair(Reduced a, Reduced b) => Math.Clamp(a.Cross(b, Scratch(a.Cols)) / (a.SelfNorm * b.SelfNorm), 0, 1);
        for (int i0 = 0; i0 < count;)
        {
            var block = new List<Reduced> { Load(i0) };
            long held = block[0].Bytes;
            while (i0 + block.Count < count && held + block[0].Bytes <= budgetBytes)
            {
                block.Add(Load(i0 + block.Count));
                held += block[^1].Bytes;
            }
            for (int a = 0; a < block.Count; a++)
            {
                m[i0 + a, i0 + a] = 1;
                for (int b = a + 1; b < block.Count; b++) m[i0 + a, i0 + b] = m[i0 + b, i0 + a] = Pair(block[a], block[b]);
            }
            for (int j = i0 + block.Count; j < count; j++)
            {
                var later = Load(j);
                for (int a = 0; a < block.Count; a++) m[i0 + a, j] = m[j, i0 + a] = Pair(block[a], later);
                LetGo(later);
            }
            block.ForEach(LetGo);
            i0 += block.Count;
        }
        return m;
    }

    /// <summary>
    /// The sample form of the layer matrix in bands of rows: for rows r0 .. r1 − 1, every layer's Gram rows from the
    /// diagonal on (<see cref="LinearAlgebra.SampleGramBand"/>, each entry the whole Gram's bit for bit), then per
    /// row i and pair (a, b) the term Ka[i,i]·Kb[i,i] + 2·Σ_{j&gt;i} Ka[i,j]·Kb[i,j], added to the pair's sum in row
    /// order; tr(Ka Kb) is the sum over all rows and ‖Ka‖_F² the pair (a, a). So the values depend neither on the
    /// bands (the budget) nor on the thread count. A band holds every layer's rows from r0 on (<see cref="BandStarts"/>),
    /// so each Gram entry is made once and every layer is made again per band; a band reads Xc from row r0 on only,
    /// so only those rows are centred (with the column means of the first band).
    /// </summary>
    private static DenseMatrix InBands(int count, Func<int, DenseMatrix> layer, DenseMatrix first, int gathered, int[] rows, long budgetBytes)
    {
        int n = rows.Length, pairs = count * (count + 1) / 2;
        bool subset = n != gathered;
        var starts = BandStarts(count, n, budgetBytes);
        long most = 0;
        int tallest = 0;
        for (int k = 0; k + 1 < starts.Length; k++)
        {
            tallest = Math.Max(tallest, starts[k + 1] - starts[k]);
            most = Math.Max(most, (long)(starts[k + 1] - starts[k]) * (n - starts[k]));
        }
        var bands = new double[count][];
        var means = new double[count][];
        var sums = new double[pairs];
        var terms = new double[(long)tallest * pairs];
        DenseMatrix? centred = null;
        for (int band = 0; band + 1 < starts.Length; band++)
        {
            int r0 = starts[band], r1 = starts[band + 1], q = n - r0;
            for (int l = 0; l < count; l++)
            {
                var x = l == 0 && r0 == 0 ? first : Made(layer, l, gathered, check: r0 == 0);
                if (r0 == 0) means[l] = LinearAlgebra.ColumnMeans(x, subset ? rows : null);
                if (centred?.Cols != x.Cols) centred = new DenseMatrix(n, x.Cols);
                // Xc from row r0 on, each value x − mean as LinearAlgebra.Center makes it (the rows above are not read).
                for (int i = r0; i < n; i++) TensorPrimitives.Subtract(x.Row(subset ? rows[i] : i), means[l], centred.Row(i));
                LinearAlgebra.SampleGramBand(centred, r0, r1, bands[l] ??= new double[most]);
            }
            Parallelism.For(r1 - r0, i =>
            {
                long row = (long)i * q;
                int k = 0;
                var t = terms.AsSpan(i * pairs, pairs);
                for (int a = 0; a < count; a++)
                {
                    var ka = bands[a].AsSpan((int)row + i, q - i);
                    for (int b = a; b < count; b++)
                    {
                        var kb = bands[b].AsSpan((int)row + i, q - i);
                        t[k++] = ka[0] * kb[0] + 2 * TensorPrimitives.Dot<double>(ka[1..], kb[1..]);
                    }
                }
            });
            for (int i = 0; i < r1 - r0; i++)
                for (int k = 0; k < pairs; k++) sums[k] += terms[(long)i * pairs + k];
        }
        var norms = new double[count];
        for (int a = 0, k = 0; a < count; k += count - a, a++)
        {
            norms[a] = Math.Sqrt(sums[k]);
            if (!(norms[a] > 0)) throw new MspgtException(Source, $"representation {a} has zero variance (all samples identical)");
        }
        var m = new DenseMatrix(count, count);
        for (int a = 0, k = 0; a < count; a++)
            for (int b = a; b < count; b++, k++)
                m[a, b] = m[b, a] = a == b ? 1 : Math.Clamp(sums[k] / (norms[a] * norms[b]), 0, 1);
        return m;
    }

    /// <summary>
    /// The first row of each band of <see cref="InBands"/>, then n: a band from r0 holds, per row, every layer's n − r0
    /// Gram entries and the pairs' terms within the budget, in a multiple of <see cref="LinearAlgebra.RowPanel"/> rows
    /// (at least one) or all the rows left. Bands grow as r0 does (the upper triangle's rows shorten), so about half as
    /// many as bands of the first one's height.
    /// </summary>
    internal static int[] BandStarts(int count, int n, long budgetBytes)
    {
        long pairs = (long)count * (count + 1) / 2;
        var starts = new List<int> { 0 };
        for (int r0 = 0; r0 < n;)
        {
            int q = n - r0;
            long fit = budgetBytes / (8L * ((long)count * q + pairs));
            r0 += fit >= q ? q : (int)Math.Max(LinearAlgebra.RowPanel, fit / LinearAlgebra.RowPanel * LinearAlgebra.RowPanel);
            starts.Add(Math.Min(r0, n));
        }
        return starts.ToArray();
    }

    /// <summary>
    /// Whether the sample form costs less over a whole layer matrix of <paramref name="layers"/> layers of n samples
    /// of d features, each made from <paramref name="gathered"/> rows (n when 0), counted in multiply-adds: the sample
    /// form makes each n × n Gram once (n²d/2, symmetric) and a row-wise dot per pair (n²/2); the feature form a
    /// d × d product per pair (n·d²) and a symmetric one per layer for its norm; and each form makes its layers as
    /// often as its budget asks (every layer once per band; a block's later layers once per block), at
    /// <see cref="GatherWeight"/> a value. Over 25 layers of 256 features with the default budget the sample form pays
    /// up to about 3,000 rows (46 documents of the analysis's 64 pooled rows); 64 documents' 4,096 rows take the
    /// feature form, where 72 bands would make every layer 72 times.
    /// </summary>
    internal static bool SampleFormCheaper(int layers, int n, int d, int gathered = 0, long budgetBytes = DefaultBudget)
    {
        if (gathered <= 0) gathered = n;
        double pairs = layers * (layers - 1) / 2.0, made = GatherWeight * gathered * (double)d;
        double bands = BandStarts(layers, n, budgetBytes).Length - 1;
        long block = Math.Max(1, budgetBytes / (8L * n * d)), blockLoads = 0;   // Xcᵀ is n·d values
        for (long i0 = 0; i0 < layers; i0 += block) blockLoads += layers - i0;
        double sample = layers * (double)n * n * d / 2 + (pairs + layers) * (double)n * n / 2 + bands * layers * made;
        double feature = (pairs + layers / 2.0) * n * (double)d * d + blockLoads * made;
        return sample < feature;
    }

    /// <summary>Multiply-adds that making one value of a layer costs in <see cref="SampleFormCheaper"/>: the loader
    /// gathers and the bands centre on one thread, while the products run on all. Measured in analyze (2 threads,
    /// 25 layers of 256 pooled features, each form forced, 2026-12-07 17:35 UTC): about 2 ns a value made against
    /// 0.038 ns a multiply-add; the sample form took 0.98–1.04 s at 2,048 rows (feature form 1.48–2.03 s) and
    /// 2.49–3.03 s at 3,072 (2.35–2.44 s).</summary>
    internal const double GatherWeight = 48;
}
