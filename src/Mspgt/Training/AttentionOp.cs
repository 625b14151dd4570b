using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Training;

/// <summary>
/// The backward pass of causal grouped-query attention over one sequence (the forward is the engine's
/// <see cref="Attention"/>, keeping the probabilities): query head h reads key/value head h / (heads / kvHeads);
/// P = softmax(Q·Kᵀ/√hd over j ≤ t), Z = P·V. Backward: dP = dZ·Vᵀ, dS = P ⊙ (dP − Σⱼ P dP)/√hd, dQ = dS·K,
/// dK += dSᵀ·Q, dV += Pᵀ·dZ (summed over the heads of a group in head order). Every product runs on the dense
/// kernel over the full T×T square (masked entries are exact zeros), which is faster than per-pair dots.
/// </summary>
public static class AttentionOp
{
    /// <summary>Overwrites dq, dk and dv with the gradients of the loss through this attention.</summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probs,
        ReadOnlySpan<float> dz, int tokens, int heads, int kvHeads, int hd, Span<float> dq, Span<float> dk, Span<float> dv, ScratchBuffers scratch)
    {
        int T = tokens, group = heads / kvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        var qhT = scratch.Get("att.qhT", T * hd);
        var qh = scratch.Get("att.qh", T * hd);
        var kh = scratch.Get("att.kh", T * hd);
        var khT = scratch.Get("att.khT", T * hd);
        var vh = scratch.Get("att.vh", T * hd);
        var dzh = scratch.Get("att.dzh", T * hd);
        var dzhT = scratch.Get("att.dzhT", T * hd);
        var dqh = scratch.Get("att.dqh", T * hd);
        var dkh = scratch.Get("att.dkh", T * hd);
        var dvh = scratch.Get("att.dvh", T * hd);
        var tmp = scratch.Get("att.tmp", T * hd);
        var dS = scratch.Get("att.dS", T * T);
        var sq = scratch.Get("att.sq", T * T);
        for (int h = 0; h < heads; h++)
        {
            int g = h / group;
            if (h % group == 0)
            {
                Gather(k, T, kvHeads, hd, g, kh);
                Gather(v, T, kvHeads, hd, g, vh);
                DenseMatMul.Transpose(kh, T, hd, khT);
                Array.Clear(dkh, 0, T * hd);
                Array.Clear(dvh, 0, T * hd);
            }
            Gather(q, T, heads, hd, h, qh);
            Gather(dz, T, heads, hd, h, dzh);
            var p = probs.Slice(h * T * T, T * T);
            // dV += Pᵀ·dZ
            DenseMatMul.Transpose(p, T, T, sq);
            DenseMatMul.Transpose(dzh, T, hd, dzhT);
            DenseMatMul.MultiplyTransposed(sq, T, T, dzhT, hd, tmp);
            TensorPrimitives.Add(dvh.AsSpan(0, T * hd), tmp.AsSpan(0, T * hd), dvh);
            // dP = dZ·Vᵀ, then the softmax backward into dS (scaled by 1/√hd).
            DenseMatMul.MultiplyTransposed(dzh, T, hd, vh, T, dS);
            for (int t = 0; t < T; t++)
            {
                var pr = p.Slice(t * T, t + 1);
                var dr = dS.AsSpan(t * T, T);
                float dot = TensorPrimitives.Dot(pr, dr[..(t + 1)]);
                for (int j = 0; j <= t; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
                dr[(t + 1)..].Clear();
            }
            // dQ = dS·K
            DenseMatMul.MultiplyTransposed(dS, T, T, khT, hd, dqh);
            Scatter(dqh, T, heads, hd, h, dq);
            // dK += dSᵀ·Q
            DenseMatMul.Transpose(dS, T, T, sq);
            DenseMatMul.Transpose(qh, T, hd, qhT);
            DenseMatMul.MultiplyTransposed(sq, T, T, qhT, hd, tmp);
            TensorPrimitives.Add(dkh.AsSpan(0, T * hd), tmp.AsSpan(0, T * hd), dkh);
            if (h % group == group - 1)
            {
                Scatter(dkh, T, kvHeads, hd, g, dk);
                Scatter(dvh, T, kvHeads, hd, g, dv);
            }
        }
    }

    /// <summary>dst[T, hd] = head h of src[T, heads, hd].</summary>
    private static void Gather(ReadOnlySpan<float> src, int T, int heads, int hd, int h, Span<float> dst)
    {
        for (int t = 0; t < T; t++) src.Slice((t * heads + h) * hd, hd).CopyTo(dst.Slice(t * hd, hd));
    }

    private static void Scatter(ReadOnlySpan<float> src, int T, int heads, int hd, int h, Span<float> dst)
    {
        for (int t = 0; t < T; t++) src.Slice(t * hd, hd).CopyTo(dst.Slice((t * heads + h) * hd, hd));
    }
}
