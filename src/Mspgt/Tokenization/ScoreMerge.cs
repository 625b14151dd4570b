namespace Mspgt.Tokenization;

/// <summary>
/// SentencePiece-style BPE by score: adjacent symbols whose concatenation is a vocabulary entry are merged,
/// highest score first, leftmost first on ties, until no pair is in the vocabulary. This is the order of
/// llama2.c run.c's repeated scan and of llama.cpp's llm_tokenizer_spm priority queue; the queue makes it
/// O(n log n) instead of run.c's O(n²) over the whole text.
/// </summary>
internal static class ScoreMerge
{
    private readonly record struct Bigram(int Left, int Right, int Length);

    private sealed class Order : IComparer<(float Score, int Left)>
    {
        public static readonly Order Instance = new();
        public int Compare((float Score, int Left) a, (float Score, int Left) b)
        {
            int c = b.Score.CompareTo(a.Score);
            return c != 0 ? c : a.Left.CompareTo(b.Left);
        }
    }

    /// <summary>
    /// Symbols are the contiguous spans of buffer that start at starts[i] (the last ends at buffer's end).
    /// Returns the final symbols as (start, length) spans of buffer, in order.
    /// </summary>
    public static List<(int Start, int Length)> Run(string buffer, List<int> starts, Vocabulary vocab, float[] scores)
    {
        int n = starts.Count;
        var start = new int[n];
        var len = new int[n];
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++)
        {
            start[i] = starts[i];
            len[i] = (i + 1 < n ? starts[i + 1] : buffer.Length) - starts[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var queue = new PriorityQueue<Bigram, (float, int)>(Order.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int length = len[left] + len[right];
            if (vocab.TryGetId(buffer.AsSpan(start[left], length), out int id))
                queue.Enqueue(new Bigram(left, right, length), (scores[id], left));
        }
        for (int i = 0; i + 1 < n; i++) TryAdd(i, i + 1);
        while (queue.TryDequeue(out var b, out _))
        {
            // stale entries: one side already merged away, or the left side grew since it was queued
            if (len[b.Left] == 0 || len[b.Right] == 0 || next[b.Left] != b.Right || len[b.Left] + len[b.Right] != b.Length) continue;
            len[b.Left] += len[b.Right];
            len[b.Right] = 0;
            next[b.Left] = next[b.Right];
            if (next[b.Right] >= 0) prev[next[b.Right]] = b.Left;
            TryAdd(prev[b.Left], b.Left);
            TryAdd(b.Left, next[b.Left]);
        }
        var result = new List<(int, int)>();
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) result.Add((start[i], len[i]));
        return result;
    }
}
