namespace Mspgt.Signals.Estimators;

/// <summary>
/// Arrays one thread reuses across many probe fits of the same shapes (the scale probes fit nine per block, the same
/// nine shapes at every block): the standardised training rows of the dual form and the n × n or d × d Gram matrix.
/// Without it each fit made and dropped 0.3–0.5 MB of large objects, with the test rows' copy (now made a block at a
/// time) about 150 MB per 4-document analysis and a full collection every sixteen fits. An array is kept per use and length, so fits of different shapes in turn
/// do not replace each other's; every value of a taken array is written before it is read. One thread at a time.
/// </summary>
internal sealed class ProbeScratch
{
    public const int TrainRows = 0, Gram = 1;

    private readonly Dictionary<(int Use, int Length), double[]> _arrays = new();

    /// <summary>An array of exactly <paramref name="length"/> values for <paramref name="use"/>, holding whatever the
    /// previous fit left in it.</summary>
    public double[] Take(int use, int length)
    {
        if (!_arrays.TryGetValue((use, length), out var a)) _arrays[(use, length)] = a = new double[length];
        return a;
    }
}
