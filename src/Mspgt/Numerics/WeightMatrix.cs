using Mspgt.Checkpoints;

namespace Mspgt.Numerics;

/// <summary>
/// A 2-D weight in PyTorch nn.Linear layout [Rows = out features][Cols = in features], kept in its stored type
/// (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K) in a memory-mapped file or an owned buffer. Rows are decoded to float32
/// on demand, a small panel at a time, inside the matmul.
/// An optional row map lets a file whose q/k rows are stored permuted (llama.cpp / llama2.c "adjacent pair" RoPE
/// layout) present itself in the Hugging Face (rotate-half) layout without copying: logical row r is stored row
/// RowMap[r]. That way every format gives the same activations at every hook.
/// </summary>
public sealed unsafe class WeightMatrix
{
    private readonly byte* _data;
    private readonly object? _keepAlive;
    private readonly int[]? _rowMap;

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    public TensorType Type { get; }
    public long RowBytes { get; }

    /// <param name="data">Pointer to the first stored row; the caller has bounds-checked Rows*RowBytes bytes.</param>
    /// <param name="keepAlive">The owner of the memory (a MappedFile or a pinned array holder).</param>
    public WeightMatrix(string name, int rows, int cols, TensorType type, byte* data, object? keepAlive, int[]? rowMap = null)
    {
        Name = name; Rows = rows; Cols = cols; Type = type; _data = data; _keepAlive = keepAlive;
        RowBytes = TensorTypeInfo.RowBytes(type, cols);
        if (rowMap != null && rowMap.Length != rows) throw new ArgumentException("row map length must equal rows");
        _rowMap = rowMap;
    }

    /// <summary>
    /// A float32 matrix over <paramref name="values"/> itself, without a copy (synthetic models and tests): the
    /// array is pinned for the matrix's lifetime and must not be modified afterwards.
    /// </summary>
    public static WeightMatrix FromFloats(string name, int rows, int cols, float[] values)
    {
        if (values.Length != (long)rows * cols) throw new ArgumentException("values length must be rows*cols");
        var holder = new PinnedArray(values);
        return new WeightMatrix(name, rows, cols, TensorType.F32, holder.Pointer, holder);
    }

    /// <summary>
    /// A matrix over raw stored bytes of any type (tests, in-memory quantized data), without a copy: the array is
    /// pinned for the matrix's lifetime and must not be modified afterwards.
    /// </summary>
    public static WeightMatrix FromBytes(string name, int rows, int cols, TensorType type, byte[] bytes)
    {
        if (bytes.Length != TensorTypeInfo.RowBytes(type, cols) * rows) throw new ArgumentException("byte length does not match shape");
        var holder = new PinnedArray(bytes);
        return new WeightMatrix(name, rows, cols, type, holder.Pointer, holder);
    }

    public WeightMatrix WithRowMap(int[] rowMap) => new(Name, Rows, Cols, Type, _data, _keepAlive, rowMap);

    /// <summary>Rows [r0, r0 + n) as a matrix over the same memory (a slice of the vocabulary of an unembedding).</summary>
    public WeightMatrix RowSlice(int r0, int n)
    {
        if (r0 < 0 || n < 0 || r0 + n > Rows) throw new ArgumentOutOfRangeException(nameof(r0), $"rows {r0}..{r0 + n} of {Rows}");
        return _rowMap != null
            ? new(Name, n, Cols, Type, _data, _keepAlive, _rowMap.AsSpan(r0, n).ToArray())
            : new(Name, n, Cols, Type, _data + r0 * RowBytes, _keepAlive);
    }

    public long StoredBytes => RowBytes * Rows;

    /// <summary>Stored bytes of logical row r.</summary>
    public ReadOnlySpan<byte> RowSpan(int r)
    {
        if ((uint)r >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(r));
        int stored = _rowMap == null ? r : _rowMap[r];
        return new ReadOnlySpan<byte>(_data + stored * RowBytes, checked((int)RowBytes));
    }

    /// <summary>Pointer to a float32 row (only when Type is F32) for zero-copy kernels.</summary>
    public float* F32RowPointer(int r)
    {
        int stored = _rowMap == null ? r : _rowMap[r];
        return (float*)(_data + stored * RowBytes);
    }

    /// <summary>
    /// Asks the processor to start loading the stored bytes of values [k0, k0 + n) of logical rows [r0, r0 + rows)
    /// (those that exist) into its caches: a hint, with no effect on any value.
    /// </summary>
    public void Prefetch(int r0, int rows, int k0, int n)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        int bs = TensorTypeInfo.BlockSize(Type);
        long first = (long)k0 / bs * TensorTypeInfo.BlockBytes(Type), bytes = (long)n / bs * TensorTypeInfo.BlockBytes(Type);
        for (int r = Math.Max(0, r0); r < Math.Min(Rows, r0 + rows); r++)
        {
            byte* p = _data + (_rowMap == null ? r : _rowMap[r]) * RowBytes + first;
            for (long b = 0; b < bytes; b += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + b);
        }
    }

    public void DecodeRow(int r, Span<float> dst) => RowDecoder.Decode(Type, RowSpan(r), dst[..Cols]);

    /// <summary>
    /// Values [k0, k0 + dst.Length) of logical row r; k0 and dst.Length must be multiples of the block size
    /// (or dst must reach the end of the row).
    /// </summary>
    public void DecodeRowRange(int r, int k0, Span<float> dst)
    {
        int bs = TensorTypeInfo.BlockSize(Type);
        int n = dst.Length;
        if (k0 < 0 || n < 0 || (long)k0 + n > Cols || k0 % bs != 0 || n % bs != 0)
            throw new ArgumentException($"columns [{k0}, {k0 + n}) of {Name} are not whole {Type} blocks inside the row");
        int bb = TensorTypeInfo.BlockBytes(Type);
        RowDecoder.Decode(Type, RowSpan(r).Slice(k0 / bs * bb, n / bs * bb), dst);
    }

    /// <summary>Decodes rows [r0, r0+n) into dst (n*Cols floats, row-major).</summary>
    public void DecodeRows(int r0, int n, Span<float> dst)
    {
        for (int i = 0; i < n; i++) DecodeRow(r0 + i, dst.Slice(i * Cols, Cols));
    }

    /// <summary>The whole matrix as float32 (tests and small tensors only; the forward pass never calls this).</summary>
    public float[] ToFloats()
    {
        var all = new float[(long)Rows * Cols];
        DecodeRows(0, Rows, all);
        return all;
    }
}

/// <summary>Pins a caller's array (float[] or byte[]) for the lifetime of the object, without copying it.</summary>
internal sealed unsafe class PinnedArray
{
    private readonly Array _values;
    private System.Runtime.InteropServices.GCHandle _handle;
    public byte* Pointer { get; }

    public PinnedArray(Array values)
    {
        _values = values;
        _handle = System.Runtime.InteropServices.GCHandle.Alloc(values, System.Runtime.InteropServices.GCHandleType.Pinned);
        Pointer = (byte*)_handle.AddrOfPinnedObject();
    }

    ~PinnedArray() { if (_handle.IsAllocated) _handle.Free(); }
}
