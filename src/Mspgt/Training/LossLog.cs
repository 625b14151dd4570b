using System.Globalization;
using System.Text;
using Mspgt.Files;

namespace Mspgt.Training;

/// <summary>One logged step: losses in nats/token (val only on evaluation steps), lr used, cumulative tokens and
/// wall seconds, gradient norm before clipping.</summary>
public sealed record LossRow(long Step, double TrainLoss, double? ValLoss, double Lr, long Tokens, double Seconds, double GradNorm);

/// <summary>loss.csv (step, train_loss, val_loss, lr, tokens, seconds, grad_norm) in the output folder.</summary>
public static class LossLog
{
    public const string Header = "step,train_loss,val_loss,lr,tokens,seconds,grad_norm";

    public static void WriteCsv(string path, IReadOnlyList<LossRow> rows)
    {
        var sb = new StringBuilder(Header).Append('\n');
        var inv = CultureInfo.InvariantCulture;
        foreach (var r in rows)
            sb.Append(inv, $"{r.Step},{r.TrainLoss:R},{(r.ValLoss is double v ? v.ToString("R", inv) : "")},{r.Lr:R},{r.Tokens},{r.Seconds:F3},{r.GradNorm:R}\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Rows of an existing loss.csv (empty when there is none).</summary>
    public static List<LossRow> ReadCsv(string path)
    {
        var rows = new List<LossRow>();
        if (!File.Exists(path)) return rows;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header) throw new MspgtException(path, $"not a loss log (expected header \"{Header}\")");
        var inv = CultureInfo.InvariantCulture;
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split(',');
            try
            {
                rows.Add(new LossRow(long.Parse(f[0], inv), double.Parse(f[1], inv), f[2].Length == 0 ? null : double.Parse(f[2], inv),
                    double.Parse(f[3], inv), long.Parse(f[4], inv), double.Parse(f[5], inv), double.Parse(f[6], inv)));
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException)
            {
                throw new MspgtException(path, $"line {i + 1}: malformed row");
            }
        }
        return rows;
    }
}
