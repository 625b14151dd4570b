namespace Mspgt.Models.Gpu;

/// <summary>Which device a forward pass runs on, as the user wrote it: <c>auto</c>, <c>cpu</c> or <c>cuda[:N]</c>.</summary>
public sealed record DeviceSpec(DeviceKind Kind, int Index)
{
    public static readonly DeviceSpec Auto = new(DeviceKind.Auto, 0);
    public static readonly DeviceSpec Cpu = new(DeviceKind.Cpu, 0);

    /// <summary>Parses a <c>--device</c> value; bad input names the setting in one line.</summary>
    public static DeviceSpec Parse(string? text, string setting = "--device")
    {
        var t = (text ?? "auto").Trim().ToLowerInvariant();
        if (t is "auto") return Auto;
        if (t is "cpu") return Cpu;
        if (t is "cuda") return new(DeviceKind.Cuda, 0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (int.TryParse(t.AsSpan(5), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var n)) return new(DeviceKind.Cuda, n);
            throw MspgtException.ForSetting(setting, $"'{text}' has no device number after 'cuda:' (expected cuda:N, N ≥ 0)");
        }
        throw MspgtException.ForSetting(setting, $"'{text}' is not a device (expected auto, cpu, cuda or cuda:N)");
    }

    public override string ToString() => Kind switch
    {
        DeviceKind.Auto => "auto",
        DeviceKind.Cpu => "cpu",
        _ => $"cuda:{Index}",
    };
}

public enum DeviceKind { Auto, Cpu, Cuda }
