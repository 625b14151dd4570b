using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>
/// Attention written plainly, one query row at a time: scores, softmax over the visible keys, weighted sum of
/// values. It is the fallback of <see cref="Attention"/> for a few queries (decoding) and the oracle its tiled path
/// is tested against.
/// </summary>
public static class AttentionReference
{
    /// <summary>z = softmax(q·kᵀ/√d over the visible keys) · v.</summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape s, Span<float> z)
    {
        s.Check(q: q.Length, k: k.Length, v: v.Length, z: z.Length);
        var row = new float[s.Keys];
        for (int h = 0; h < s.Heads; h++)
            for (int t = 0; t < s.Tokens; t++)
            {
                ScoreRow(q, k, s, h, t, row);
                SoftmaxRow(s, t, row);
                MixRow(row, v, s, h, t, z);
            }
    }

    /// <summary>Scaled scores [Heads, T, Keys]; −∞ where a query does not see the key.</summary>
    public static void Scores(ReadOnlySpan<float> q, ReadOnlySpan<float> k, AttentionShape s, Span<float> scores)
    {
        s.Check(q: q.Length, k: k.Length, pattern: scores.Length);
        for (int h = 0; h < s.Heads; h++)
            for (int t = 0; t < s.Tokens; t++) ScoreRow(q, k, s, h, t, Row(scores, s, h, t));
    }

    /// <summary>Scores to probabilities in place: softmax over each query's visible keys, 0 elsewhere.</summary>
    public static void Softmax(Span<float> scores, AttentionShape s)
    {
        s.Check(pattern: scores.Length);
        for (int h = 0; h < s.Heads; h++)
            for (int t = 0; t < s.Tokens; t++) SoftmaxRow(s, t, Row(scores, s, h, t));
    }

    /// <summary>z = pattern · v, each query reading the keys up to its own position (later entries are ignored).</summary>
    public static void Mix(ReadOnlySpan<float> pattern, ReadOnlySpan<float> v, AttentionShape s, Span<float> z)
    {
        s.Check(v: v.Length, z: z.Length, pattern: pattern.Length);
        for (int h = 0; h < s.Heads; h++)
            for (int t = 0; t < s.Tokens; t++) MixRow(pattern.Slice((int)(((long)h * s.Tokens + t) * s.Keys), s.Keys), v, s, h, t, z);
    }

    /// <summary>Row [Keys] of query t in head h of a [Heads, T, Keys] buffer.</summary>
    public static Span<float> Row(Span<float> pattern, AttentionShape s, int head, int t) =>
        pattern.Slice((int)(((long)head * s.Tokens + t) * s.Keys), s.Keys);

    /// <summary>Scores of query t of head h over all keys: q·k/√d where visible, −∞ elsewhere.</summary>
    public static void ScoreRow(ReadOnlySpan<float> q, ReadOnlySpan<float> k, AttentionShape s, int head, int t, Span<float> row)
    {
        int pos = s.Start + t, lo = s.FirstKey(pos), hd = s.HeadDim, kvh = head / s.Group;
        var qv = q.Slice((t * s.Heads + head) * hd, hd);
        row[..lo].Fill(float.NegativeInfinity);
        row[(pos + 1)..s.Keys].Fill(float.NegativeInfinity);
        for (int j = lo; j <= pos; j++) row[j] = TensorPrimitives.Dot(qv, k.Slice(j * s.KvDim + kvh * hd, hd)) * s.Scale;
    }

    /// <summary>Softmax over the keys query t sees (whatever the row holds elsewhere), 0 at every other key.</summary>
    public static void SoftmaxRow(AttentionShape s, int t, Span<float> row)
    {
        int pos = s.Start + t, lo = s.FirstKey(pos);
        row[..lo].Clear();
        row[(pos + 1)..s.Keys].Clear();
        Kernels.Softmax(row[lo..(pos + 1)]);
    }

    /// <summary>z row of query t, head h = Σ_{j ≤ position} row[j] · v[j] (zero weights skipped).</summary>
    public static void MixRow(ReadOnlySpan<float> row, ReadOnlySpan<float> v, AttentionShape s, int head, int t, Span<float> z)
    {
        int pos = s.Start + t, hd = s.HeadDim, kvh = head / s.Group;
        var zv = z.Slice((t * s.Heads + head) * hd, hd);
        zv.Clear();
        for (int j = 0; j <= pos; j++)
        {
            float p = row[j];
            if (p != 0f) TensorPrimitives.MultiplyAdd(v.Slice(j * s.KvDim + kvh * hd, hd), p, zv, zv);
        }
    }
}
