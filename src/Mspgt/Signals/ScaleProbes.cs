using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using Mspgt.Tokenization;

namespace Mspgt.Signals;

/// <summary>Held-out accuracy of one probe at every block, and the chance level it must beat.</summary>
public sealed record ProbeCurve(string Signal, string Target, double[] Accuracy, double[] Chance, int PeakLayer, int TrainSamples, int TestSamples);

/// <summary>
/// Scale probes on the pooled token sample: ridge classifiers trained per block on resid_post for
/// a local target (current token id, among the most frequent ids), an intermediate target (position of the token in
/// its sentence, bucketed) and a global target (which document the token came from).
/// Local and intermediate probes are evaluated on held-out documents; the global probe cannot be (a held-out
/// document's identity is unseen), so it is trained on the first 60% of every document's sampled tokens and tested
/// on the rest.
/// </summary>
public sealed class ScaleProbes
{
    /// <summary>Upper bounds of the position-in-sentence buckets: 0, 1, 2, 3-4, 5-8, 9-16, 17+.</summary>
    private static readonly int[] SentenceBuckets = [0, 1, 2, 4, 8, 16];

    public int LocalClasses { get; init; } = 32;
    public double TestFraction { get; init; } = 0.25;
    public double RidgeAlpha { get; init; } = 1.0;
    public int Seed { get; init; }

    public static int SentenceBucket(int positionInSentence)
    {
        for (int b = 0; b < SentenceBuckets.Length; b++) if (positionInSentence <= SentenceBuckets[b]) return b;
        return SentenceBuckets.Length;
    }

    /// <summary>For each id, whether its text ends a sentence (contains . ! or ?).</summary>
    public static bool[] SentenceEnders(ITokenizer tokenizer, int vocab)
    {
        var f = new bool[vocab];
        for (int id = 0; id < vocab; id++)
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
        IReadOnlyList<float[][]> pooled, int layers, int dims, bool[] sentenceEnders)
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
                rowEarly.Add(i < 0.6 * pos.Length);
            }
        }
        int n = rowDoc.Count;
        var frequent = rowToken.GroupBy(t => t).OrderByDescending(g => g.Count()).ThenBy(g => g.Key)
            .Take(LocalClasses).Select(g => g.Key).ToHashSet();
        int[] localRows = Enumerable.Range(0, n).Where(i => frequent.Contains(rowToken[i])).ToArray();
        int[] earlyRows = Enumerable.Range(0, n).Where(i => rowEarly[i]).ToArray();
        int[] lateRows = Enumerable.Range(0, n).Where(i => !rowEarly[i]).ToArray();

        var local = new double[layers]; var localChance = new double[layers];
        var inter = new double[layers]; var interChance = new double[layers];
        var glob = new double[layers]; var globChance = new double[layers];
        (int Train, int Test) localN = default, interN = default;
        Parallel.For(0, layers, l =>
        {
            var x = new DenseMatrix(n, dims);
            int r = 0;
            for (int d = 0; d < D; d++)
            {
                var rows = pooled[d][l + 1];
                int count = positions[d].Length;
                for (int i = 0; i < count; i++, r++)
                    for (int j = 0; j < dims; j++) x[r, j] = rows[i * dims + j];
            }
            var lx = x.SelectRows(localRows);
            var lr = ProbeEvaluation.Evaluate(new RidgeProbe { Alpha = RidgeAlpha }, lx,
                localRows.Select(i => rowToken[i]).ToArray(), localRows.Select(i => rowDoc[i]).ToArray(), TestFraction, Seed);
            var ir = ProbeEvaluation.Evaluate(new RidgeProbe { Alpha = RidgeAlpha }, x, rowBucket.ToArray(), rowDoc.ToArray(), TestFraction, Seed);
            var gp = new RidgeProbe { Alpha = RidgeAlpha };
            gp.Fit(x.SelectRows(earlyRows), earlyRows.Select(i => rowDoc[i]).ToArray());
            var gTest = lateRows.Select(i => rowDoc[i]).ToArray();
            local[l] = lr.Accuracy; localChance[l] = lr.ChanceLevel;
            inter[l] = ir.Accuracy; interChance[l] = ir.ChanceLevel;
            glob[l] = gp.Accuracy(x.SelectRows(lateRows), gTest);
            globChance[l] = gTest.GroupBy(v => v).Max(g => g.Count()) / (double)gTest.Length;
            if (l == 0) { localN = (lr.TrainSamples, lr.TestSamples); interN = (ir.TrainSamples, ir.TestSamples); }
        });
        static int Peak(double[] a) => Array.IndexOf(a, a.Max());
        return
        [
            new ProbeCurve(SignalNames.ProbeLocal, $"current token id ({frequent.Count} most frequent ids)", local, localChance, Peak(local), localN.Train, localN.Test),
            new ProbeCurve(SignalNames.ProbeIntermediate, "position-in-sentence bucket (0, 1, 2, 3-4, 5-8, 9-16, 17+)", inter, interChance, Peak(inter), interN.Train, interN.Test),
            new ProbeCurve(SignalNames.ProbeGlobal, $"document identity ({D} documents)", glob, globChance, Peak(glob), earlyRows.Length, lateRows.Length),
        ];
    }
}
