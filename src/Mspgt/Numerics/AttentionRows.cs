using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mspgt.Numerics;

/// <summary>
/// Per query row of an attention pattern [heads, T, keys]: the entropy −Σ p log p over the keys it sees (nats,
/// 0 log 0 = 0) and the mean distance Σ p·(position − key). The CPU forward pass computes them here for an
/// attention-rows hook; the GPU one computes the same on the device, so only 2·heads·T numbers leave it.
/// </summary>
public static class AttentionRows
{
    /// <summary>Fills entropy and distance [heads·T] (head-major, query-minor) from a pattern [heads, T, keys].</summary>
    public static void Compute(ReadOnlySpan<float> pattern, int heads, int queries, int keys, int startPosition,
        Span<double> entropy, Span<double> distance)
    {
        Rows(pattern, queries, keys, startPosition, 0, heads * queries, entropy, distance);
    }

    /// <summary>
    /// As the span overload, for the forward pass, which streams every layer's pattern through here: rows are
    /// independent (one fixed sequence of operations each), so they run in fixed blocks of 16 in parallel and the
    /// values never depend on the thread count.
    /// </summary>
    public static void Compute(float[] pattern, int heads, int queries, int keys, int startPosition,
        double[] entropy, double[] distance) =>
        Parallelism.ForChunks(heads * queries, 16, (long)heads * queries * keys, (r0, r1) =>
            Rows(pattern, queries, keys, startPosition, r0, r1, entropy, distance));

    private static void Rows(ReadOnlySpan<float> pattern, int queries, int keys, int startPosition, int r0, int r1,
        Span<double> entropy, Span<double> distance)
    {
        for (int r = r0; r < r1; r++)
        {
            int pos = startPosition + r % queries;
            (entropy[r], distance[r]) = Of(pattern.Slice(r * keys, keys), pos);
        }
    }

    /// <summary>Entropy and mean distance of the row of the query at position <paramref name="pos"/>: its first pos + 1
    /// keys (the fused attention kernel calls this on each row while its block of probabilities is in cache).</summary>
    internal static (double Entropy, double Distance) Of(ReadOnlySpan<float> row, int pos)
    {
        row = row[..(pos + 1)];
        return (Entropy(row), Distance(row, pos));
    }

    /// <summary>
    /// Σ_k p_k·(pos − k) in double precision. Each product is exact (a float times an integer below 2²⁴), and they
    /// are summed 4 doubles at a time into two fixed partial sums, then the tail in key order: deterministic, and
    /// differing from the sequential sum only by double rounding. (The sequential sum, one dependent add per key,
    /// was a third of the attention statistics' time.)
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double Distance(ReadOnlySpan<float> row, int pos)
    {
        row = row[..(pos + 1)];   // a row shorter than its query's keys is a bug: the slice throws, as indexing did
        int n = row.Length, k = 0;
        double d = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            ref float r0 = ref MemoryMarshal.GetReference(row);
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            var w0 = Vector256.Create((double)pos, pos - 1, pos - 2, pos - 3);
            var w1 = w0 - Vector256.Create(4.0);
            var step = Vector256.Create(8.0);
            for (; k + 8 <= n; k += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref r0, (nuint)k));
                acc0 += lo * w0;
                acc1 += hi * w1;
                w0 -= step;
                w1 -= step;
            }
            d = Vector256.Sum(acc0 + acc1);
        }
        for (; k < n; k++) d += row[k] * (double)(pos - k);
        return d;
    }

    /// <summary>
    /// −Σ p log p of one row in double precision, 0 log 0 = 0. Streamed over every pattern row of every layer, so
    /// it runs 4 doubles at a time (Vector256.Log, within an ulp of Math.Log) into two fixed partial sums, or 8 at a
    /// time into the same sums where AVX-512 is there (<see cref="Entropy512"/>, the same bits): the result is
    /// deterministic, the same with or without AVX-512, and differs from a sequential sum only by double rounding.
    /// </summary>
    public static double Entropy(ReadOnlySpan<float> row) =>
        Vector512.IsHardwareAccelerated ? Entropy512(row) : Entropy256(row);

    /// <summary>
    /// <see cref="Entropy"/> with 8 doubles a step: lanes 0–3 of the one accumulator add exactly what the 256-bit
    /// path's first partial sum adds, lanes 4–7 its second, and Vector512.Log gives each lane the bits Vector256.Log
    /// does (one algorithm at every width), so the result is bit for bit the 256-bit path's (a test compares them),
    /// with half the log instructions: the log was most of the attention statistics' time.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static double Entropy512(ReadOnlySpan<float> row)
    {
        if (!Vector512.IsHardwareAccelerated) return Entropy256(row);
        int i = 0;
        double e = 0;
        if (row.Length >= 8)
        {
            ref float r0 = ref MemoryMarshal.GetReference(row);
            var acc = Vector512<double>.Zero;
            for (; i + 8 <= row.Length; i += 8)
            {
                var p = Vector512.WidenLower(Vector256.LoadUnsafe(ref r0, (nuint)i).ToVector512Unsafe());
                acc += Vector512.ConditionalSelect(Vector512.GreaterThan(p, Vector512<double>.Zero), p * Vector512.Log(p), Vector512<double>.Zero);
            }
            e = -Vector256.Sum(acc.GetLower() + acc.GetUpper());
        }
        return EntropyTail(row, i, e);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static double Entropy256(ReadOnlySpan<float> row)
    {
        int i = 0;
        double e = 0;
        if (Vector256.IsHardwareAccelerated && row.Length >= 8)
        {
            ref float r0 = ref MemoryMarshal.GetReference(row);
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; i + 8 <= row.Length; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref r0, (nuint)i));
                acc0 += PLogP(lo);
                acc1 += PLogP(hi);
            }
            e = -Vector256.Sum(acc0 + acc1);
        }
        return EntropyTail(row, i, e);
    }

    /// <summary>The entries from <paramref name="i"/> on, one at a time, after the vector part's sum.</summary>
    private static double EntropyTail(ReadOnlySpan<float> row, int i, double e)
    {
        for (; i < row.Length; i++)
        {
            float p = row[i];
            if (p > 0) e -= p * Math.Log(p);
        }
        return e;
    }

    private static Vector256<double> PLogP(Vector256<double> p) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(p, Vector256<double>.Zero), p * Vector256.Log(p), Vector256<double>.Zero);
}
