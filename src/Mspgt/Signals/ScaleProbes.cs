using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using Mspgt.Tokenization;

namespace Mspgt.Signals;

/// <summary>
/// One probe at every block: per document d and block l the accuracy on d's own sampled tokens
/// (<see cref="PerDocument"/>[d][l]), its mean over documents (<see cref="Accuracy"/>), and the chance level scored the
/// same way (a constant guess of the commonest training label).
/// </summary>
/// <param name="TrainSamples">Training rows per fit (mean over folds for the cross-fitted probes).</param>
/// <param name="TestSamples">Rows scored, over all documents.</param>
/// <param name="Folds">Document folds of the cross-fitting (1 for the global probe, which cannot hold documents out).</param>
public sealed record ProbeCurve(string Signal, string Target, double[] Accuracy, double[] Chance, int PeakLayer,
    int TrainSamples, int TestSamples, double[][] PerDocument, int Folds);

/// <summary>
/// Scale probes on the sampled tokens of every document: ridge classifiers trained per block on resid_post for a
/// local target (current token id, among the most frequent ids of the training documents), an intermediate target
/// (position of the token in its sentence, bucketed) and a global target (which document the token came from).
/// <para>
/// Local and intermediate probes are cross-fitted over documents: documents are dealt into min(<see cref="MaxFolds"/>, D)
/// folds by a seeded shuffle, each fold's documents are scored by a probe trained on all other folds, and a document's
/// value is the accuracy over its own tokens, so every document gets a value that none of its tokens helped to
/// train. A document with no eligible token for the local probe (none of its tokens among the training folds'
/// frequent ids) takes the accuracy over all eligible tokens of its fold. The global probe cannot hold a document out
/// (its identity would be unseen), so it is trained once on the first 60% of every document's sampled tokens and a
/// document's value is the accuracy on its own remaining 40%. A training split holding one class predicts that class.
/// </para>
/// </summary>
public sealed class ScaleProbes
{
    /// <summary>Upper bounds of the position-in-sentence buckets: 0, 1, 2, 3-4, 5-8, 9-16, 17+.</summary>
    private static readonly int[] SentenceBuckets = [0, 1, 2, 4, 8, 16];

    /// <summary>Most document folds of the cross-fitting.</summary>
    public const int MaxFolds = 5;

    /// <summary>Share of each document's sampled tokens (the earliest) on which the global probe is trained.</summary>
    public const double GlobalTrainFraction = 0.6;

    public int LocalClasses { get; init; } = 32;
    public double RidgeAlpha { get; init; } = 1.0;
    public int Seed { get; init; }

    public static int SentenceBucket(int positionInSentence)
    {
        for (int b = 0; b < SentenceBuckets.Length; b++) if (positionInSentence <= SentenceBuckets[b]) return b;
        return SentenceBuckets.Length;
    }

    /// <summary>For each id, whether its text ends a sentence (contains . ! or ?).</summary>
    public static bool[] SentenceEnders(ITokenizer tokenizer, int vocab) => SentenceEnders(tokenizer, vocab, null);

    /// <summary>
    /// <see cref="SentenceEnders(ITokenizer, int)"/> for the ids that occur in <paramref name="documents"/> only (null:
    /// every id); the others stay false. The probes read the flags of their documents' tokens alone, and decoding a
    /// 151,936-entry vocabulary one id at a time took 0.05–0.18 s of a 4-document analyze for the ~1,000 ids it holds.
    /// Ids outside 0 .. vocab − 1 are left to the caller (the model rejects them before any probe runs).
    /// </summary>
    public static bool[] SentenceEnders(ITokenizer tokenizer, int vocab, IEnumerable<int[]>? documents)
    {
        var f = new bool[vocab];
        IEnumerable<int> ids = documents == null
            ? Enumerable.Range(0, vocab)
            : documents.SelectMany(d => d).Where(id => (uint)id < (uint)vocab).Distinct();
        foreach (int id in ids)
        {
            string s;
            try { s = tokenizer.Decode([id]); } catch (MspgtException) { continue; }
            f[id] = s.IndexOfAny(['.', '!', '?']) >= 0;
        }
        return f;
    }

