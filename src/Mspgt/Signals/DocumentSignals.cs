using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Signals.Estimators;

namespace Mspgt.Signals;

/// <summary>Settings of the per-document measurements.</summary>
public sealed record SignalSettings
{
    /// <summary>PCA components per side for the Gaussian MI estimate.</summary>
    public int PcaDims { get; init; } = 16;
    /// <summary>Neighbours for the KSG estimate.</summary>
    public int KsgNeighbors { get; init; } = 3;
    /// <summary>Positions per document read through the logit lens (evenly spaced; the vocabulary can be large).</summary>
    public int LensPositions { get; init; } = 64;
    /// <summary>Token positions per document kept (at every layer) for the probes and the layer × layer CKA matrix.</summary>
    public int ProbeTokensPerDocument { get; init; } = 64;
    /// <summary>Representations wider than this are reduced by a fixed seeded Gaussian projection before pooling.</summary>
    public int PooledDims { get; init; } = 256;
    public int Seed { get; init; }
}

/// <summary>What one document contributes: its layer × signal values and a sample of its token representations.</summary>
public sealed class DocumentMeasurement
{
    /// <summary>[layer, signal] in <see cref="DocumentSignals.PerDocumentSignals"/> order.</summary>
    public required double[,] Values { get; init; }
    /// <summary>Sampled positions (same at every layer).</summary>
    public required int[] Positions { get; init; }
    /// <summary>Pooled representations per representation index (0 = embedding, l+1 = resid_post of block l), [positions × dims].</summary>
    public required float[][] Pooled { get; init; }
}

/// <summary>
/// Streams one document through the model with hooks and measures every per-document signal at every block.
/// Only this document's residual streams are held (T × dim per layer), never the corpus's; attention patterns are
/// reduced to entropy and distance as each layer hands them over.
/// </summary>
public sealed class DocumentSignals
{
    /// <summary>Signals measured per document (probe signals are added later from the pooled sample).</summary>
    public static readonly string[] PerDocumentSignals =
    [
        SignalNames.AttnDistance, SignalNames.AttnEntropy, SignalNames.AttnEntropyNorm, SignalNames.MiGaussian,
        SignalNames.MiKsg, SignalNames.MiDelta, SignalNames.CkaAdjacent, SignalNames.LensKl, SignalNames.LensEntropy,
        SignalNames.EffectiveRank, SignalNames.TwoNn,
    ];

    private readonly Transformer _model;
    private readonly SignalSettings _s;
    private readonly LogitLens _lens;
    private readonly float[]? _projection; // [dim × pooledDims] when the model is wider than PooledDims

    public int PooledDims { get; }

    public DocumentSignals(Transformer model, SignalSettings settings)
    {
        _model = model;
        _s = settings;
        _lens = new LogitLens(model.Config, model.Weights);
        int d = model.Config.Dim;
        if (d > settings.PooledDims)
        {
            PooledDims = settings.PooledDims;
            var rng = new Random(settings.Seed ^ 0x5eed);
            _projection = new float[d * PooledDims];
            double scale = 1 / Math.Sqrt(PooledDims);
            for (int i = 0; i < _projection.Length; i++) _projection[i] = (float)(Gaussian(rng) * scale);
        }
        else PooledDims = d;
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    public DocumentMeasurement Measure(int[] ids)
    {
        var c = _model.Config;
        int L = c.Layers, T = ids.Length, d = c.Dim;
        var reps = new float[L + 1][];
        var hooks = new Hooks().Observe("embed", t => reps[0] = t.Data.ToArray());
        for (int l = 0; l < L; l++)
        {
            int layer = l;
            hooks.Observe($"blocks.{l}.resid_post", t => reps[layer + 1] = t.Data.ToArray());
        }
        var attention = AttentionStatistics.Observe(hooks, L);
        var (entropy, distance) = (attention.Entropy, attention.Distance);
        _model.Forward(ids, null, hooks, LogitRows.None);

        int[] lensPositions = EvenlySpaced(T, Math.Min(T, _s.LensPositions), skipFirst: false);
        var finalLp = _lens.LogProbs(Gather(reps[L], d, lensPositions), lensPositions.Length);
        var mats = reps.Select(r => DenseMatrix.FromFloats(r, T, d)).ToArray();
        var values = new double[L, PerDocumentSignals.Length];
        var gmi = new GaussianMutualInformation { Components = _s.PcaDims };
        Parallel.For(0, L, l =>
        {
            var x = mats[l];
            var y = mats[l + 1];
            var ksg = new KsgMutualInformation { Neighbors = _s.KsgNeighbors, Seed = _s.Seed + l };
            var twonn = new TwoNnIntrinsicDimension { Seed = _s.Seed + l };
            var (kl, lensEntropy) = LogitLens.Compare(finalLp, _lens.LogProbs(Gather(reps[l + 1], d, lensPositions), lensPositions.Length), lensPositions.Length, c.Vocab);
            values[l, 0] = distance[l].Mean;
            values[l, 1] = entropy[l].Mean;
            values[l, 2] = entropy[l].MeanNormalised;
            values[l, 3] = gmi.Estimate(x, y).Nats;
            values[l, 4] = ksg.Estimate(x, y).Nats;
            values[l, 6] = LinearCka.Compute(x, y);
            values[l, 7] = kl;
            values[l, 8] = lensEntropy;
            values[l, 9] = EffectiveRank.Compute(y);
            values[l, 10] = twonn.Estimate(y).Dimension;
        });
        for (int l = 0; l < L; l++) values[l, 5] = l == 0 ? 0 : values[l, 3] - values[l - 1, 3];
        for (int l = 0; l < L; l++)
            for (int s = 0; s < PerDocumentSignals.Length; s++)
                if (!double.IsFinite(values[l, s]))
                    throw new MspgtException("signals", $"{PerDocumentSignals[s]} is not finite at block {l}");

        int[] positions = EvenlySpaced(T, Math.Min(T - 1, _s.ProbeTokensPerDocument), skipFirst: true);
        var pooled = reps.Select(r => Project(Gather(r, d, positions), positions.Length, d)).ToArray();
        return new DocumentMeasurement { Values = values, Positions = positions, Pooled = pooled };
    }

    /// <summary>n positions spread evenly over [0, T) (or [1, T) when skipFirst: BOS carries no content).</summary>
    public static int[] EvenlySpaced(int T, int n, bool skipFirst)
    {
        int lo = skipFirst ? 1 : 0;
        int span = T - lo;
        if (n <= 0 || span <= 0) return [];
        n = Math.Min(n, span);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = lo + (int)((long)i * span / n);
        return p;
    }

    private static float[] Gather(float[] rows, int d, int[] positions)
    {
        var g = new float[positions.Length * d];
        for (int i = 0; i < positions.Length; i++) Array.Copy(rows, positions[i] * d, g, i * d, d);
        return g;
    }

    private float[] Project(float[] rows, int n, int d)
    {
        if (_projection == null) return rows;
        int k = PooledDims;
        var outp = new float[n * k];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                float v = rows[i * d + j];
                if (v == 0) continue;
                for (int q = 0; q < k; q++) outp[i * k + q] += v * _projection[j * k + q];
            }
        return outp;
    }
}
