using Mspgt.Numerics;
using Mspgt.Signals.Estimators;
using static Mspgt.Tests.Signals.Estimators.Synthetic;

namespace Mspgt.Tests.Signals.Estimators;

public class ProbeTests
{
    /// <summary>Three classes (labels 7, 3, 11) with well-separated means in 12 dimensions; 30 documents of 20 samples.</summary>
    private static (DenseMatrix X, int[] Labels, int[] Docs) SeparableClasses(Random rng)
    {
        int[] classLabels = { 7, 3, 11 };
        var means = Gaussian(3, 12, rng);
        for (int k = 0; k < means.Data.Length; k++) means.Data[k] *= 6;
        int n = 600;
        var x = Gaussian(n, 12, rng);
        var labels = new int[n];
        var docs = new int[n];
        for (int i = 0; i < n; i++)
        {
            int c = rng.Next(3);
            labels[i] = classLabels[c];
            docs[i] = 1000 + i / 20;
            for (int j = 0; j < 12; j++) x[i, j] = 50 + 10 * (x[i, j] + means[c, j]);   // un-standardised scale
        }
        return (x, labels, docs);
    }

    public static TheoryData<string> Probes => new() { "ridge", "logistic" };

    private static IClassificationProbe Make(string kind) =>
        kind == "ridge" ? new RidgeProbe() : new LogisticProbe();

    [Theory]
    [MemberData(nameof(Probes))]
    public void SeparableClassesAreLearnedAlmostPerfectly(string kind)
    {
        var (x, labels, docs) = SeparableClasses(new Random(50));
        var r = ProbeEvaluation.Evaluate(Make(kind), x, labels, docs, testFraction: 0.3, seed: 1);
        Assert.InRange(r.Accuracy, 0.98, 1.0);
        Assert.InRange(r.ChanceLevel, 0.25, 0.5);
        Assert.Equal(600, r.TrainSamples + r.TestSamples);
        Assert.Equal(9, r.TestDocuments);   // round(0.3 · 30)
        Assert.Equal(21, r.TrainDocuments);
    }

