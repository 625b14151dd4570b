using Mspgt.Signals;
using Mspgt.Signals.Estimators;

namespace Mspgt.Tests.Signals;

/// <summary>The cross-fitted scale probes: one held-out value per document and block, never trained on that document.</summary>
public class ScaleProbesTests
{
    private const int Dims = 24, Layers = 2;

    /// <summary>D documents of T tokens (all positions sampled); features(d, t, layer) gives block layer's row.</summary>
    private static (List<int[]> Ids, List<int[]> Positions, List<float[][]> Pooled) Corpus(int D, int T,
        Func<int, int, int> token, Func<int, int, int, double[]> features)
    {
        var ids = new List<int[]>();
        var positions = new List<int[]>();
        var pooled = new List<float[][]>();
        for (int d = 0; d < D; d++)
        {
            ids.Add(Enumerable.Range(0, T).Select(t => token(d, t)).ToArray());
            positions.Add(Enumerable.Range(0, T).ToArray());
            var reps = new float[Layers + 1][];
            reps[0] = new float[T * Dims];   // the embedding: probes read blocks only
            for (int l = 0; l < Layers; l++)
                reps[l + 1] = Enumerable.Range(0, T).SelectMany(t => features(d, t, l)).Select(v => (float)v).ToArray();
            pooled.Add(reps);
        }
        return (ids, positions, pooled);
    }

    private static double[] Noise(Random rng, double scale) =>
        Enumerable.Range(0, Dims).Select(_ => scale * Estimators.Synthetic.Gaussian(rng)).ToArray();

    private static IReadOnlyList<ProbeCurve> Evaluate((List<int[]> Ids, List<int[]> Positions, List<float[][]> Pooled) c, int localClasses = 32) =>
        new ScaleProbes { LocalClasses = localClasses, Seed = 1 }.Evaluate(c.Ids, c.Positions, c.Pooled, Layers, Dims, new bool[8]);

    [Fact]
    public void EveryDocumentGetsItsOwnHeldOutValueAtEveryBlock()
    {
        // Block 0 encodes the token id (one-hot × 5 plus noise), block 1 is noise.
        var rng = new Random(2);
        var c = Corpus(10, 30, (d, t) => rng.Next(4), (d, t, l) => Noise(rng, 1));
        for (int d = 0; d < 10; d++)
        {
            var rows = c.Pooled[d][1];
            for (int t = 0; t < 30; t++) rows[t * Dims + c.Ids[d][t]] += 5;
        }
        var probes = Evaluate(c);
        var local = probes.Single(p => p.Signal == SignalNames.ProbeLocal);
        Assert.Equal(5, local.Folds);
        Assert.Equal(10, local.PerDocument.Length);
        Assert.All(local.PerDocument, v => Assert.Equal(Layers, v.Length));
        Assert.All(local.PerDocument, v => Assert.InRange(v[0], 0.9, 1));
        Assert.InRange(local.Accuracy[1], 0, 0.5);
        for (int l = 0; l < Layers; l++) Assert.Equal(local.PerDocument.Average(v => v[l]), local.Accuracy[l], 12);
        Assert.Equal(300, local.TestSamples);   // every token scored once, by the fold that held it out
        Assert.Equal(240, local.TrainSamples);  // 8 of 10 documents train each fold
        Assert.InRange(local.Chance[0], 0.1, 0.45);
        Assert.Equal(1, probes.Single(p => p.Signal == SignalNames.ProbeGlobal).Folds);
        // Held-out values differ between documents (the cube no longer repeats one pooled number).
        Assert.True(local.PerDocument.Select(v => v[1]).Distinct().Count() > 1);
        // Deterministic.
        var again = Evaluate(c).Single(p => p.Signal == SignalNames.ProbeLocal);
        Assert.Equal(local.PerDocument, again.PerDocument);
    }

