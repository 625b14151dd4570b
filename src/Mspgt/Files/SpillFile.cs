using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mspgt.Files;

/// <summary>
/// Float arrays set aside on disk until they are read back: an unlinked temporary file (nothing is left behind, even by
/// a killed process) written at its end and read at any offset, from any thread. What a run keeps per document (its
/// analysis's token samples, its intervention's clean rows) grows with the corpus; kept here, it leaves the process's
/// memory at one document's working set however many documents there are, and the system's page cache serves the
/// reads back.
/// </summary>
public sealed class SpillFile : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly string _path, _what;
    private long _end;
    private readonly object _gate = new();

    private SpillFile(SafeFileHandle file, string path, string what) => (_file, _path, _what) = (file, path, what);

    /// <summary>A new file in <paramref name="directory"/> (default: the system's temporary folder, TMPDIR), unlinked at
    /// once where the system allows it, else deleted on close; <paramref name="what"/> names its contents in errors.</summary>
    public static SpillFile Create(string what, string? directory = null)
    {
        string dir = directory ?? Path.GetTempPath();
        string path = Path.Combine(dir, $"mspgt-spill-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
            if (!OperatingSystem.IsWindows()) File.Delete(path);   // the open handle keeps the file until it closes
            return new SpillFile(file, path, what);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MspgtException(dir, $"cannot create a temporary file for {what}: {e.Message}");
        }
    }

    /// <summary>Writes <paramref name="values"/> at the file's end and returns their offset.</summary>
    public long Write(ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        long at;
        lock (_gate) { at = _end; _end += bytes.Length; }
        try { RandomAccess.Write(_file, bytes, at); }
        catch (IOException e)
        {
            throw new MspgtException(_path, $"cannot write {_what} ({bytes.Length} bytes at {at}): {e.Message}");
        }
        return at;
    }

    /// <summary>Reads back exactly <paramref name="into"/>'s length of values written at <paramref name="offset"/>.</summary>
    public void ReadInto(long offset, Span<float> into)
    {
        var bytes = MemoryMarshal.AsBytes(into);
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(_file, bytes[done..], offset + done);
            if (n <= 0) throw new InvalidOperationException($"{_path}: the file of {_what} ended at byte {offset + done}, before its last set");
            done += n;
        }
    }

    public void Dispose() => _file.Dispose();
}
