namespace Mspgt.Models;

/// <summary>Writes the row a <see cref="ActivationEdit.AddRows"/> edit adds at absolute position <c>position</c> (every value of <c>row</c>).</summary>
public delegate void RowWriter(int position, Span<float> row);

/// <summary>
/// An edit of one activation described as data, so that whichever device holds the activation applies it there:
/// the CPU forward pass runs <see cref="Apply"/> on its buffer, a GPU one runs the same edit as a device operation
/// without copying the activation to the host and back. Each kind works row by row over the innermost dimension
/// ([T, width] activations: one row per token). An arbitrary <see cref="HookEditor"/> stays the fallback for
/// anything else. Host-side values (a fill row, noise, donor rows) are computed on the host and uploaded, so the
/// device edit equals the CPU edit value for value.
/// </summary>
public abstract record ActivationEdit
{
    private ActivationEdit() { }

    /// <summary>Every value becomes 0 (zero ablation).</summary>
    public sealed record Zero : ActivationEdit;

    /// <summary>Every row becomes <paramref name="Row"/> (mean ablation); its length must be the row width.</summary>
    public sealed record FillRows(float[] Row) : ActivationEdit;

    /// <summary>
    /// Row r (at absolute position StartPosition + r) gets the row <paramref name="Source"/> writes for that
    /// position added, value by value in float (additive noise).
    /// </summary>
    public sealed record AddRows(RowWriter Source) : ActivationEdit;

    /// <summary>
    /// Row r, at absolute position p = StartPosition + r, becomes row p of <paramref name="Source"/> ([Length, width]
    /// row-major) when p &lt; <paramref name="Length"/>, and is kept otherwise (activation patching from a donor).
    /// </summary>
    public sealed record CopyRows(float[] Source, int Length) : ActivationEdit;

    /// <summary>The edit on a host buffer (the CPU forward pass, and the device's reference).</summary>
    public void Apply(WritableHookTensor t)
    {
        int width = t.Shape[^1], rows = t.Data.Length / width;
        switch (this)
        {
            case Zero:
                t.Data.Clear();
                break;
            case FillRows f:
                CheckWidth(f.Row.Length, width, t.Point);
                for (int r = 0; r < rows; r++) f.Row.CopyTo(t.Row(r));
                break;
            case AddRows a:
            {
                var add = new float[width];
                for (int r = 0; r < rows; r++)
                {
                    a.Source(t.StartPosition + r, add);
                    var row = t.Row(r);
                    for (int d = 0; d < width; d++) row[d] += add[d];
                }
                break;
            }
            case CopyRows c:
            {
                int n = CopiedRows(c, t.StartPosition, rows, width, t.Point);
                c.Source.AsSpan(t.StartPosition * width, n * width).CopyTo(t.Data);
                break;
            }
        }
    }

    /// <summary>How many leading rows of a <paramref name="rows"/>-row activation from <paramref name="start"/> have a source row.</summary>
    internal static int CopiedRows(CopyRows c, int start, int rows, int width, HookPoint p)
    {
        if ((long)c.Length * width > c.Source.Length)
            throw new ArgumentException($"{p.Name}: copy source of {c.Source.Length} values is shorter than {c.Length} rows of {width}");
        return Math.Clamp(c.Length - start, 0, rows);
    }

    internal static void CheckWidth(int got, int width, HookPoint p)
    {
        if (got != width) throw new ArgumentException($"{p.Name}: fill row of {got} values for rows of {width}");
    }
}
