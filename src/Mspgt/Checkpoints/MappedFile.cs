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

    public string Path { get; }
    public long Length { get; }

    private MappedFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* ptr)
    {
        Path = path; Length = length; _map = map; _view = view; _ptr = ptr;
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
            if (length == 0) { stream.Dispose(); return new MappedFile(path, 0, null, null, null); }
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new MappedFile(path, length, map, view, p);
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

    public void Dispose()
    {
        if (_view != null && _ptr != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _ptr = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
