using System.Runtime.InteropServices;

namespace Mspgt.Files;

/// <summary>
/// The check every reader makes before opening a path: it names a regular file (links followed). A directory, a
/// FIFO, a device or a socket is refused with one line, before any open that could block (a FIFO's open waits for a
/// writer) or any read that never ends (/dev/zero).
/// </summary>
public static unsafe partial class RegularFile
{
    /// <param name="what">What the path should be, for the messages: "file", "text file", "corpus file".</param>
    public static void Require(string path, string what = "file")
    {
        if (Directory.Exists(path)) throw new MspgtException(path, $"is a directory, not a {what}");
        if (!File.Exists(path)) throw new MspgtException(path, $"{what} not found");
        if (Kind(path) is { } kind && kind != "regular file")
            throw new MspgtException(path, $"is a {kind}, not a regular file");
    }

    /// <summary>The whole file, after <see cref="Require"/>; an I/O failure is a one-line error naming the file.</summary>
    public static byte[] ReadAllBytes(string path, string what = "file")
    {
        Require(path, what);
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MspgtException(path, $"cannot read: {e.Message}");
        }
    }

    /// <summary>The whole file as text (UTF-8, a BOM dropped), after <see cref="Require"/>.</summary>
    public static string ReadAllText(string path, string what = "file")
    {
        Require(path, what);
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MspgtException(path, $"cannot read: {e.Message}");
        }
    }

    /// <summary>The file type from stat(2) on Linux x64/arm64 (null where unknown: other systems, or stat failed).</summary>
    public static string? Kind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        // struct stat's st_mode: offset 24 on x86-64 (st_dev, st_ino, st_nlink before it), 16 on the generic layout of arm64.
        int offset = RuntimeInformation.ProcessArchitecture switch { Architecture.X64 => 24, Architecture.Arm64 => 16, _ => -1 };
        if (offset < 0) return null;
        byte* buffer = stackalloc byte[512];
        try { if (Stat(path, buffer) != 0) return null; }
        catch (EntryPointNotFoundException) { return null; }
        uint mode = *(uint*)(buffer + offset) & 0xF000;
        return mode switch
        {
            0x8000 => "regular file",
            0x4000 => "directory",
            0x1000 => "FIFO",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            _ => null,
        };
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte* buffer);
}
