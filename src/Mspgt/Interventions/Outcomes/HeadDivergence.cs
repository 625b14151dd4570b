using System.Numerics;
using Mspgt.Numerics;

namespace Mspgt.Interventions.Outcomes;

/// <summary>
/// <see cref="NextTokenDivergence.MeasureRows"/> without the intervened [rows × vocab] logits: they are made from the
/// intervened final-norm rows through the unembedding one slice of the vocabulary at a time and folded into per-row
/// running sums, so memory holds one slice (a few MB) instead of the whole array (38 MB for 64 tokens of a 152k
/// vocabulary). Per row: a running max and Σ e^(z − m) give log Z_q; A = Σ p_i (log p_i − z_i) with the clean row's
/// log p (its log Z from the same sliced sum over the kept clean logits), so KL = A + log Z_q · Σ p_i; the argmax
/// and the target's logit are picked up as their slice passes. The unembedding computes each logit as the same chain
/// of multiply-adds as the full forward pass does, so a row whose intervened logits equal the clean ones (a no-op)
/// gives KL 0 and ΔNLL 0 exactly; elsewhere the values differ from the full-array ones by double rounding only.
/// The clean side can also be remade the same way, from the clean final-norm rows, so that no [rows × vocab] array
/// is kept at all; its values are then those of the kept clean logits bit for bit.
/// </summary>
public static class HeadDivergence
{
    private const string Source = "logits";

    /// <summary>What a comparison needs of each clean row besides its logits: log Z by the sliced running sum the
    /// intervened rows get, the argmax, and the target's logit (0 without targets).</summary>
    public sealed record CleanRows(double[] LogZ, int[] Top, float[] TargetLogit)
    {
        /// <summary>Mean over rows of log Z − z[target]: the clean NLL of the next tokens (with targets).</summary>
        public double MeanNll()
        {
            double s = 0;
            for (int r = 0; r < LogZ.Length; r++) s += LogZ[r] - TargetLogit[r];
            return s / LogZ.Length;
        }
    }

    /// <summary>
    /// <see cref="SummariseClean(ReadOnlySpan{float}, int, int, int, ReadOnlySpan{int}, int)"/> from the clean
    /// final-norm rows [tokens, dim]: the head makes the clean logits a slice at a time (each the same chain of
    /// multiply-adds as the forward pass's head, so the summary is the same bit for bit), and no [rows × vocab] array
    /// is ever whole.
    /// </summary>
    public static CleanRows SummariseClean(float[] cleanNormed, int tokens, WeightMatrix head, int rows, ReadOnlySpan<int> targets, int slice = 0)
    {
        int V = head.Rows, dim = head.Cols;
        if (rows < 1 || rows > tokens) throw new MspgtException(Source, $"{rows} rows to compare of {tokens} positions");
        if (cleanNormed.Length < (long)tokens * dim) throw new ArgumentException("cleanNormed is shorter than tokens × dim");
        if (!targets.IsEmpty && targets.Length != rows) throw new MspgtException(Source, $"{targets.Length} target ids for {rows} logit rows");
        for (int r = 0; r < targets.Length; r++)
            if ((uint)targets[r] >= (uint)V) throw new MspgtException(Source, $"target token {targets[r]} is outside the vocabulary of {V}");
        if (slice <= 0) slice = HeadSlices.SliceFor(tokens);
        var fold = new HeadSlices.RowFold(rows);
        int[] picks = targets.ToArray();
        HeadSlices.ForEach(cleanNormed, tokens, head, slice, (v0, vs, logits) => ForRows(rows, vs, r =>
        {
            var z = logits.AsSpan(r * vs, vs);
            int bad = Kernels.FirstNonFinite(z);
            if (bad < 0) fold.Add(r, v0, z, picks.Length == 0 ? -1 : picks[r]);
            return bad;
        }, (r, i) => new MspgtException(Source, $"clean logit row has {logits[r * vs + i]} at token {v0 + i}; logits must be finite")));
        return Summary(fold, rows);
    }

    private static CleanRows Summary(HeadSlices.RowFold fold, int rows) => new(
        Enumerable.Range(0, rows).Select(fold.LogZ).ToArray(),
        Enumerable.Range(0, rows).Select(fold.Top).ToArray(),
        Enumerable.Range(0, rows).Select(fold.Picked).ToArray());

