using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Signals.Estimators;

/// <summary>
/// Multinomial (softmax) logistic regression with an L2 penalty. Features are standardised on the training split;
/// the objective is the mean cross-entropy (nats per sample) + (λ/2)‖W‖² (bias not penalised), minimised from zero
/// by deterministic full-batch L-BFGS with a fixed iteration cap.
/// </summary>
public sealed class LogisticProbe : IClassificationProbe
{
    private const string Source = "logistic-probe";

    /// <summary>L2 weight λ on the mean loss (default 1e-3).</summary>
    public double L2 { get; init; } = 1e-3;

    /// <summary>L-BFGS iteration cap (default 200).</summary>
    public int MaxIterations { get; init; } = 200;

    /// <summary>Iterations the last <see cref="Fit"/> used.</summary>
    public int IterationsUsed { get; private set; }

    private FeatureScaling? _scaling;
    private DenseMatrix? _weights;   // C × d
    private double[]? _bias;
    private int[]? _classes;

    public void Fit(DenseMatrix x, ReadOnlySpan<int> labels)
    {
        if (!(L2 >= 0) || !double.IsFinite(L2)) throw new MspgtException(Source, $"L2 weight must be non-negative, got {L2}");
        if (MaxIterations < 1) throw new MspgtException(Source, $"iteration cap must be at least 1, got {MaxIterations}");
        var (classes, index) = ProbeLabels.Encode(x, labels, Source);
        int n = x.Rows, d = x.Cols, c = classes.Length;
        var scaling = FeatureScaling.Fit(x);
        var xs = scaling.Apply(x, Source);
        var xst = xs.Transpose();   // d × n, for the gradient product
        double l2 = L2;

        var theta = new double[c * d + c];   // W row-major (C × d), then b
        var w = new DenseMatrix(c, d);
        var residualT = new DenseMatrix(c, n);
        double Objective(ReadOnlySpan<double> t, Span<double> grad)
        {
            t.Slice(0, c * d).CopyTo(w.Data);
            var b = t.Slice(c * d, c);
            var logits = LinearAlgebra.MultiplyTransposed(xs, w);   // n × C
            double loss = 0;
            for (int i = 0; i < n; i++)
            {
                var z = logits.Row(i);
                TensorPrimitives.Add(z, b, z);
                double max = TensorPrimitives.Max<double>(z);
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.Exp(z[k] - max);
                double logSum = max + Math.Log(sum);
                loss += logSum - z[index[i]];
                for (int k = 0; k < c; k++)
                    residualT[k, i] = (Math.Exp(z[k] - logSum) - (k == index[i] ? 1 : 0)) / n;
            }
            var gwT = LinearAlgebra.MultiplyTransposed(xst, residualT);   // d × C (d rows: splits over threads)
            for (int k = 0; k < c; k++)
                for (int j = 0; j < d; j++)
                    grad[k * d + j] = gwT[j, k] + l2 * t[k * d + j];
            for (int k = 0; k < c; k++)
            {
                double s = 0;
                foreach (double v in residualT.Row(k)) s += v;
                grad[c * d + k] = s;
            }
            double penalty = 0.5 * l2 * TensorPrimitives.Dot(t.Slice(0, c * d), t.Slice(0, c * d));
            return loss / n + penalty;
        }

        IterationsUsed = Lbfgs.Minimize(Objective, theta, MaxIterations, gradientTolerance: 1e-6);
        _weights = new DenseMatrix(c, d, theta.AsSpan(0, c * d).ToArray());
        _bias = theta.AsSpan(c * d, c).ToArray();
        _scaling = scaling;
        _classes = classes;
    }

    /// <summary>The training labels, sorted: column order of <see cref="Probabilities"/>.</summary>
    public IReadOnlyList<int> Classes => _classes ?? throw new InvalidOperationException("LogisticProbe used before Fit");

    public int[] Predict(DenseMatrix x) => ProbeLabels.ArgMax(Logits(x), _classes!);

    /// <summary>Softmax class probabilities (n × classes, columns in <see cref="Classes"/> order).</summary>
    public DenseMatrix Probabilities(DenseMatrix x)
    {
        var p = Logits(x);
        for (int i = 0; i < p.Rows; i++)
        {
            var row = p.Row(i);
            double max = TensorPrimitives.Max<double>(row);   // shift first: large logits must not overflow
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, row);
            TensorPrimitives.Divide(row, TensorPrimitives.Sum<double>(row), row);
        }
        return p;
    }

    private DenseMatrix Logits(DenseMatrix x)
    {
        if (_scaling is null || _weights is null || _bias is null || _classes is null)
            throw new InvalidOperationException("LogisticProbe used before Fit");
        LinearAlgebra.RequireFinite(x, Source);
        var logits = LinearAlgebra.MultiplyTransposed(_scaling.Apply(x, Source), _weights);
        for (int i = 0; i < logits.Rows; i++) TensorPrimitives.Add(logits.Row(i), _bias, logits.Row(i));
        return logits;
    }

    public double Accuracy(DenseMatrix x, ReadOnlySpan<int> labels) => ProbeLabels.Accuracy(Predict(x), labels, Source);
}
