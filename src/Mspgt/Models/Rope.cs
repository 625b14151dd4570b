using System.Runtime.Intrinsics;

namespace Mspgt.Models;

/// <summary>
/// Rotary position embeddings in the rotate-half (NEOX / Hugging Face) form: the pair (x[i], x[i+hd/2]) is rotated
/// by pos·inv_freq[i]. Angles are computed in double precision. Llama 3.1 scaling comes either from config.json's
/// rope_scaling or from a GGUF file's rope_freqs.weight divisors.
/// </summary>
public sealed class Rope
{
    private readonly double[] _invFreq;
    public int HeadDim { get; }

    public Rope(ModelConfig c, float[]? freqFactors)
    {
        HeadDim = c.HeadDim;
        int half = c.HeadDim / 2;
        _invFreq = new double[half];
        for (int i = 0; i < half; i++)
        {
            // Hugging Face computes the exponent in float32: 2i / head_dim, as float.
            double inv = 1.0 / Math.Pow(c.RopeTheta, (2.0 * i) / c.HeadDim);
            if (c.RopeScaling is { } s) inv = Llama3Scale(inv, s);
            if (freqFactors != null) inv /= freqFactors[i];
            _invFreq[i] = inv;
        }
        if (freqFactors != null && freqFactors.Length != half)
            throw new MspgtException("rope_freqs.weight", $"has {freqFactors.Length} values; expected head_dim/2 = {half}");
    }

    public IReadOnlyList<double> InverseFrequencies => _invFreq;

    /// <summary>transformers' _compute_llama3_parameters for one frequency.</summary>
    public static double Llama3Scale(double invFreq, RopeScaling s)
    {
        double wavelen = 2 * Math.PI / invFreq;
        double lowWavelen = s.OriginalMaxPositions / (double)s.LowFreqFactor;
        double highWavelen = s.OriginalMaxPositions / (double)s.HighFreqFactor;
        if (wavelen < highWavelen) return invFreq;
        if (wavelen > lowWavelen) return invFreq / s.Factor;
        double smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        return (1 - smooth) * invFreq / s.Factor + smooth * invFreq;
    }

    /// <summary>cos/sin tables [T, hd/2] for positions start..start+T-1.</summary>
    public (float[] Cos, float[] Sin) Tables(int start, int tokens)
    {
        int half = _invFreq.Length;
        var cos = new float[tokens * half];
        var sin = new float[tokens * half];
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < half; i++)
            {
                double a = (start + t) * _invFreq[i];
                cos[t * half + i] = (float)Math.Cos(a);
                sin[t * half + i] = (float)Math.Sin(a);
            }
        return (cos, sin);
    }

    /// <summary>Rotates every head of a [T, heads, hd] buffer in place (rotate-half).</summary>
    public void Apply(Span<float> x, int tokens, int heads, float[] cos, float[] sin) => Rotate(x, tokens, heads, HeadDim, cos, sin);

    /// <summary>
    /// Rotates every head of a [T, heads, headDim] buffer in place by the angles of the cos/sin tables of
    /// <see cref="Tables"/> ([T, headDim/2]), pairing elements as <paramref name="form"/> says. The inverse rotation
    /// (by the negative angles) is also the rotation's transpose, so training uses it as RoPE's backward pass.
    /// </summary>
    public static void Rotate(Span<float> x, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        RopeForm form = RopeForm.RotateHalf, bool inverse = false)
    {
        int half = headDim / 2;
        // Element i of the pair list is (v[i·step], v[i·step + offset]).
        (int step, int offset) = form == RopeForm.RotateHalf ? (1, half) : (2, 1);
        for (int t = 0; t < tokens; t++)
        {
            var c = cos.Slice(t * half, half);
            var s = sin.Slice(t * half, half);
            for (int h = 0; h < heads; h++)
            {
                var v = x.Slice((t * heads + h) * headDim, headDim);
                int i = 0;
                // Rotate-half pairs are two contiguous halves: 8 pairs a step, the scalar loop's products and
                // differences lane by lane (no fused multiply-add), so the same bits.
                if (step == 1 && Vector256.IsHardwareAccelerated)
                    for (; i + 8 <= half; i += 8)
                    {
                        var a = Vector256.Create(v.Slice(i, 8));
                        var b = Vector256.Create(v.Slice(i + half, 8));
                        var ci = Vector256.Create(c.Slice(i, 8));
                        var si = Vector256.Create(s.Slice(i, 8));
                        if (inverse) si = -si;
                        (a * ci - b * si).CopyTo(v.Slice(i, 8));
                        (b * ci + a * si).CopyTo(v.Slice(i + half, 8));
                    }
                for (; i < half; i++)
                {
                    int ia = i * step, ib = ia + offset;
                    float a = v[ia], b = v[ib], si = inverse ? -s[i] : s[i];
                    v[ia] = a * c[i] - b * si;
                    v[ib] = b * c[i] + a * si;
                }
            }
        }
    }
}
