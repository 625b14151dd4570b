namespace Mspgt.Numerics;

/// <summary>ggml block quantization formats (Q8_0, Q4_0, Q4_K, Q6_K): dequantization of whole rows.</summary>
public static class QuantBlocks
{
    public static void DequantizeQ8_0(ReadOnlySpan<byte> src, Span<float> dst) =>
        throw new NotSupportedException("Q8_0 dequantization is not implemented yet");

    public static void DequantizeQ4_0(ReadOnlySpan<byte> src, Span<float> dst) =>
        throw new NotSupportedException("Q4_0 dequantization is not implemented yet");

    public static void DequantizeQ4_K(ReadOnlySpan<byte> src, Span<float> dst) =>
        throw new NotSupportedException("Q4_K dequantization is not implemented yet");

    public static void DequantizeQ6_K(ReadOnlySpan<byte> src, Span<float> dst) =>
        throw new NotSupportedException("Q6_K dequantization is not implemented yet");
}
