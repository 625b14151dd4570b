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

    private readonly int _maxPositions;

    public Rope(ModelConfig c, float[]? freqFactors)
    {
        HeadDim = c.HeadDim;
        _maxPositions = Math.Max(1, c.MaxSeq);
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
        Fill(start, tokens, cos, sin);
        return (cos, sin);
    }

    private void Fill(int start, int tokens, Span<float> cos, Span<float> sin)
    {
        int half = _invFreq.Length;
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < half; i++)
            {
                double a = (start + t) * _invFreq[i];
                cos[t * half + i] = (float)Math.Cos(a);
                sin[t * half + i] = (float)Math.Sin(a);
            }
    }

    /// <summary>Tables of positions 0..Positions−1, [Positions, hd/2]; replaced whole when they grow, never changed.</summary>
    private sealed record Kept(float[] Cos, float[] Sin, int Positions);
    private Kept _kept = new([], [], 0);
    private readonly object _growing = new();

    /// <summary>
    /// The same values as <see cref="Tables"/>, as views of tables this instance keeps for every position used so
    /// far (grown by doubling up to the context): a forward pass's serial step otherwise. Two sines and cosines in
    /// double per position and frequency were 0.3–0.5 ms of a 256-token 110M prefill before its first parallel loop,
    /// which 16 threads could not share; PyTorch's llama code keeps its tables too.
    /// </summary>
    public (ReadOnlyMemory<float> Cos, ReadOnlyMemory<float> Sin) KeptTables(int start, int tokens)
    {
        int half = _invFreq.Length, end = start + tokens;
        var kept = Volatile.Read(ref _kept);
        if (kept.Positions < end)
        {
            lock (_growing)
            {
                kept = _kept;
                if (kept.Positions < end)
                {
                    int n = Math.Max(end, Math.Min(_maxPositions, 2 * kept.Positions));
                    var (cos, sin) = (new float[(long)n * half], new float[(long)n * half]);
                    kept.Cos.CopyTo(cos, 0);
                    kept.Sin.CopyTo(sin, 0);
                    Fill(kept.Positions, n - kept.Positions, cos.AsSpan(kept.Positions * half), sin.AsSpan(kept.Positions * half));
                    Volatile.Write(ref _kept, kept = new Kept(cos, sin, n));
                }
            }
        }
        return (kept.Cos.AsMemory(start * half, tokens * half), kept.Sin.AsMemory(start * half, tokens * half));
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