    /// <summary>Position of every token within its sentence (0 = first token after a sentence end or BOS).</summary>
    public static int[] PositionsInSentence(int[] ids, bool[] enders)
    {
        var p = new int[ids.Length];
        int k = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            p[t] = k;
            k = enders[ids[t]] ? 0 : k + 1;
        }
        return p;
    }

    /// <param name="docIds">Per document, its token ids.</param>
    /// <param name="positions">Per document, the sampled positions.</param>
    /// <param name="pooled">Per document, per representation index (0 = embedding, l+1 = block l), the sampled rows.</param>
    public IReadOnlyList<ProbeCurve> Evaluate(IReadOnlyList<int[]> docIds, IReadOnlyList<int[]> positions,
        IReadOnlyList<IReadOnlyList<float[]>> pooled, int layers, int dims, bool[] sentenceEnders)
    {
        int D = docIds.Count;
        if (D < 2) throw new MspgtException("probes", "scale probes need at least 2 documents");
        var rowDoc = new List<int>();
        var rowToken = new List<int>();
        var rowBucket = new List<int>();
        var rowEarly = new List<bool>();
        for (int d = 0; d < D; d++)
        {
            var sentencePos = PositionsInSentence(docIds[d], sentenceEnders);
            var pos = positions[d];
            for (int i = 0; i < pos.Length; i++)
            {
                rowDoc.Add(d);
                rowToken.Add(docIds[d][pos[i]]);
                rowBucket.Add(SentenceBucket(sentencePos[pos[i]]));
                rowEarly.Add(i < GlobalTrainFraction * pos.Length);
            }
        }
        int n = rowDoc.Count;
        int folds = Math.Min(MaxFolds, D);
        var foldOf = ProbeEvaluation.DocumentFolds(D, folds, Seed);
        var local = new CrossFit[folds];
        var inter = new CrossFit[folds];
        for (int f = 0; f < folds; f++)
        {
            var train = Enumerable.Range(0, n).Where(i => foldOf[rowDoc[i]] != f).ToArray();
            var test = Enumerable.Range(0, n).Where(i => foldOf[rowDoc[i]] == f).ToArray();
            var frequent = train.GroupBy(i => rowToken[i]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key)
                .Take(LocalClasses).Select(g => g.Key).ToHashSet();
            local[f] = CrossFit.Of(train.Where(i => frequent.Contains(rowToken[i])).ToArray(),
                test.Where(i => frequent.Contains(rowToken[i])).ToArray(), rowToken);
            inter[f] = CrossFit.Of(train, test, rowBucket);
        }
        int[] earlyRows = Enumerable.Range(0, n).Where(i => rowEarly[i]).ToArray();
        int[] lateRows = Enumerable.Range(0, n).Where(i => !rowEarly[i]).ToArray();
        var global = new CrossFit(earlyRows, lateRows, rowDoc.ToArray(), ProbeLabels.Majority(earlyRows.Select(i => rowDoc[i])));

        // A probe with no row to score fails here, once and in the same words whatever the thread count, rather than
        // in every block of the parallel loop below (which the command line took for a bug: several exceptions).
        int[] localScored = local.SelectMany(c => c.Test).ToArray(), interScored = inter.SelectMany(c => c.Test).ToArray();
        foreach (var (signal, scored) in new[] { (SignalNames.ProbeLocal, localScored.Length),
                     (SignalNames.ProbeIntermediate, interScored.Length), (SignalNames.ProbeGlobal, lateRows.Length) })
            if (scored == 0)
                throw new MspgtException("probes", $"{signal}: no document has a token the probe can be scored on ({D} documents, {n} sampled positions)");
        var localAcc = new double[layers][];
        var interAcc = new double[layers][];
        var globAcc = new double[layers][];
        // Each thread fills one block's rows into its own matrix (n × dims float64, 8 MB at 64 documents), reused for
        // every block it takes, through one read buffer; its fits reuse one scratch.
        var lengths = positions.Select(p => p.Length * dims).ToArray();
        Parallel.For(0, layers, Mspgt.Numerics.Parallelism.Options,
            () => (X: new DenseMatrix(n, dims), Read: new float[lengths.Max()], Scratch: new ProbeScratch()), (l, _, buffers) =>
        {
            var x = buffers.X;
            SampleRows.Gather(pooled, lengths, l + 1, buffers.Read, x.Data);
            var localHits = new bool[n];
            var interHits = new bool[n];
            for (int f = 0; f < folds; f++)
            {
                local[f].Score(x, RidgeAlpha, localHits, buffers.Scratch);
                inter[f].Score(x, RidgeAlpha, interHits, buffers.Scratch);
            }
            var globalHits = new bool[n];
            global.Score(x, RidgeAlpha, globalHits, buffers.Scratch);
            localAcc[l] = PerDocument(D, rowDoc, foldOf, localScored, localHits);
            interAcc[l] = PerDocument(D, rowDoc, foldOf, interScored, interHits);
            globAcc[l] = PerDocument(D, rowDoc, null, lateRows, globalHits);
            return buffers;
        }, _ => { });
        // Chance: the constant guess of each training split's commonest label, scored per document like the probe.
        var localChance = PerDocument(D, rowDoc, foldOf, localScored, ChanceHits(local, n));
        var interChance = PerDocument(D, rowDoc, foldOf, interScored, ChanceHits(inter, n));
        var globChance = PerDocument(D, rowDoc, null, lateRows, ChanceHits([global], n));
        int localTrain = (int)Math.Round(local.Average(c => c.Train.Length)), interTrain = (int)Math.Round(inter.Average(c => c.Train.Length));
        return
        [
            Curve(SignalNames.ProbeLocal, $"current token id ({LocalClasses} most frequent ids of the training folds)", localAcc, localChance, localTrain, localScored.Length, folds),
            Curve(SignalNames.ProbeIntermediate, "position-in-sentence bucket (0, 1, 2, 3-4, 5-8, 9-16, 17+)", interAcc, interChance, interTrain, interScored.Length, folds),
            Curve(SignalNames.ProbeGlobal, $"document identity ({D} documents)", globAcc, globChance, earlyRows.Length, lateRows.Length, 1),
        ];
    }

    private static ProbeCurve Curve(string signal, string target, double[][] byLayer, double[] chancePerDoc, int train, int test, int folds)
    {
        int L = byLayer.Length, D = chancePerDoc.Length;
        var perDoc = Enumerable.Range(0, D).Select(d => Enumerable.Range(0, L).Select(l => byLayer[l][d]).ToArray()).ToArray();
        var mean = Enumerable.Range(0, L).Select(l => byLayer[l].Average()).ToArray();
        var chance = Enumerable.Repeat(chancePerDoc.Average(), L).ToArray();
        return new ProbeCurve(signal, target, mean, chance, Array.IndexOf(mean, mean.Max()), train, test, perDoc, folds);
    }

    private static bool[] ChanceHits(CrossFit[] fits, int n)
    {
        var hits = new bool[n];
        foreach (var c in fits)
            foreach (int i in c.Test) hits[i] = c.Labels[i] == c.Majority;
        return hits;
    }

    /// <summary>
    /// Per document, the share of its scored rows that were hits. A document without scored rows takes the share over
    /// its fold's scored rows (over all scored rows when it has no fold or the fold has none). <paramref name="scored"/>
    /// is never empty: Evaluate refuses a probe with no row to score before any block is scored.
    /// </summary>
    private static double[] PerDocument(int D, List<int> rowDoc, int[]? foldOf, int[] scored, bool[] hits)
    {
        var docHits = new int[D];
        var docCount = new int[D];
        foreach (int i in scored) { docCount[rowDoc[i]]++; if (hits[i]) docHits[rowDoc[i]]++; }
        int allCount = docCount.Sum();
        double all = docHits.Sum() / (double)allCount;
        var result = new double[D];
        for (int d = 0; d < D; d++)
        {
            if (docCount[d] > 0) { result[d] = docHits[d] / (double)docCount[d]; continue; }
            int foldHits = 0, foldCount = 0;
            if (foldOf != null)
                for (int e = 0; e < D; e++)
                    if (foldOf[e] == foldOf[d]) { foldHits += docHits[e]; foldCount += docCount[e]; }
            result[d] = foldCount > 0 ? foldHits / (double)foldCount : all;
        }
        return result;
    }

    /// <summary>One training split and the rows it scores, with every row's label and the split's commonest label.</summary>
    private sealed record CrossFit(int[] Train, int[] Test, int[] Labels, int Majority)
    {
        public static CrossFit Of(int[] train, int[] test, List<int> labels) =>
            new(train, test, labels.ToArray(), ProbeLabels.Majority(train.Select(i => labels[i])));

        /// <summary>Fits a ridge probe on the training rows of x and marks which test rows it classifies correctly.</summary>
        public void Score(DenseMatrix x, double alpha, bool[] hits, ProbeScratch scratch)
        {
            if (Test.Length == 0) return;
            var trainLabels = Train.Select(i => Labels[i]).ToArray();
            int[] predicted;
            if (Train.Length == 0 || trainLabels.Distinct().Count() < 2) predicted = Enumerable.Repeat(Majority, Test.Length).ToArray();
            else
            {
                var probe = new RidgeProbe { Alpha = alpha };
                probe.Fit(x, Train, trainLabels, scratch);
                predicted = probe.Predict(x, Test);
            }
            for (int t = 0; t < Test.Length; t++) hits[Test[t]] = predicted[t] == Labels[Test[t]];
        }
    }
}
