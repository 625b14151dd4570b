using Mspgt.Files;
using System.IO.MemoryMappedFiles;

namespace Mspgt.Checkpoints;

/// <summary>
/// A read-only memory-mapped file. Every read is bounds-checked against the file length first, so a
/// truncated or corrupt checkpoint gives a clear <see cref="MspgtException"/> instead of an access violation.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _ptr;
    private byte* _base;   // the view's page-aligned start (the file's byte 0 lies PointerOffset past it)

    public string Path { get; }
    public long Length { get; }

    private MappedFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* @base, byte* ptr)
    {
        Path = path; Length = length; _map = map; _view = view; _base = @base; _ptr = ptr;
    }

    public static MappedFile Open(string path)
    {
        RegularFile.Require(path);
        try
        {
            // The length comes from the opened handle, which follows symbolic links (a Hugging Face hub snapshot is a
            // folder of links into blobs/; FileInfo of a link gives the link's own length). FIFOs and devices were
            // refused above, so the open cannot block.
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = stream.Length;
            if (length == 0) { stream.Dispose(); return new MappedFile(path, 0, null, null, null, null); }
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(path, length, map, view, p, p + view.PointerOffset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MspgtException(path, $"cannot open: {e.Message}");
        }
    }

    /// <summary>Checks that [offset, offset+length) lies inside the file; names <paramref name="what"/> otherwise.</summary>
    public void Require(long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new MspgtException(Path,
                $"truncated or corrupt: {what} needs bytes {offset}..{offset + length} but the file has {Length}");
    }

    public ReadOnlySpan<byte> Span(long offset, int length, string what)
    {
        Require(offset, length, what);
        return new ReadOnlySpan<byte>(_ptr + offset, length);
    }

    /// <summary>Raw pointer to a checked range; valid while this object is alive.</summary>
    public byte* Pointer(long offset, long length, string what)
    {
        Require(offset, length, what);
        return _ptr + offset;
    }

    /// <summary>
    /// Lets the pages of the file that this process has touched go from its resident set (Linux: madvise
    /// MADV_DONTNEED on the read-only mapping). The mapping stays valid: a later read faults its page in again from
    /// the page cache (or the disk). For a process done with the weights for a while, e.g. analyze's corpus-level
    /// stage, whose peak would otherwise sit on top of every weight page. Elsewhere it does nothing.
    /// </summary>
    public void DropResidentPages()
    {
        if (_base == null || !OperatingSystem.IsLinux()) return;
        long bytes = (_ptr - _base) + Length;
        madvise(_base, (nuint)bytes, MadviseDontNeed);   // advice only: a failure leaves the pages where they were
    }

    private const int MadviseDontNeed = 4;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int madvise(void* address, nuint length, int advice);

    public void Dispose()
    {
        if (_view != null && _ptr != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _ptr = null;
            _base = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
