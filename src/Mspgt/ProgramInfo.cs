namespace Mspgt;

public static class ProgramInfo
{
    public static string Version =>
        typeof(ProgramInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
