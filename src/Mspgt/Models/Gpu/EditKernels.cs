using ILGPU;
using ILGPU.Runtime;

namespace Mspgt.Models.Gpu;

/// <summary>
/// <see cref="ActivationEdit"/>s applied to a device activation in place, value for value as
/// <see cref="ActivationEdit.Apply"/> does on the host: what the host computes (a fill row, noise, donor rows) is
/// uploaded, never the activation downloaded.
/// </summary>
public sealed class EditKernels
{
    readonly RowKernels rows;
    readonly Action<Index1D, ArrayView<float>> zero;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>> fillRows;
    float[] host = [];

    public EditKernels(Accelerator a, RowKernels rows)
    {
        this.rows = rows;
        zero = a.LoadGroupedKernel<Index1D, ArrayView<float>>(ZeroKernel);
        fillRows = a.LoadGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(FillRowsKernel);
    }

    /// <summary>
    /// Applies <paramref name="edit"/> to <paramref name="x"/> (rows of <paramref name="width"/>, the first at
    /// absolute position <paramref name="start"/>); <paramref name="staging"/> holds at least x's length.
    /// </summary>
    public void Apply(ActivationEdit edit, HookPoint p, ArrayView<float> x, int width, int start, ArrayView<float> staging)
    {
        int n = (int)x.Length, count = n / width;
        switch (edit)
        {
            case ActivationEdit.Zero:
                zero(n, x);
                break;
            case ActivationEdit.FillRows f:
            {
                ActivationEdit.CheckWidth(f.Row.Length, width, p);
                var row = staging.SubView(0, width);
                row.CopyFromCPU(f.Row);
                fillRows(n, x, row);
                break;
            }
            case ActivationEdit.AddRows a:
            {
                if (host.Length < n) host = new float[n];
                for (int r = 0; r < count; r++) a.Source(start + r, host.AsSpan(r * width, width));
                var add = staging.SubView(0, n);
                add.CopyFromCPU(host.AsSpan(0, n));
                rows.Add(x, add);
                break;
            }
            case ActivationEdit.CopyRows c:
            {
                int copied = ActivationEdit.CopiedRows(c, start, count, width, p);
                if (copied > 0) x.SubView(0, (long)copied * width).CopyFromCPU(c.Source.AsSpan(start * width, copied * width));
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(edit), edit, "an edit kind the device does not know");
        }
    }

    static void ZeroKernel(Index1D i, ArrayView<float> x) => x[i] = 0f;

    static void FillRowsKernel(Index1D i, ArrayView<float> x, ArrayView<float> row) => x[i] = row[i % row.Length];
}
