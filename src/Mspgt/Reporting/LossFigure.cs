using Mspgt.Training;

namespace Mspgt.Reporting;

/// <summary>loss.png of a training run: train and validation loss against step.</summary>
public static class LossFigure
{
    /// <summary>Draws <paramref name="rows"/> into a PNG at <paramref name="path"/> (a <see cref="LossPlotter"/>).</summary>
    public static void Write(string path, string title, IReadOnlyList<LossRow> rows)
    {
        if (rows.Count == 0) return;
        var train = rows.Select(r => new LossPoint(r.Step, r.TrainLoss)).ToList();
        var val = rows.Where(r => r.ValLoss != null).Select(r => new LossPoint(r.Step, r.ValLoss!.Value)).ToList();
        LossPlot.Create(title, train, val).SavePng(path);
    }
}