    /// <summary>
    /// Checks <paramref name="clean"/> (the clean logits of the first <paramref name="rows"/> of
    /// <paramref name="tokens"/> positions) as <see cref="NextTokenDivergence"/> checks a row, and keeps what
    /// <see cref="MeasureRows(float[], CleanRows, float[], int, WeightMatrix, int, ReadOnlySpan{int}, int)"/> needs of
    /// it, so that the [rows × vocab] array itself need not be kept.
    /// </summary>
    public static CleanRows SummariseClean(ReadOnlySpan<float> clean, int tokens, int vocab, int rows, ReadOnlySpan<int> targets, int slice = 0)
    {
        int V = vocab;
        if (rows < 1 || rows > tokens) throw new MspgtException(Source, $"{rows} rows to compare of {tokens} positions");
        if (clean.Length != (long)rows * V)
            throw new MspgtException(Source, $"clean logits have {clean.Length} values, {rows} rows of {V} need {(long)rows * V}");
        if (!targets.IsEmpty && targets.Length != rows) throw new MspgtException(Source, $"{targets.Length} target ids for {rows} logit rows");
        if (slice <= 0) slice = HeadSlices.SliceFor(tokens);
        var fold = new HeadSlices.RowFold(rows);
        for (int r = 0; r < rows; r++)
        {
            var row = clean.Slice(r * V, V);
            NextTokenDivergence.CheckRow(row, "clean logit row");
            if (!targets.IsEmpty && (uint)targets[r] >= (uint)V)
                throw new MspgtException(Source, $"target token {targets[r]} is outside the vocabulary of {V}");
            // The same slices, in the same order, as a read from the norm rows makes: bit-identical summaries.
            for (int v0 = 0; v0 < V; v0 += slice) fold.Add(r, v0, row.Slice(v0, Math.Min(slice, V - v0)), targets.IsEmpty ? -1 : targets[r]);
        }
        return Summary(fold, rows);
    }

    /// <param name="clean">The clean logits of the first <paramref name="rows"/> positions, row-major.</param>
    /// <param name="normed">The intervened final-norm rows of all <paramref name="tokens"/> positions (the head is
    /// applied to all of them, as the forward pass does, so each logit is computed exactly as there).</param>
    /// <param name="targets">The <paramref name="rows"/> next-token ids, or empty (delta NLL is then null).</param>
    /// <param name="slice">Vocabulary entries per slice; 0 chooses (<see cref="HeadSlices.SliceFor"/>); tests pass small ones.</param>
    public static IReadOnlyDictionary<string, double?> MeasureRows(ReadOnlyMemory<float> clean, float[] normed, int tokens,
        WeightMatrix head, int rows, ReadOnlySpan<int> targets, int slice = 0)
    {
        if (slice <= 0) slice = HeadSlices.SliceFor(tokens);
        var summary = SummariseClean(clean.Span, tokens, head.Rows, rows, targets, slice);
        return Measure(clean, null, summary, normed, tokens, head, rows, targets, slice);
    }

    /// <summary>
    /// The same from the clean final-norm rows instead of the clean logits: each slice of the clean logits is made
    /// again by the head, together with the intervened slice (one product over both sets of rows, so a quantized
    /// head is decoded once for the two), exactly as the forward pass made it. Memory then holds T × dim clean
    /// floats (229 KB for 64 tokens of a 896-wide model) instead of T × vocab (38 MB at a 152k vocabulary), for one
    /// more pass of the head's arithmetic per comparison. The values are those of the overload that is given the
    /// clean logits, bit for bit.
    /// </summary>
    /// <param name="cleanNormed">The clean final-norm rows of all <paramref name="tokens"/> positions.</param>
    /// <param name="clean">Their logits' <see cref="SummariseClean"/>, made with the same slice.</param>
    public static IReadOnlyDictionary<string, double?> MeasureRows(float[] cleanNormed, CleanRows clean, float[] normed, int tokens,
        WeightMatrix head, int rows, ReadOnlySpan<int> targets, int slice = 0) =>
        MeasureRows(cleanNormed, clean, normed, tokens, head, rows, targets, slice, StackedRowsBytes);

