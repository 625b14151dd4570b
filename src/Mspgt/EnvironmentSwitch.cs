namespace Mspgt;

/// <summary>
/// On/off switches read from environment variables, for comparing two ways of doing the same work on one machine
/// (<c>MSPGT_CPU_WORKERS</c>, <c>MSPGT_GPU_OVERLAP</c>): unset, empty or "1" is on, "0" is off, anything else is bad
/// input naming the variable.
/// </summary>
public static class EnvironmentSwitch
{
    public static bool IsOn(string variable) => Environment.GetEnvironmentVariable(variable) switch
    {
        null or "" or "1" => true,
        "0" => false,
        var other => throw new MspgtException(variable, $"'{other}' is not 0 or 1"),
    };
}
