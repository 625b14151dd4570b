using Mspgt.Numerics;
using Mspgt.Signals.Estimators;

namespace Mspgt.Signals;

// The block estimators of DocumentSignals: each representation prepared once for the two blocks that read it, and
// one block's KSG MI, adjacent CKA, effective rank and TwoNN from its prepared input and output.
public sealed partial class DocumentSignals
{
    /// <summary>
    /// KSG MI, adjacent linear CKA, and the effective rank and TwoNN dimension of resid_post, from one document's full
    /// T × dim resid_pre (<paramref name="pre"/>) and resid_post (<paramref name="post"/>) of block
    /// <paramref name="layer"/>; row 0 is left out unless <see cref="SignalSettings.IncludeBos"/>.
    /// </summary>
    public static RepresentationValues MeasureRepresentations(DenseMatrix pre, DenseMatrix post, SignalSettings s, int layer) =>
        MeasureRepresentations(PreparedRepresentation.Of(pre, s, layer - 1), PreparedRepresentation.Of(post, s, layer), s, layer);

    /// <summary>The same from T × d float rows, prepared as analyze prepares its captured representations (tests
    /// hold the two preparations to one another).</summary>
    internal static RepresentationValues MeasureRepresentations(float[] pre, float[] post, int T, int d, SignalSettings s, int layer)
    {
        var shelf = new Shelf();
        return MeasureRepresentations(PreparedRepresentation.Of(pre, T, d, s, layer - 1, shelf, null),
            PreparedRepresentation.Of(post, T, d, s, layer, shelf, null), s, layer);
    }

    private static RepresentationValues MeasureRepresentations(PreparedRepresentation pre, PreparedRepresentation post, SignalSettings s, int layer)
    {
        if (pre.Gram == null || post.Gram == null) return MeasureDegenerate(pre, post, s, layer);
        var estimator = new KsgMutualInformation { Neighbors = s.KsgNeighbors, Seed = s.Seed + layer };
        var ksg = pre.Scores != null && post.Scores != null
            ? estimator.EstimateFromScores(pre.Scores, post.Scores)
            : estimator.Estimate(pre.Rows!, post.Rows!, pre.Pca, post.Pca);
        double cka = LinearCka.Compute(pre.Gram, post.Gram);
        var own = post.AsOutput ?? OutputValues.Of(post.Rows!, post.Gram, s, layer);
        return new RepresentationValues(ksg, cka, own.Rank.Value, own.TwoNn.Value);
    }

    /// <summary>
    /// A block with an invalid side (too few rows, a non-finite value, zero variance): each estimator reports it in
    /// its own words, in the order they run. A valid side kept only its Gram matrix and scores, so the invalid side
    /// is put to each estimator alone.
    /// </summary>
    private static RepresentationValues MeasureDegenerate(PreparedRepresentation pre, PreparedRepresentation post, SignalSettings s, int layer)
    {
        var (x, y) = (pre.Rows ?? post.Rows!, post.Rows ?? pre.Rows!);
        var ksg = new KsgMutualInformation { Neighbors = s.KsgNeighbors, Seed = s.Seed + layer }.Estimate(x, y, pre.Rows != null ? pre.Pca : null, post.Rows != null ? post.Pca : null);
        double cka = LinearCka.Compute(x, y);
        double rank = EffectiveRank.Compute(y);
        double twonn = new TwoNnIntrinsicDimension { Seed = s.Seed + layer }.Estimate(y, post.Gram).Dimension;
        return new RepresentationValues(ksg, cka, rank, twonn);
    }

    /// <summary>
    /// A value computed ahead of its turn, or the <see cref="MspgtException"/> it failed with, thrown when the value
    /// is read: the estimators fail in the order they always did.
    /// </summary>
    private readonly struct Deferred
    {
        private readonly double _value;
        private readonly System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failure;
        private Deferred(double value, System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure) => (_value, _failure) = (value, failure);

        public static Deferred Of(Func<double> compute)
        {
            try { return new(compute(), null); }
            catch (MspgtException e) { return new(0, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e)); }
        }