    /// <summary>The same with the two sets of rows stacked for one product only up to <paramref name="stackedRowsBytes"/>
    /// (tests take both ways at small sizes).</summary>
    internal static IReadOnlyDictionary<string, double?> MeasureRows(float[] cleanNormed, CleanRows clean, float[] normed, int tokens,
        WeightMatrix head, int rows, ReadOnlySpan<int> targets, int slice, long stackedRowsBytes)
    {
        if (slice <= 0) slice = HeadSlices.SliceFor(tokens);
        if (cleanNormed.Length < (long)tokens * head.Cols) throw new ArgumentException("cleanNormed is shorter than tokens × dim");
        if (clean.LogZ.Length != rows) throw new ArgumentException($"the clean summary has {clean.LogZ.Length} rows, not {rows}");
        return Measure(ReadOnlyMemory<float>.Empty, cleanNormed, clean, normed, tokens, head, rows, targets, slice, stackedRowsBytes);
    }

    /// <summary>
    /// Most bytes of clean and intervened final-norm rows stacked for one product with each slice of the head. Stacking
    /// saves a decoding of the head per comparison, which counts against a short document's product (64 tokens) but not
    /// a long one's: at 1,024 tokens of the 0.5B shape the product is 2,048 rows of multiply-adds per decoded weight,
    /// and the stacked copy (7.3 MB) and the GEMM's packing of twice the rows (7.3 MB, kept by the thread) were what
    /// the comparison added to intervene's peak.
    /// </summary>
    public const long StackedRowsBytes = 4L << 20;

    // With cleanNormed the clean slice is made by the head next to the intervened one; else it is read from cleanLogits.
    private static IReadOnlyDictionary<string, double?> Measure(ReadOnlyMemory<float> cleanLogits, float[]? cleanNormed, CleanRows cs,
        float[] normed, int tokens, WeightMatrix head, int rows, ReadOnlySpan<int> targets, int slice, long stackedRowsBytes = StackedRowsBytes)
    {
        int V = head.Rows, dim = head.Cols;
        if (rows < 1 || rows > tokens) throw new MspgtException(Source, $"{rows} rows to compare of {tokens} positions");
        if (normed.Length < (long)tokens * dim) throw new ArgumentException("normed is shorter than tokens × dim");
        if (!targets.IsEmpty && targets.Length != rows) throw new MspgtException(Source, $"{targets.Length} target ids for {rows} logit rows");
        var (lseP, cleanTop) = (cs.LogZ, cs.Top);

        var q = new HeadSlices.RowFold(rows);   // the intervened rows' log Z, argmax and target logit
        int[] picks = targets.ToArray();
        var a = new double[rows];
        var sumP = new double[rows];
        var same = new bool[rows];
        Array.Fill(same, true);
        // Both sets of rows in one product when it is a GEMM (rows never interact there, so each logit is the same
        // chain of multiply-adds as in the forward pass) and the stacked rows are small (StackedRowsBytes); below
        // MatMul.GemmMinTokens the forward pass took the matrix-vector path, so each set goes alone to take it again.
        int sets = cleanNormed == null ? 1 : 2;
        bool stacked = sets == 2 && tokens >= MatMul.GemmMinTokens && 2L * tokens * dim * sizeof(float) <= stackedRowsBytes;
        float[]? both = null;
        if (stacked)
        {
            both = new float[2L * tokens * dim];
            Array.Copy(cleanNormed!, 0, both, 0, tokens * dim);
            Array.Copy(normed, 0, both, tokens * dim, tokens * dim);
        }
        var logits = new float[(long)sets * tokens * slice];
        for (int v0 = 0; v0 < V; v0 += slice)
        {
            int vs = Math.Min(slice, V - v0);
            var w = head.RowSlice(v0, vs);
            int off = sets == 2 ? tokens * vs : 0;   // where the intervened rows' slice starts in logits
            if (stacked) MatMul.Multiply(both, 2 * tokens, w, logits);
            else
            {
                if (sets == 2) MatMul.Multiply(cleanNormed.AsSpan(0, tokens * dim), tokens, w, logits);
                MatMul.Multiply(normed.AsSpan(0, tokens * dim), tokens, w, logits.AsSpan(off));
            }
            ForRows(rows, vs, r =>
            {
                var z = logits.AsSpan(off + r * vs, vs);
                var c = sets == 2 ? logits.AsSpan(r * vs, vs) : cleanLogits.Span.Slice(r * V + v0, vs);
                int bad = FoldPair(z, c, lseP[r], ref a[r], ref sumP[r], ref same[r]);
                if (bad < 0) q.Add(r, v0, z, picks.Length == 0 ? -1 : picks[r]);
                return bad;
            }, (r, i) => new MspgtException(Source, $"intervened logit row has {logits[off + r * vs + i]} at token {v0 + i}; logits must be finite"));
        }

        double kl = 0, deltaNll = 0;
        int agree = 0;
        for (int r = 0; r < rows; r++)
        {
            double lseQ = q.LogZ(r);
            kl += same[r] ? 0 : Math.Max(a[r] + lseQ * sumP[r], 0);
            if (!targets.IsEmpty) deltaNll += (lseQ - q.Picked(r)) - (lseP[r] - cs.TargetLogit[r]);
            if (q.Top(r) == cleanTop[r]) agree++;
        }
        return new Dictionary<string, double?>(StringComparer.Ordinal)
        {
            [OutcomeMetrics.BrittlenessKl] = kl / rows,
            [OutcomeMetrics.DeltaNll] = targets.IsEmpty ? null : deltaNll / rows,
            [OutcomeMetrics.Top1Agreement] = (double)agree / rows,
        };
    }

