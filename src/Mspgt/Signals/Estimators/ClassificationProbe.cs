using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>A linear classifier trained on one split of a representation and scored on another.</summary>
public interface IClassificationProbe
{
    /// <summary>Trains on samples X (n × d) with integer class labels (any values; at least two distinct).</summary>
    void Fit(DenseMatrix x, ReadOnlySpan<int> labels);

    /// <summary>Predicted label of each row (one of the training labels).</summary>
    int[] Predict(DenseMatrix x);

    /// <summary>Fraction of rows whose predicted label equals the given one (labels unseen in training count as wrong).</summary>
    double Accuracy(DenseMatrix x, ReadOnlySpan<int> labels);
}

/// <summary>Per-feature standardisation fitted on a training split: (x − mean) / std, std = 1 for constant features.</summary>
/// <remarks>Every method takes an optional list of rows of x (null: all of them, in order), so a caller holding one
/// matrix of all samples fits and applies it to a split without first copying the split's rows out: the values are
/// those of the same call on x.SelectRows(rows), bit for bit (the same operations on the same rows in the same order).</remarks>
internal sealed class FeatureScaling
{
    public required double[] Mean { get; init; }
    public required double[] InverseScale { get; init; }

    public static FeatureScaling Fit(DenseMatrix x, int[]? rows = null)
    {
        int m = rows?.Length ?? x.Rows;
        var mean = LinearAlgebra.ColumnMeans(x, rows);
        var var_ = new double[x.Cols];
        var tmp = new double[x.Cols];
        for (int i = 0; i < m; i++)
        {
            TensorPrimitives.Subtract(x.Row(rows?[i] ?? i), mean, tmp);
            TensorPrimitives.MultiplyAdd(tmp, tmp, var_, var_);
        }
        var inv = var_.Select(v => v > 0 ? 1 / Math.Sqrt(v / m) : 1.0).ToArray();
        return new FeatureScaling { Mean = mean, InverseScale = inv };
    }

    /// <summary>The standardised rows (rows × Cols): a new matrix, or one over <paramref name="into"/> (rows · Cols
    /// values, every one overwritten) for a caller that reuses its storage.</summary>
    public DenseMatrix Apply(DenseMatrix x, string source, int[]? rows = null, double[]? into = null)
    {
        RequireWidth(x, source);
        int m = rows?.Length ?? x.Rows;
        var s = into == null ? new DenseMatrix(m, x.Cols) : new DenseMatrix(m, x.Cols, into);
        for (int i = 0; i < m; i++)
        {
            var row = s.Row(i);
            TensorPrimitives.Subtract(x.Row(rows?[i] ?? i), Mean, row);
            TensorPrimitives.Multiply(row, InverseScale, row);
        }
        return s;
    }

    /// <summary>
    /// Rows t0 .. t0 + count − 1 of the list (null: of x) standardised and transposed into dst (Cols × count,
    /// dst[j·count + t]): a slab of what a product along the samples reads. Each value is the same two rounded
    /// operations as in <see cref="Apply"/>.
    /// </summary>
    public void ApplyTransposed(DenseMatrix x, int[]? rows, int t0, int count, double[] dst)
    {
        int d = x.Cols;
        var src = x.Data;
        const int Block = 8;   // eight rows at a time: each feature's eight values fill one cache line of the output
        for (int i0 = 0; i0 < count; i0 += Block)
        {
            int i1 = Math.Min(count, i0 + Block);
            for (int j = 0; j < d; j++)
            {
                double mean = Mean[j], inv = InverseScale[j];
                for (int i = i0; i < i1; i++) dst[j * count + i] = (src[(rows?[t0 + i] ?? t0 + i) * d + j] - mean) * inv;
            }
        }
    }

    public void RequireWidth(DenseMatrix x, string source)
    {
        if (x.Cols != Mean.Length)
            throw new MspgtException(source, $"samples have {x.Cols} features, the probe was trained on {Mean.Length}");
    }
}

/// <summary>Shared checks and label bookkeeping for the probes.</summary>
internal static class ProbeLabels
{
    /// <summary>Validates training input (the listed rows of x; null: all) and returns the sorted distinct labels and
    /// each sample's class index.</summary>
    public static (int[] Classes, int[] Index) Encode(DenseMatrix x, ReadOnlySpan<int> labels, string source, int[]? rows = null)
    {
        SampleChecks.RequireLabels(rows?.Length ?? x.Rows, labels.Length, source);
        if (rows == null) SampleChecks.Require(x, source, 2);
        else SampleChecks.Require(x, rows, source, 2);
        var classes = labels.ToArray().Distinct().Order().ToArray();
        if (classes.Length < 2)
            throw new MspgtException(source, $"training labels hold a single class ({classes[0]}); a probe needs at least two");
        var index = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++) index[i] = Array.BinarySearch(classes, labels[i]);
        return (classes, index);
    }

    /// <summary>The commonest label (ties → the lowest), or −1 when there is none.</summary>
    public static int Majority(IEnumerable<int> labels) =>
        labels.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.Key).DefaultIfEmpty(-1).First();

    public static int[] ArgMax(DenseMatrix scores, int[] classes)
    {
        var result = new int[scores.Rows];
        for (int i = 0; i < scores.Rows; i++)
            result[i] = classes[TensorPrimitives.IndexOfMax<double>(scores.Row(i))];   // ties → lowest class
        return result;
    }

    public static double Accuracy(int[] predicted, ReadOnlySpan<int> labels, string source)
    {
        SampleChecks.RequireLabels(predicted.Length, labels.Length, source);
        if (predicted.Length == 0) throw new MspgtException(source, "no samples to score");
        int hits = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == labels[i]) hits++;
        return (double)hits / predicted.Length;
    }
}
