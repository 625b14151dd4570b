namespace Mspgt.Interventions.Outcomes;

/// <summary>Next-token outcome metrics for one position, from the clean and the intervened logit rows.</summary>
/// <param name="Kl">KL(clean ‖ intervened) in nats (<see cref="NextTokenDivergence.KlDivergence"/>).</param>
/// <param name="DeltaNll">NLL of the target under the intervened row minus under the clean row, nats; null
/// without a target.</param>
/// <param name="Top1Agrees">Whether the two rows have the same argmax token.</param>
public sealed record NextTokenComparison(double Kl, double? DeltaNll, bool Top1Agrees);

/// <summary>
/// Divergences between two next-token distributions given as raw logits over the same vocabulary. Everything is
/// computed in double precision through log-softmax, log p_i = x_i − max(x) − log Σ_j exp(x_j − max(x)), so huge or
/// very negative logits neither overflow nor lose the tail. Logits must be finite (a masked −∞ logit is rejected
/// rather than risk an infinite KL that JSON cannot hold).
/// </summary>
public static class NextTokenDivergence
{
    private const string Source = "logits";

    /// <summary>Natural-log softmax of one logit row, in double precision.</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double lse = LogSumExp(logits);
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = logits[i] - lse;
        return result;
    }

    /// <summary>
    /// KL(P ‖ Q) = Σ_i p_i (log p_i − log q_i) with P = softmax(clean), Q = softmax(intervened): the extra nats
    /// needed to code the clean model's next token with the intervened model's distribution. 0 for identical
    /// rows, and also for rows that differ by a constant shift (softmax ignores it). Rounding can leave a tiny
    /// negative sum; it is clamped to 0.
    /// </summary>
    public static double KlDivergence(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened)
    {
        CheckPair(clean, intervened);
        return Kl(clean, intervened, LogSumExp(clean), LogSumExp(intervened));
    }

    private static double Kl(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened, double lseP, double lseQ)
    {
        double kl = 0;
        for (int i = 0; i < clean.Length; i++)
        {
            double logP = clean[i] - lseP;
            double p = Math.Exp(logP);
            if (p == 0) continue; // underflow: the term is 0 in the limit, and 0·(−∞ − x) would be NaN
            kl += p * (logP - (intervened[i] - lseQ));
        }
        return Math.Max(kl, 0);
    }

    /// <summary>Negative log-likelihood −log softmax(logits)[target] in nats.</summary>
    public static double Nll(ReadOnlySpan<float> logits, int targetId)
    {
        CheckRow(logits, "logit row");
        if ((uint)targetId >= (uint)logits.Length)
            throw new MspgtException(Source, $"target token {targetId} is outside the vocabulary of {logits.Length}");
        return LogSumExp(logits) - logits[targetId];
    }

    /// <summary>Nll(intervened, target) − Nll(clean, target): positive when the intervention makes the target less likely.</summary>
    public static double DeltaNll(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened, int targetId)
    {
        CheckPair(clean, intervened);
        return Nll(intervened, targetId) - Nll(clean, targetId);
    }

    /// <summary>Index of the largest logit; the lowest index wins a tie.</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        CheckRow(logits, "logit row");
        return ArgmaxUnchecked(logits);
    }

    private static int ArgmaxUnchecked(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>True when the clean and intervened rows pick the same most likely token.</summary>
    public static bool Top1Agreement(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened)
    {
        CheckPair(clean, intervened);
        return Argmax(clean) == Argmax(intervened);
    }

    /// <summary>All three next-token metrics for one position; <paramref name="targetId"/> null skips delta NLL.</summary>
    public static NextTokenComparison Compare(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened, int? targetId)
    {
        // One validation and one log-sum-exp per row: this runs for every position of every intervention.
        CheckPair(clean, intervened);
        if (targetId is int t && (uint)t >= (uint)clean.Length)
            throw new MspgtException(Source, $"target token {t} is outside the vocabulary of {clean.Length}");
        double lseP = LogSumExp(clean), lseQ = LogSumExp(intervened);
        double? deltaNll = targetId is int id ? (lseQ - intervened[id]) - (lseP - clean[id]) : null;
        return new NextTokenComparison(Kl(clean, intervened, lseP, lseQ), deltaNll, ArgmaxUnchecked(clean) == ArgmaxUnchecked(intervened));
    }

    /// <summary>
    /// The next-token metrics of one prompt, averaged over its positions: <paramref name="clean"/> and
    /// <paramref name="intervened"/> hold T rows of <paramref name="vocabulary"/> logits each, row-major;
    /// <paramref name="targets"/> holds the T target ids (the actual next tokens) or is empty, which makes delta NLL
    /// null. Returns brittleness_kl = mean KL, delta_nll = mean ΔNLL, top1_agreement = fraction of agreeing rows.
    /// </summary>
    public static IReadOnlyDictionary<string, double?> MeasureRows(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened,
        int vocabulary, ReadOnlySpan<int> targets)
    {
        if (vocabulary < 1) throw new MspgtException(Source, $"vocabulary size must be positive, got {vocabulary}");
        if (clean.Length != intervened.Length)
            throw new MspgtException(Source, $"clean logits have {clean.Length} values but intervened logits have {intervened.Length}");
        if (clean.Length == 0 || clean.Length % vocabulary != 0)
            throw new MspgtException(Source, $"{clean.Length} logits are not a whole, non-zero number of rows of {vocabulary}");
        int rows = clean.Length / vocabulary;
        if (!targets.IsEmpty && targets.Length != rows)
            throw new MspgtException(Source, $"{targets.Length} target ids for {rows} logit rows");

        double kl = 0, deltaNll = 0;
        int agree = 0;
        for (int r = 0; r < rows; r++)
        {
            var c = Compare(clean.Slice(r * vocabulary, vocabulary), intervened.Slice(r * vocabulary, vocabulary),
                targets.IsEmpty ? null : targets[r]);
            kl += c.Kl;
            deltaNll += c.DeltaNll ?? 0;
            if (c.Top1Agrees) agree++;
        }
        return new Dictionary<string, double?>(StringComparer.Ordinal)
        {
            [OutcomeMetrics.BrittlenessKl] = kl / rows,
            [OutcomeMetrics.DeltaNll] = targets.IsEmpty ? null : deltaNll / rows,
            [OutcomeMetrics.Top1Agreement] = (double)agree / rows,
        };
    }

    private static double LogSumExp(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float x in logits) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        return max + Math.Log(sum);
    }

    private static void CheckPair(ReadOnlySpan<float> clean, ReadOnlySpan<float> intervened)
    {
        CheckRow(clean, "clean logit row");
        CheckRow(intervened, "intervened logit row");
        if (clean.Length != intervened.Length)
            throw new MspgtException(Source, $"clean row has {clean.Length} logits but intervened row has {intervened.Length}");
    }

    internal static void CheckRow(ReadOnlySpan<float> logits, string what)
    {
        if (logits.IsEmpty) throw new MspgtException(Source, $"{what} is empty");
        int i = Mspgt.Numerics.Kernels.FirstNonFinite(logits);
        if (i >= 0) throw new MspgtException(Source, $"{what} has {logits[i]} at token {i}; logits must be finite");
    }
}