    /// <summary>
    /// row(r) for every row of a slice, in parallel: rows are independent and each row's folds run in the same order
    /// whatever the thread count, so no value depends on it. row returns the index of a non-finite logit it found
    /// (and folded nothing), or −1; the first such row, in row order, is then reported, as a row-by-row loop reports it.
    /// </summary>
    private static void ForRows(int rows, int width, Func<int, int> row, Func<int, int, MspgtException> failure)
    {
        var bad = new int[rows];
        // Chunks of about 16k logits (a few microseconds of exponentials), fixed by the slice, never by the threads.
        Parallelism.ForChunks(rows, Math.Max(1, 16_384 / Math.Max(1, width)), (long)rows * width, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) bad[r] = row(r);
        });
        for (int r = 0; r < rows; r++)
            if (bad[r] >= 0) throw failure(r, bad[r]);
    }

    /// <summary>
    /// Folds one slice of a row: with the clean log p = c − log Z_p, adds Σ p (log p − z) to <paramref name="a"/> and
    /// Σ p to <paramref name="sumP"/>, and clears <paramref name="same"/> when an intervened logit z differs from the
    /// clean one. The exponentials are vectorised in double (a p that underflows to 0 adds 0, as the limit says).
    /// Returns the index of the first non-finite z, or −1 (nothing is added then).
    /// </summary>
    private static int FoldPair(ReadOnlySpan<float> z, ReadOnlySpan<float> c, double lseP, ref double a, ref double sumP, ref bool same)
    {
        int bad = Kernels.FirstNonFinite(z);
        if (bad >= 0) return bad;
        int n = z.Length, i = 0, w = Vector<float>.Count;
        var vl = new Vector<double>(lseP);
        Vector<double> va = default, vp = default;
        bool equal = true;
        for (; i + w <= n; i += w)
        {
            var zv = new Vector<float>(z.Slice(i));
            var cv = new Vector<float>(c.Slice(i));
            equal &= Vector.EqualsAll(zv, cv);
            Vector.Widen(zv, out var z0, out var z1);
            Vector.Widen(cv, out var c0, out var c1);
            var (l0, l1) = (c0 - vl, c1 - vl);
            var (p0, p1) = (Vector.Exp(l0), Vector.Exp(l1));
            va += p0 * (l0 - z0) + p1 * (l1 - z1);
            vp += p0 + p1;
        }
        double sa = Vector.Sum(va), sp = Vector.Sum(vp);
        for (; i < n; i++)
        {
            equal &= z[i] == c[i];
            double logP = c[i] - lseP, p = Math.Exp(logP);
            sa += p * (logP - z[i]);
            sp += p;
        }
        a += sa;
        sumP += sp;
        if (!equal) same = false;
        return -1;
    }
}