        public double Value { get { _failure?.Throw(); return _value; } }
    }

    /// <summary>The effective rank and TwoNN dimension of a block's output (TwoNN seeded by the block).</summary>
    private sealed record OutputValues(Deferred Rank, Deferred TwoNn)
    {
        public static OutputValues Of(DenseMatrix rows, CenteredGram gram, SignalSettings s, int block) => new(
            Deferred.Of(() => EffectiveRank.Compute(gram)),
            Deferred.Of(() => new TwoNnIntrinsicDimension { Seed = s.Seed + block }.Estimate(rows, gram).Dimension));

        /// <summary>The same from the float rows themselves (TwoNN's exact distances widen them as it reads them).</summary>
        public static OutputValues Of(ReadOnlyMemory<float> rows, CenteredGram gram, SignalSettings s, int block) => new(
            Deferred.Of(() => EffectiveRank.Compute(gram)),
            Deferred.Of(() => new TwoNnIntrinsicDimension { Seed = s.Seed + block }.Estimate(rows, gram.Rows, gram.Cols, gram).Dimension));
    }

    /// <summary>
    /// One representation as the block estimators read it (row 0 left out unless IncludeBos). Valid input (two or
    /// more finite rows with some variance) is reduced at once to what the blocks need: its <see cref="CenteredGram"/>
    /// (CKA), its whitened KSG principal-component scores (made here once for the two blocks that read it) and,
    /// as a block's output, its effective rank and TwoNN dimension; the float64 rows are then dropped (1.8 MB for
    /// 256 tokens at the 0.5B shape, against a 0.5 MB Gram matrix). Rows stay where those cannot be made: above
    /// KSG's sample cap (its estimate subsamples and refits) and for invalid input, which each estimator then
    /// reports in its own words.
    /// </summary>
    private sealed record PreparedRepresentation(DenseMatrix? Rows, CenteredGram? Gram, PrincipalComponents? Pca,
        DenseMatrix? Scores, OutputValues? AsOutput)
    {
        /// <param name="block">The block this representation is the output of (-1 for the embedding).</param>
        public static PreparedRepresentation Of(DenseMatrix m, SignalSettings s, int block) => OfRows(s.IncludeBos ? m : WithoutFirstRow(m), s, block);

        /// <summary>
        /// The same from T × d float rows (row 0 left out unless IncludeBos), with one float64 array rather than two:
        /// the rows are widened into an array from <paramref name="shelf"/> and centred there, in place, while the
        /// float rows stay the raw values (TwoNN's exact distances widen them as they read them, and a path that needs
        /// the raw float64 rows widens them again). Every value is what the two-array preparation made: widening is
        /// exact, and the means are taken before the rows are centred over them. At 1,024 tokens of the 0.5B shape
        /// that is 7.3 MB less per representation being prepared (one per thread).
        /// </summary>
        /// <param name="product">Where the Gram product runs (the model's GPU), or null for here.</param>
        public static PreparedRepresentation Of(float[] rowMajor, int T, int d, SignalSettings s, int block, Shelf shelf,
            CenteredGram.GramProduct? product)
        {
            int n = s.IncludeBos ? T : T - 1;
            var raw = rowMajor.AsMemory((T - n) * d, n * d);
            DenseMatrix Widened() => DenseMatrix.FromFloats(raw.Span, n, d);
            if (n < 2 || d < 1) return new(Widened(), null, null, null, null);
            if (Kernels.FirstNonFinite(raw.Span) >= 0) return new(Widened(), null, null, null, null);
            var data = shelf.Take(n * d);
            var g = CenteredGram.Of(DenseMatrix.FromFloats(raw.Span, n, d, data), "signals", centeredInto: data, product);
            if (!(g.TotalSquares > 0))
            {
                shelf.Put(data);
                return new(Widened(), null, null, null, null);
            }
            var prepared = FromGram(g, s, block >= 0 ? gram => OutputValues.Of(raw, gram, s, block) : null, Widened);
            if (g.Centered == null) shelf.Put(data);
            return prepared;
        }

        private static PreparedRepresentation OfRows(DenseMatrix rows, SignalSettings s, int block)
        {
            if (rows.Rows < 2 || rows.Cols < 1) return new(rows, null, null, null, null);
            foreach (double v in rows.Data) if (!double.IsFinite(v)) return new(rows, null, null, null, null);
            var g = CenteredGram.Of(rows, "signals");
            if (!(g.TotalSquares > 0)) return new(rows, null, null, null, null);
            return FromGram(g, s, block >= 0 ? gram => OutputValues.Of(rows, gram, s, block) : null, () => rows);
        }

        /// <summary>
        /// What both entries make of valid input (two or more finite rows with some variance), from its centred Gram:
        /// the sample Gram where it pays, the KSG PCA fit and whitened scores, a block output's own values
        /// (<paramref name="output"/>, null for the embedding); the raw float64 rows (<paramref name="rawRows"/>) are
        /// kept only above KSG's sample cap, where its estimate subsamples and refits.
        /// </summary>
        private static PreparedRepresentation FromGram(CenteredGram g, SignalSettings s, Func<CenteredGram, OutputValues>? output,
            Func<DenseMatrix> rawRows)
        {
            // A document longer than the width (the feature form) gets the sample Gram too, while its n × n array is
            // no larger than the two n × d ones it lets go (the centred rows and, in CKA, their transpose): TwoNN and
            // the adjacent CKA then read it instead of forming n²·d and n·d² products of their own.
            if (g.Rows <= 2L * g.Cols) g.AddSampleGram();
            var ksg = new KsgMutualInformation { Neighbors = s.KsgNeighbors };
            var pca = g.Rows <= ksg.MaxSamples ? PrincipalComponents.Fit(g, ksg.Components, "ksg-mi") : null;
            var values = output?.Invoke(g);
            var scores = pca?.ProjectCentered(g.Centered!, whiten: true);   // = pca.Project(rows, whiten: true)
            g.DropCentered();
            return pca == null ? new(rawRows(), g, null, null, values) : new(null, g, pca, scores, values);
        }
    }

    /// <summary>
    /// Same-length float64 arrays handed back and out again within one document's measurement: each representation
    /// widens its rows to float64 and centres them there, 1.8 MB at 256 tokens of the 0.5B shape, let go as soon as
    /// it is prepared. Reusing them keeps L + 1 such arrays from passing through the large-object heap, which the GC
    /// sweeps late. It holds no more arrays than were out at once (one per representation being prepared).
    /// </summary>
    private sealed class Shelf
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<double[]> _free = [];

        public double[] Take(int length)
        {
            while (_free.TryTake(out var a))
                if (a.Length == length) return a;   // one length per document: others are let go
            return new double[length];
        }

        public void Put(double[]? a)
        {
            if (a != null) _free.Add(a);
        }
    }

    private static DenseMatrix WithoutFirstRow(DenseMatrix m) =>
        new(m.Rows - 1, m.Cols, m.Data.AsSpan(m.Cols).ToArray());
}
