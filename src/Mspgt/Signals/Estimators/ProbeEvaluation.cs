using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>Rows of a train/test split that never shares a document between the two sides.</summary>
public sealed record DocumentSplit(int[] TrainRows, int[] TestRows, int[] TrainDocuments, int[] TestDocuments);

/// <summary>Held-out score of a probe.</summary>
/// <param name="Accuracy">Fraction of held-out samples classified correctly.</param>
/// <param name="ChanceLevel">Majority-class rate on the held-out split (what always guessing its commonest label scores).</param>
public sealed record ProbeResult(double Accuracy, double ChanceLevel, int TrainSamples, int TestSamples, int TrainDocuments, int TestDocuments);

/// <summary>
/// Trains a probe on some documents and scores it on held-out documents, so that no document (and none of its
/// near-identical tokens) is seen on both sides.
/// </summary>
public static class ProbeEvaluation
{
    /// <summary>
    /// Splits whole documents: the distinct ids, sorted, are shuffled with <c>new Random(seed)</c> and the first
    /// round(testFraction × documents) (at least 1, at most all but 1) become the test split.
    /// </summary>
    public static DocumentSplit SplitByDocument(ReadOnlySpan<int> documentIds, double testFraction, int seed)
    {
        const string source = "probe";
        if (!(testFraction > 0 && testFraction < 1))
            throw new MspgtException(source, $"test fraction must lie strictly between 0 and 1, got {testFraction}");
        var docs = documentIds.ToArray().Distinct().Order().ToArray();
        if (docs.Length < 2)
            throw new MspgtException(source, $"a held-out split needs at least 2 documents, got {docs.Length}");
        var rng = new Random(seed);
        for (int i = docs.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (docs[i], docs[j]) = (docs[j], docs[i]);
        }
        int testCount = Math.Clamp((int)Math.Round(testFraction * docs.Length), 1, docs.Length - 1);
        var testDocs = docs.Take(testCount).Order().ToArray();
        var trainDocs = docs.Skip(testCount).Order().ToArray();
        var testSet = testDocs.ToHashSet();
        var train = new List<int>();
        var test = new List<int>();
        for (int i = 0; i < documentIds.Length; i++) (testSet.Contains(documentIds[i]) ? test : train).Add(i);
        return new DocumentSplit(train.ToArray(), test.ToArray(), trainDocs, testDocs);
    }

    /// <summary>
    /// Cross-fitting folds over documents 0..documents−1: the documents are shuffled with <c>new Random(seed)</c>
    /// (Fisher–Yates) and dealt round-robin into <paramref name="folds"/> folds, so fold sizes differ by at most one
    /// and every fold holds a document. Returns each document's fold.
    /// </summary>
    public static int[] DocumentFolds(int documents, int folds, int seed)
    {
        if (folds < 2 || folds > documents)
            throw new MspgtException("probe", $"cross-fitting needs 2 to {documents} folds for {documents} documents, got {folds}");
        var order = Enumerable.Range(0, documents).ToArray();
        var rng = new Random(seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var fold = new int[documents];
        for (int i = 0; i < documents; i++) fold[order[i]] = i % folds;
        return fold;
    }

    /// <summary>
    /// Fits <paramref name="probe"/> on the training documents and returns its accuracy on the held-out ones.
    /// </summary>
    public static ProbeResult Evaluate(IClassificationProbe probe, DenseMatrix x, ReadOnlySpan<int> labels,
        ReadOnlySpan<int> documentIds, double testFraction = 0.2, int seed = 0)
    {
        const string source = "probe";
        SampleChecks.RequireLabels(x.Rows, labels.Length, source);
        SampleChecks.RequireLabels(x.Rows, documentIds.Length, source, "document ids");
        var split = SplitByDocument(documentIds, testFraction, seed);
        var all = labels.ToArray();
        var trainLabels = split.TrainRows.Select(i => all[i]).ToArray();
        var testLabels = split.TestRows.Select(i => all[i]).ToArray();
        probe.Fit(x.SelectRows(split.TrainRows), trainLabels);
        double accuracy = probe.Accuracy(x.SelectRows(split.TestRows), testLabels);
        double chance = testLabels.GroupBy(l => l).Max(g => g.Count()) / (double)testLabels.Length;
        return new ProbeResult(accuracy, chance, split.TrainRows.Length, split.TestRows.Length,
            split.TrainDocuments.Length, split.TestDocuments.Length);
    }
}
