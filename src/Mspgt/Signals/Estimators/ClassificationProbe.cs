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
internal sealed class FeatureScaling
{
    public required double[] Mean { get; init; }
    public required double[] InverseScale { get; init; }

    public static FeatureScaling Fit(DenseMatrix x)
    {
        var mean = LinearAlgebra.ColumnMeans(x);
        var var_ = new double[x.Cols];
        var tmp = new double[x.Cols];
        for (int i = 0; i < x.Rows; i++)
        {
            TensorPrimitives.Subtract(x.Row(i), mean, tmp);
            TensorPrimitives.MultiplyAdd(tmp, tmp, var_, var_);
        }
        var inv = var_.Select(v => v > 0 ? 1 / Math.Sqrt(v / x.Rows) : 1.0).ToArray();
        return new FeatureScaling { Mean = mean, InverseScale = inv };
    }

    public DenseMatrix Apply(DenseMatrix x, string source)
    {
        if (x.Cols != Mean.Length)
            throw new MspgtException(source, $"samples have {x.Cols} features, the probe was trained on {Mean.Length}");
        var s = x.Clone();
        for (int i = 0; i < s.Rows; i++)
        {
            var row = s.Row(i);
            TensorPrimitives.Subtract(row, Mean, row);
            TensorPrimitives.Multiply(row, InverseScale, row);
        }
        return s;
    }
}

/// <summary>Shared checks and label bookkeeping for the probes.</summary>
internal static class ProbeLabels
{
    /// <summary>Validates training input and returns the sorted distinct labels and each sample's class index.</summary>
    public static (int[] Classes, int[] Index) Encode(DenseMatrix x, ReadOnlySpan<int> labels, string source)
    {
        SampleChecks.RequireLabels(x.Rows, labels.Length, source);
        SampleChecks.Require(x, source, 2);
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
