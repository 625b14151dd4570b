using System.Collections.Concurrent;
using Mspgt.Models;
using Mspgt.Tokenization;

namespace Mspgt.Interventions;

/// <summary>
/// Sentence embeddings for the coherence metric: each sentence is tokenized on its own (BOS first where the
/// tokenizer adds one), run through the CLEAN model (never the intervened one, so that coherence measures the text,
/// not the perturbation) and the final block's <c>resid_post</c> rows are mean-pooled over the sentence's tokens
/// (BOS excluded). Embedding a sentence alone rather than in context keeps one sentence's vector independent of its
/// neighbours, which is what a similarity between consecutive sentences needs. Results are cached by text.
/// </summary>
public sealed class SentenceEmbedder(IDecoder model, ITokenizer tokenizer)
{
    private readonly ConcurrentDictionary<string, float[]> _cache = new(StringComparer.Ordinal);

    public IReadOnlyList<float[]> Embed(IReadOnlyList<string> sentences) => sentences.Select(EmbedOne).ToArray();

    public float[] EmbedOne(string sentence) => _cache.GetOrAdd(sentence, Compute);

    private float[] Compute(string sentence)
    {
        var c = model.Config;
        var ids = tokenizer.Encode(sentence, tokenizer.AddBosByDefault);
        if (ids.Length > c.MaxSeq) ids = ids[..c.MaxSeq];
        int skip = ids.Length > 1 && tokenizer.BosId is int bos && ids[0] == bos ? 1 : 0;
        if (ids.Length - skip == 0) throw new MspgtException("coherence", $"sentence \"{sentence}\" encodes to no tokens");
        foreach (int id in ids)
            if ((uint)id >= (uint)c.Vocab) throw new MspgtException("coherence", $"tokenizer produced id {id} outside the model's vocabulary of {c.Vocab}");
        var sum = new double[c.Dim];
        var hooks = new Hooks().Observe(HookPoint.ResidPost(c.Layers - 1), t =>
        {
            for (int r = skip; r < t.Shape[0]; r++)
            {
                var row = t.Row(r);
                for (int d = 0; d < row.Length; d++) sum[d] += row[d];
            }
        });
        model.Forward(ids, null, hooks, LogitRows.None);
        int n = ids.Length - skip;
        return sum.Select(v => (float)(v / n)).ToArray();
    }
}
