using System.Collections.Concurrent;

namespace Mspgt.Training;

/// <summary>
/// Loss and gradient of a batch of windows, mean over all predicted tokens. Sequences are split into a fixed number
/// of groups (min(B, 8), independent of the machine): each group's sequences run in order on one thread into the
/// group's own gradient buffer, and the groups are summed in group order. The result is therefore bit-identical for
/// a given batch whatever the number of threads.
/// </summary>
public sealed class BatchGradient
{
    public const int MaxGroups = 8;
    private readonly TrainingModel _m;
    private readonly ConcurrentBag<SequencePass> _passes = [];
    private readonly List<float[]> _groupGrads = [];
    private readonly ParallelOptions _parallel;

    /// <summary>The summed gradient of the last <see cref="Compute"/> (model layout).</summary>
    public float[] Gradient { get; }

    public BatchGradient(TrainingModel model, int threads = 0)
    {
        _m = model;
        Gradient = new float[model.Count];
        _parallel = Mspgt.Numerics.Parallelism.OptionsFor(threads);
    }

    /// <summary>Fills <see cref="Gradient"/> with d(mean CE)/dθ over the windows and returns the mean CE.</summary>
    public double Compute(int[] stream, IReadOnlyList<int> starts, int seq)
    {
        int B = starts.Count, G = Math.Min(B, MaxGroups);
        while (_groupGrads.Count < G) _groupGrads.Add(new float[_m.Count]);
        float scale = 1f / ((float)B * seq);
        var losses = new double[B];
        _m.RefreshTransposes();
        Parallel.For(0, G, _parallel, g =>
        {
            var pass = Rent();
            var grad = _groupGrads[g];
            Array.Clear(grad);
            for (int b = g; b < B; b += G)
            {
                pass.Forward(stream.AsSpan(starts[b], seq));
                losses[b] = pass.LossAndGradient(stream.AsSpan(starts[b] + 1, seq), scale);
                pass.Backward(grad);
            }
            _passes.Add(pass);
        });
        const int Chunk = 16384;
        int chunks = (Gradient.Length + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, _parallel, ch =>
        {
            int s = ch * Chunk, e = Math.Min(Gradient.Length, s + Chunk);
            var dst = Gradient.AsSpan(s, e - s);
            _groupGrads[0].AsSpan(s, e - s).CopyTo(dst);
            for (int g = 1; g < G; g++) System.Numerics.Tensors.TensorPrimitives.Add(dst, _groupGrads[g].AsSpan(s, e - s), dst);
        });
        double total = 0;
        foreach (double l in losses) total += l;
        return total / ((double)B * seq);
    }

    /// <summary>Mean CE over the windows without gradients (validation).</summary>
    public double Evaluate(int[] stream, IReadOnlyList<int> starts, int seq)
    {
        var losses = new double[starts.Count];
        Parallel.For(0, starts.Count, _parallel, b =>
        {
            var pass = Rent();
            pass.Forward(stream.AsSpan(starts[b], seq));
            losses[b] = pass.Loss(stream.AsSpan(starts[b] + 1, seq));
            _passes.Add(pass);
        });
        double total = 0;
        foreach (double l in losses) total += l;
        return total / ((double)starts.Count * seq);
    }

    private SequencePass Rent() => _passes.TryTake(out var p) ? p : new SequencePass(_m);
}
