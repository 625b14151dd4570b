using Mspgt.Checkpoints;
using Mspgt.Numerics;
using Mspgt.Signals;

namespace Mspgt.Tests.Signals;

/// <summary>
/// `mspgt run` on the CPU reads the head a vocabulary slice at a time instead of holding [T × vocab] logits: the
/// argmax and last logits must be the whole array's exactly (ties to the first index, as Kernels.ArgMax), the NLL
/// its value to float round-off, across slices that split the vocabulary unevenly.
/// </summary>
public class RunSummaryReadOutTests
{
    private const int T = 9, Dim = 32, Vocab = 1000;

    [Theory]
    [InlineData(0, false)]     // one slice here
    [InlineData(128, false)]   // 8 slices, the last partial
    [InlineData(333, true)]    // a Q8_0 head
    public void SlicedReadOutIsTheWholeArrays(int slice, bool quantized)
    {
        var rng = new Random(3);
        var w = Enumerable.Range(0, Vocab * Dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        // rows 5 and 700 equal and far above the rest for rows of positive activations: a tie across slices
        for (int k = 0; k < Dim; k++) w[5 * Dim + k] = w[700 * Dim + k] = 3;
        WeightMatrix head;
        if (quantized)
        {
            var q = new byte[Vocab * Dim / 32 * QuantBlocks.Q8_0BlockBytes];
            BlockQuantizer.QuantizeQ8_0(w, q);
            head = WeightMatrix.FromBytes("output", Vocab, Dim, TensorType.Q8_0, q);
        }
        else head = WeightMatrix.FromFloats("output", Vocab, Dim, w);
        // rows 0-3 positive (the tie wins there), the rest of either sign
        var normed = Enumerable.Range(0, T * Dim).Select(i => (float)(i < 4 * Dim ? 0.5 + rng.NextDouble() : 4 * (rng.NextDouble() - 0.5))).ToArray();
        var ids = Enumerable.Range(0, T).Select(i => (i * 211 + 17) % Vocab).ToArray();

        var full = new float[T * Vocab];
        MatMul.Multiply(normed, T, head, full);
        double want = 0;
        for (int t = 0; t + 1 < T; t++) want += Kernels.LogSumExp(full.AsSpan(t * Vocab, Vocab)) - full[t * Vocab + ids[t + 1]];

        var argmax = new int[T];
        var (nll, last) = RunSummary.ReadOut(normed, T, head, ids, argmax, slice);
        for (int t = 0; t < T; t++) Assert.Equal(Kernels.ArgMax(full.AsSpan(t * Vocab, Vocab)), argmax[t]);
        Assert.Equal(5, argmax[0]);
        Assert.Equal(full.AsSpan((T - 1) * Vocab, Vocab).ToArray(), last);
        // log Z here is a running fold in double against a slice's running max, the whole array's Kernels.LogSumExp takes
        // z − max as a float difference once: they differ by rounding, far below the 1e-4 the goldens allow
        Assert.Equal(want, nll, Math.Abs(want) * 1e-9);
    }
}