    [Fact]
    public void ADocumentNeverTrainsTheProbeThatScoresIt()
    {
        // Each document has its own random fingerprint and one label (token id d mod 4) for all its tokens: a probe
        // that had seen the document would score 1; one trained on other documents can only guess (about 1/4).
        var rng = new Random(3);
        var fingerprints = Enumerable.Range(0, 20).Select(_ => Noise(rng, 3)).ToArray();
        var c = Corpus(20, 24, (d, t) => d % 4, (d, t, l) => fingerprints[d].Zip(Noise(rng, 0.1), (a, b) => a + b).ToArray());
        var probes = Evaluate(c);
        var local = probes.Single(p => p.Signal == SignalNames.ProbeLocal);
        Assert.True(local.Accuracy.Max() < 0.6, $"local accuracy {local.Accuracy.Max():F2}");
        // The global probe (trained on each document's first 60%) does recognise the fingerprints: the data carry them.
        var global = probes.Single(p => p.Signal == SignalNames.ProbeGlobal);
        Assert.All(global.PerDocument, v => Assert.Equal(1.0, v[0]));
        Assert.InRange(global.Chance[0], 0.04, 0.06);   // a constant guess is right for one document in 20
    }

    [Fact]
    public void AProbeWithNothingToScoreFailsOnceInItsOwnWords()
    {
        // One sampled position per document: it falls in the document probe's training share, so no document has a
        // late position to score. The blocks used to fail inside the parallel loop, an AggregateException (of several
        // with more than one thread, which the command line reported as a bug); now one MspgtException before it.
        var rng = new Random(2);
        var c = Corpus(6, 1, (d, t) => 0, (d, t, l) => Noise(rng, 1));
        var e = Assert.Throws<MspgtException>(() => Evaluate(c));
        Assert.Equal("probes", e.Source);
        Assert.Equal("probe_global: no document has a token the probe can be scored on (6 documents, 6 sampled positions)", e.Message);
    }

    [Fact]
    public void ADocumentWithoutEligibleTokensTakesItsFoldsAccuracy()
    {
        // With 2 local classes, document 7 (only id 3, never among the training folds' two commonest) has nothing to
        // score; it takes the accuracy over its fold's eligible tokens, i.e. its fold partner's (equal token counts).
        var rng = new Random(4);
        var c = Corpus(10, 20, (d, t) => d == 7 ? 3 : rng.Next(2), (d, t, l) => Noise(rng, 1));
        for (int d = 0; d < 10; d++)
            for (int t = 0; t < 20; t++) c.Pooled[d][1][t * Dims + c.Ids[d][t]] += 1.5f;   // partly predictable
        var local = Evaluate(c, localClasses: 2).Single(p => p.Signal == SignalNames.ProbeLocal);
        var fold = ProbeEvaluation.DocumentFolds(10, 5, 1);
        int partner = Enumerable.Range(0, 10).Single(d => d != 7 && fold[d] == fold[7]);
        Assert.Equal(local.PerDocument[partner][0], local.PerDocument[7][0], 12);
        Assert.Equal(180, local.TestSamples);
    }

    [Fact]
    public void SentenceEndersOfTheDocumentsIdsAreTheFullTablesOnThem()
    {
        // The real Qwen3 vocabulary (151,669 entries): the flags of the ids a corpus holds, decoded alone, are those of
        // the whole table; every other id is false. The ids include sentence enders (".", "!", "?" and a word ending
        // in one) and ordinary words, so a table of all-false or all-true fails.
        var tok = Mspgt.Tests.Tokenization.SharedTokenizers.Qwen3.Value;
        int vocab = tok.VocabSize;
        var documents = new[] { tok.Encode("Tom went home. He was happy! Was he?", addBos: false), tok.Encode("The end.", addBos: false) };
        var full = ScaleProbes.SentenceEnders(tok, vocab);
        var only = ScaleProbes.SentenceEnders(tok, vocab, documents);
        var held = documents.SelectMany(d => d).ToHashSet();
        Assert.Contains(held, id => full[id]);
        Assert.Contains(held, id => !full[id]);
        for (int id = 0; id < vocab; id++) Assert.Equal(held.Contains(id) && full[id], only[id]);
        // Same positions in sentence, so the intermediate probe's targets are unchanged.
        foreach (var d in documents) Assert.Equal(ScaleProbes.PositionsInSentence(d, full), ScaleProbes.PositionsInSentence(d, only));
    }
}