    [Theory]
    [MemberData(nameof(Probes))]
    public void LabelsIndependentOfFeaturesScoreAboutChance(string kind)
    {
        var rng = new Random(51);
        int n = 1200;
        var x = Gaussian(n, 20, rng);
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(4)).ToArray();
        var docs = Enumerable.Range(0, n).Select(i => i / 30).ToArray();
        var r = ProbeEvaluation.Evaluate(Make(kind), x, labels, docs, testFraction: 0.25, seed: 2);
        // 4 balanced classes: chance ≈ 0.25–0.3; a probe with nothing to learn stays within sampling error of 0.25.
        Assert.InRange(r.ChanceLevel, 0.25, 0.33);
        Assert.InRange(r.Accuracy, 0.17, 0.34);
    }

    [Fact]
    public void RidgeMatchesTheNormalEquationsOnATinyProblem()
    {
        // Two classes, one feature: standardised x = (−1, −1, 1, 1)·s with s chosen so Σx² = 4; targets ±1.
        // w = Σxy / (Σx² + α) = 4 / (4 + 1) = 0.8, b = 0 → scores ±0.8 predict perfectly.
        var x = DenseMatrix.FromRows(new[] { new[] { 0.0 }, new[] { 0.0 }, new[] { 2.0 }, new[] { 2.0 } });
        int[] labels = { 0, 0, 1, 1 };
        var probe = new RidgeProbe();
        probe.Fit(x, labels);
        Assert.Equal(1.0, probe.Accuracy(x, labels));
        // A point between the classes' centers goes to neither decisively; just past the middle goes to class 1.
        Assert.Equal(new[] { 1 }, probe.Predict(DenseMatrix.FromRows(new[] { new[] { 1.01 } })));
        Assert.Equal(new[] { 0 }, probe.Predict(DenseMatrix.FromRows(new[] { new[] { 0.99 } })));
    }

    [Fact]
    public void WideFeaturesUseTheDualSolveWhichEqualsThePrimalSolution()
    {
        // d > n takes W = Xsᵀ(XsXsᵀ + αI)⁻¹Yc; the primal (XsᵀXs + αI)⁻¹XsᵀYc, computed here, must predict the same.
        var rng = new Random(52);
        int n = 40, d = 60, c = 3;
        var x = Gaussian(n, d, rng);
        var labels = Enumerable.Range(0, n).Select(i => i % c).ToArray();
        for (int i = 0; i < n; i++) x[i, labels[i]] += 2;
        var probe = new RidgeProbe { Alpha = 3 };
        probe.Fit(x, labels);

        var mean = LinearAlgebra.ColumnMeans(x);
        var xs = x.Clone();
        for (int j = 0; j < d; j++)
        {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (x[i, j] - mean[j]) * (x[i, j] - mean[j]);
            double sd = Math.Sqrt(ss / n);
            for (int i = 0; i < n; i++) xs[i, j] = (x[i, j] - mean[j]) / sd;
        }
        var y = new DenseMatrix(n, c);
        for (int i = 0; i < n; i++) for (int k = 0; k < c; k++) y[i, k] = labels[i] == k ? 1 : -1;
        var bias = LinearAlgebra.ColumnMeans(y);
        var a = LinearAlgebra.FeatureGram(xs);
        for (int j = 0; j < d; j++) a[j, j] += 3;
        var w = LinearAlgebra.CholeskySolve(LinearAlgebra.Cholesky(a), LinearAlgebra.TransposeMultiply(xs, LinearAlgebra.Center(y)));

        var test = Gaussian(200, d, rng);
        var predicted = probe.Predict(test);
        for (int t = 0; t < 200; t++)
        {
            var scores = new double[c];
            for (int k = 0; k < c; k++)
            {
                scores[k] = bias[k];
                for (int j = 0; j < d; j++)
                {
                    double sd = 0;
                    for (int i = 0; i < n; i++) sd += (x[i, j] - mean[j]) * (x[i, j] - mean[j]);
                    scores[k] += (test[t, j] - mean[j]) / Math.Sqrt(sd / n) * w[j, k];
                }
            }
            Assert.Equal(Array.IndexOf(scores, scores.Max()), predicted[t]);
        }
    }

    [Theory]
    [InlineData(300, 20)]   // primal: XsᵀXs from the standardised rows made transposed
    [InlineData(30, 50)]    // dual
    public void RidgeOnListedRowsIsTheFitOfTheCopiedRowsBitForBit(int n, int d)
    {
        var rng = new Random(n + d);
        var x = Gaussian(n, d, rng);
        for (int k = 0; k < x.Data.Length; k++) x.Data[k] = x.Data[k] * 3 + 40;   // features far from 0
        var rows = Enumerable.Range(0, n).Where(i => i % 3 != 1).Reverse().ToArray();
        var labels = rows.Select(i => i % 4).ToArray();
        var onRows = new RidgeProbe { Alpha = 2 };
        onRows.Fit(x, rows, labels);
        var onCopy = new RidgeProbe { Alpha = 2 };
        onCopy.Fit(x.SelectRows(rows), labels);
        static long[] Bits(DenseMatrix m) => m.Data.Select(BitConverter.DoubleToInt64Bits).ToArray();
        Assert.Equal(Bits(onCopy.Weights!), Bits(onRows.Weights!));
        var test = Enumerable.Range(0, n).Where(i => i % 3 == 1).ToArray();
        Assert.Equal(onCopy.Predict(x.SelectRows(test)), onRows.Predict(x, test));
        if (d > n) return;
        // The primal weights are those of the normal equations formed from a standardised copy, bit for bit.
        var xs = x.SelectRows(rows);
        var scaling = FeatureScaling.Fit(xs);
        for (int i = 0; i < xs.Rows; i++)
        {
            TensorPrimitivesSubtractMultiply(xs.Row(i), scaling.Mean, scaling.InverseScale);
        }
        var y = new DenseMatrix(rows.Length, 4);
        for (int i = 0; i < rows.Length; i++) for (int k = 0; k < 4; k++) y[i, k] = labels[i] == k ? 1 : -1;
        var a = LinearAlgebra.FeatureGram(xs);
        for (int j = 0; j < d; j++) a[j, j] += 2;
        var w = LinearAlgebra.CholeskySolve(LinearAlgebra.Cholesky(a), LinearAlgebra.TransposeMultiply(xs, LinearAlgebra.Center(y)));
        Assert.Equal(Bits(w), Bits(onRows.Weights!));
    }

    [Fact]
    public void RidgeWithReusedScratchIsTheFitWithoutItBitForBit()
    {
        // One scratch for fits of several shapes in turn (dual and primal, as the scale probes make them), each taking
        // arrays the others left dirty; the first time round they are filled with NaN, so a value read before it is
        // written would show. Weights and predictions equal those of fits that allocate their own, bit for bit.
        var scratch = new ProbeScratch();
        foreach (int use in new[] { ProbeScratch.TrainRows, ProbeScratch.Gram })
            foreach (int length in new[] { 20 * 50, 20 * 20, 10 * 50, 50 * 50, 150 * 20, 20 * 20, 100 * 20 })
                Array.Fill(scratch.Take(use, length), double.NaN);
        static long[] Bits(DenseMatrix m) => m.Data.Select(BitConverter.DoubleToInt64Bits).ToArray();
        for (int round = 0; round < 2; round++)
            foreach (var (n, d) in new[] { (30, 50), (250, 20), (30, 50), (40, 50) })
            {
                var rng = new Random(n * 7 + d + round);
                var x = Gaussian(n, d, rng);
                var rows = Enumerable.Range(0, n).Where(i => i % 3 != 1).ToArray();
                var test = Enumerable.Range(0, n).Where(i => i % 3 == 1).ToArray();
                var labels = rows.Select(i => (i * 7 + round) % 5).ToArray();
                var plain = new RidgeProbe();
                plain.Fit(x, rows, labels);
                var reused = new RidgeProbe();
                reused.Fit(x, rows, labels, scratch);
                Assert.Equal(Bits(plain.Weights!), Bits(reused.Weights!));
                Assert.Equal(plain.Predict(x, test), reused.Predict(x, test));
            }
    }

    [Theory]
    [InlineData(150, 40, false)]   // blocks of 64, 64 and 22 rows: the last block a partial row-dot panel
    [InlineData(150, 40, true)]
    [InlineData(64, 300, false)]   // one whole block, wide features
    [InlineData(3, 40, true)]      // fewer rows than one panel
    public void RidgeScoresRowBlocksAsTheWholeProductBitForBit(int m, int d, bool listed)
    {
        // Predict standardises and multiplies the scored rows a block at a time; every score must be the one the
        // product of the whole standardised copy gives (XsW + 1bᵀ, as Predict computed it before), bit for bit.
        var rng = new Random(m + d);
        var train = Gaussian(120, d, rng);
        var probe = new RidgeProbe();
        probe.Fit(train, Enumerable.Range(0, 120).Select(i => i % 6).ToArray());
        var x = Gaussian(listed ? 2 * m : m, d, rng);
        int[]? rows = listed ? Enumerable.Range(0, 2 * m).Where(i => i % 9 != 4).Take(m).Reverse().ToArray() : null;
        var subset = listed ? x.SelectRows(rows!) : x;
        Assert.Equal(m, subset.Rows);
        var scaling = FeatureScaling.Fit(train);
        var whole = LinearAlgebra.Multiply(scaling.Apply(subset, "test"), probe.Weights!);
        var bias = LinearAlgebra.ColumnMeans(Targets(Enumerable.Range(0, 120).Select(i => i % 6).ToArray(), 6));
        for (int i = 0; i < m; i++) for (int k = 0; k < 6; k++) whole[i, k] += bias[k];
        var scores = probe.Scores(x, rows);
        Assert.Equal(whole.Data.Select(BitConverter.DoubleToInt64Bits), scores.Data.Select(BitConverter.DoubleToInt64Bits));
    }

    private static DenseMatrix Targets(int[] labels, int classes)
    {
        var y = new DenseMatrix(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++) for (int k = 0; k < classes; k++) y[i, k] = labels[i] == k ? 1 : -1;
        return y;
    }

    private static void TensorPrimitivesSubtractMultiply(Span<double> row, double[] mean, double[] inverseScale)
    {
        System.Numerics.Tensors.TensorPrimitives.Subtract(row, mean, row);
        System.Numerics.Tensors.TensorPrimitives.Multiply(row, inverseScale, row);
    }

    [Fact]
    public void UnregularisedLogisticProbeRecoversTheEmpiricalProbabilities()
    {
        // x = 0 → labels (0,0,0,1); x = 2 → (1,1,1,0). The maximum-likelihood fit has P(1 | x=2) = 3/4 and
        // P(1 | x=0) = 1/4 exactly.
        var x = DenseMatrix.FromRows(new[] { 0.0, 0, 0, 0, 2, 2, 2, 2 }.Select(v => new[] { v }).ToArray());
        int[] labels = { 0, 0, 0, 1, 1, 1, 1, 0 };
        var probe = new LogisticProbe { L2 = 0 };
        probe.Fit(x, labels);
        var p = probe.Probabilities(DenseMatrix.FromRows(new[] { new[] { 2.0 }, new[] { 0.0 }, new[] { 1.0 } }));
        Assert.Equal(0.75, p[0, 1], 6);
        Assert.Equal(0.25, p[1, 1], 6);
        Assert.Equal(0.5, p[2, 1], 6);
        Assert.Equal(1.0, p[0, 0] + p[0, 1], 12);
        // With an L2 penalty the fit is pulled toward uniform.
        var shrunk = new LogisticProbe { L2 = 1 };
        shrunk.Fit(x, labels);
        Assert.InRange(shrunk.Probabilities(DenseMatrix.FromRows(new[] { new[] { 2.0 } }))[0, 1], 0.5, 0.74);
    }

    [Fact]
    public void HeldOutSplitNeverSharesADocument()
    {
        var docs = Enumerable.Range(0, 500).Select(i => (i * 7919) % 37).ToArray();   // 37 interleaved documents
        var split = ProbeEvaluation.SplitByDocument(docs, 0.2, seed: 9);
        var trainDocs = split.TrainRows.Select(i => docs[i]).ToHashSet();
        var testDocs = split.TestRows.Select(i => docs[i]).ToHashSet();
        Assert.Empty(trainDocs.Intersect(testDocs));
        Assert.Equal(500, split.TrainRows.Length + split.TestRows.Length);
        Assert.Equal(Enumerable.Range(0, 500), split.TrainRows.Concat(split.TestRows).Order());
        Assert.Equal(7, split.TestDocuments.Length);   // round(0.2 · 37)
        Assert.Equal(split.TestDocuments, testDocs.Order());
        // seeded: same seed same split, other seed other split
        Assert.Equal(split.TestRows, ProbeEvaluation.SplitByDocument(docs, 0.2, 9).TestRows);
        Assert.NotEqual(split.TestDocuments, ProbeEvaluation.SplitByDocument(docs, 0.2, 10).TestDocuments);
    }

    [Fact]
    public void ChanceLevelIsTheTestSplitMajorityRate()
    {
        // Document 0: labels 1,1,1,2; document 1: labels 2,2,2,2. Whichever is held out, chance is its majority rate.
        var x = Gaussian(8, 2, new Random(53));
        int[] labels = { 1, 1, 1, 2, 2, 2, 2, 1 };
        int[] docs = { 0, 0, 0, 0, 1, 1, 1, 1 };
        var r = ProbeEvaluation.Evaluate(new RidgeProbe(), x, labels, docs, 0.5, seed: 4);
        Assert.Equal(0.75, r.ChanceLevel);
        Assert.Equal(4, r.TestSamples);
    }

    [Fact]
    public void DocumentFoldsAreBalancedSeededAndNeverEmpty()
    {
        foreach (var (docs, folds) in new[] { (64, 5), (7, 5), (2, 2), (11, 3) })
        {
            var f = ProbeEvaluation.DocumentFolds(docs, folds, 3);
            Assert.Equal(docs, f.Length);
            var sizes = Enumerable.Range(0, folds).Select(k => f.Count(v => v == k)).ToArray();
            Assert.True(sizes.Min() >= 1 && sizes.Max() - sizes.Min() <= 1, string.Join(",", sizes));
            Assert.Equal(f, ProbeEvaluation.DocumentFolds(docs, folds, 3));
        }
        Assert.NotEqual(ProbeEvaluation.DocumentFolds(64, 5, 3), ProbeEvaluation.DocumentFolds(64, 5, 4));
        Assert.Throws<MspgtException>(() => ProbeEvaluation.DocumentFolds(4, 5, 0));
        Assert.Throws<MspgtException>(() => ProbeEvaluation.DocumentFolds(4, 1, 0));
    }

    [Fact]
    public void BadInputThrowsMspgtException()
    {
        var rng = new Random(54);
        var x = Gaussian(10, 3, rng);
        Assert.Throws<MspgtException>(() => new RidgeProbe().Fit(x, new int[9]));
        Assert.Throws<MspgtException>(() => new LogisticProbe().Fit(x, new int[10]));   // one class
        Assert.Throws<MspgtException>(() => ProbeEvaluation.Evaluate(new RidgeProbe(), x, new int[10], new int[10]));   // one document
        Assert.Throws<MspgtException>(() => ProbeEvaluation.Evaluate(new RidgeProbe(), x, new int[10], new int[9]));
        Assert.Throws<MspgtException>(() => ProbeEvaluation.SplitByDocument(new[] { 1, 2 }, 1.0, 0));
        var probe = new RidgeProbe();
        probe.Fit(x, Enumerable.Range(0, 10).Select(i => i % 2).ToArray());
        Assert.Throws<MspgtException>(() => probe.Predict(Gaussian(4, 5, rng)));   // wrong width
    }
}
