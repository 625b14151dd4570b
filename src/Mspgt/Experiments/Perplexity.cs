using System.Text.Json.Serialization;
using Mspgt.Loading;
using Mspgt.Models;

namespace Mspgt.Experiments;

/// <summary>One chunk's share of a perplexity run.</summary>
public sealed record PerplexityChunk(
    [property: JsonPropertyName("chunk")] int Chunk,
    [property: JsonPropertyName("first_token")] int FirstToken,
    [property: JsonPropertyName("scored_tokens")] int ScoredTokens,
    [property: JsonPropertyName("perplexity")] double ChunkPerplexity,
    [property: JsonPropertyName("running_perplexity")] double RunningPerplexity);

/// <summary>A file's perplexity under a model, by llama.cpp's <c>llama-perplexity</c> method.</summary>
public sealed record PerplexityResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("context")] int Context,
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("scored_tokens")] int ScoredTokens,
    [property: JsonPropertyName("mean_nll")] double MeanNll,
    [property: JsonPropertyName("perplexity")] double Value,
    [property: JsonPropertyName("perplexity_se")] double StandardError,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("chunks")] IReadOnlyList<PerplexityChunk> Chunks);

/// <summary>
/// Perplexity as llama.cpp's <c>llama-perplexity</c> computes it, so that numbers can be compared with it: the whole
/// file is tokenized once (BOS first where the tokenizer adds one), cut into non-overlapping chunks of
/// <c>context</c> tokens (the tail shorter than a chunk is dropped), the first token of each chunk replaced by BOS
/// where the tokenizer uses one, and in each chunk only the predictions of the second half are scored (each of them
/// sees at least context/2 tokens of context). The ± is llama.cpp's: the standard error of the mean token NLL times
/// the perplexity (delta method), which treats tokens as independent and so understates the real uncertainty.
/// </summary>
public static class Perplexity
{
    public const string MethodText = "llama-perplexity: non-overlapping chunks of `context` tokens, BOS at each chunk's start where the tokenizer "
                                     + "uses one, the second half of each chunk scored; ± = standard error of the mean token NLL × perplexity";

    public static PerplexityResult Compute(LoadedModel model, string file, string text, int? context = null, Action<int, int>? progress = null)
    {
        int ctx = context ?? Math.Min(512, model.Config.MaxSeq);
        if (ctx < 4) throw MspgtException.ForSetting("context", $"must be ≥ 4 tokens, got {ctx}");
        if (ctx > model.Config.MaxSeq) throw MspgtException.ForSetting("context", $"{ctx} tokens is longer than the model's context of {model.Config.MaxSeq}");
        var tok = ModelPrompts.TokenizerOf(model);
        int[] ids = tok.Encode(text, addBos: tok.AddBosByDefault);
        int chunks = ids.Length / ctx;
        if (chunks == 0)
            throw new MspgtException(file, $"{ids.Length} tokens are fewer than one chunk of {ctx} (give more text or a smaller context)");

        var transformer = model.Decoder;
        int first = ctx / 2;
        // Welford's running mean and squared deviations: the textbook sum-of-squares form loses the spread to rounding.
        double nll = 0, mean = 0, m2 = 0;
        long count = 0;
        var rows = new List<PerplexityChunk>(chunks);
        var chunkIds = new int[ctx];
        for (int i = 0; i < chunks; i++)
        {
            ids.AsSpan(i * ctx, ctx).CopyTo(chunkIds);
            if (tok.AddBosByDefault && tok.BosId is int bos) chunkIds[0] = bos;
            float[] logits = transformer.Forward(chunkIds);
            double chunkNll = 0;
            for (int j = first; j < ctx - 1; j++)
            {
                double v = -LogSoftmaxAt(logits.AsSpan(j * model.Config.Vocab, model.Config.Vocab), chunkIds[j + 1]);
                chunkNll += v;
                nll += v;
                count++;
                double delta = v - mean;
                mean += delta / count;
                m2 += delta * (v - mean);
            }
            int scored = ctx - 1 - first;
            rows.Add(new PerplexityChunk(i + 1, i * ctx, scored, Math.Exp(chunkNll / scored), Math.Exp(nll / count)));
            progress?.Invoke(i + 1, chunks);
        }
        // llama.cpp's ± : sqrt(population variance / (n − 1)) of the token NLLs, times the perplexity.
        double se = count > 1 ? Math.Sqrt(m2 / count / (count - 1)) : double.NaN;
        double ppl = Math.Exp(mean);
        return new PerplexityResult(model.Path, file, ctx, ids.Length, (int)count, mean, ppl, se * ppl, MethodText, rows);
    }

    /// <summary>log softmax(row)[target], computed stably in double.</summary>
    public static double LogSoftmaxAt(ReadOnlySpan<float> row, int target)
    {
        float max = float.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        return row[target] - max - Math.Log(sum);
    }
}
