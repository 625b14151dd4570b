namespace Mspgt.Signals;

/// <summary>The per-layer signals `mspgt analyze` measures, one value per block (0-based) and document.</summary>
public static class SignalNames
{
    public const string AttnDistance = "attn_distance";
    public const string AttnEntropy = "attn_entropy";
    public const string AttnEntropyNorm = "attn_entropy_norm";
    public const string MiGaussian = "mi_gaussian";
    public const string MiKsg = "mi_ksg";
    public const string MiDelta = "mi_delta";
    public const string CkaAdjacent = "cka_adjacent";
    public const string LensKl = "lens_kl";
    public const string LensEntropy = "lens_entropy";
    public const string EffectiveRank = "effective_rank";
    public const string TwoNn = "twonn_id";
    public const string ProbeLocal = "probe_local";
    public const string ProbeIntermediate = "probe_intermediate";
    public const string ProbeGlobal = "probe_global";

    /// <summary>Every signal, in report order, with what block l's value means.</summary>
    public static readonly (string Name, string Meaning)[] All =
    [
        (AttnDistance, "mean over heads and queries of Σ_k p(q,k)·|q−k| in block l (positions)"),
        (AttnEntropy, "mean over heads and queries of −Σ_k p log p in block l (nats)"),
        (AttnEntropyNorm, "attention entropy divided by log(visible keys)"),
        (MiGaussian, "I(resid_pre_l; resid_post_l) under a joint Gaussian model (nats): up to mi_tokens_per_document evenly spaced tokens per document, both sides projected on their top pca_dims principal components fitted on the tokens pooled over all documents, MI = ½(log det Σxx + log det Σyy − log det Σ) of the pooled covariance with each log-determinant bias-corrected by its Wishart expectation (Misra, Singh & Demchuk 2005), no shrinkage; a document's value is its jackknife pseudo-value D·I_all − (D−1)·I_without_d (their mean is the jackknife estimate); position 0 left out unless include_bos"),
        (MiKsg, "I(resid_pre_l; resid_post_l), KSG k-NN estimate on the document's whitened PCA-8 projections (nats); at most ψ(N) − ψ(k+1) for N tokens, so where summary.saturation counts saturated documents it is a lower bound; position 0 left out unless include_bos"),
        (MiDelta, "first difference of a document's mi_gaussian pseudo-values: I(l) − I(l−1) (0 for block 0)"),
        (CkaAdjacent, "linear CKA between resid_pre_l and resid_post_l over the document's tokens (position 0 left out unless include_bos)"),
        (LensKl, "KL(final next-token distribution ‖ logit lens of resid_post_l) (nats)"),
        (LensEntropy, "entropy of the logit lens distribution of resid_post_l (nats)"),
        (EffectiveRank, "exp(entropy of normalised singular values) of the document's centred resid_post_l token representations (position 0 left out unless include_bos)"),
        (TwoNn, "TwoNN intrinsic dimension of the document's resid_post_l token representations (position 0 left out unless include_bos)"),
        (ProbeLocal, "accuracy on the document's own sampled tokens of a ridge probe on resid_post_l predicting the current token id (most frequent ids of the training documents), cross-fitted over min(5, D) document folds: trained on the other folds; a document with none of those ids takes its fold's accuracy"),
        (ProbeIntermediate, "accuracy on the document's own sampled tokens of a ridge probe predicting the token's position-in-sentence bucket, cross-fitted over min(5, D) document folds: trained on the other folds"),
        (ProbeGlobal, "accuracy on the last 40% of the document's sampled tokens of a ridge probe predicting which document a token came from, trained on the first 60% of every document's sampled tokens (a document's identity cannot be held out)"),
    ];

    /// <summary>Signals fused (equal weights) by default; the rest are reported but weigh 0 unless --weights names them.</summary>
    public static readonly string[] DefaultFused =
        [AttnDistance, AttnEntropy, MiGaussian, CkaAdjacent, LensKl, EffectiveRank, TwoNn, ProbeLocal, ProbeIntermediate, ProbeGlobal];

    public static string[] Names => All.Select(a => a.Name).ToArray();

    /// <summary>
    /// Families of redundant signals: each family counts as one piece of evidence in the boundary model (its members
    /// share one family's weight). Attention distance and entropy move together (a head that looks far spreads its
    /// mass); MI and CKA both measure how much of resid_pre survives into resid_post; effective rank and TwoNN both
    /// measure the representation's dimension; the logit-lens pair reads one projection; the three probes read one
    /// sample of pooled representations.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Families = new Dictionary<string, string>
    {
        [AttnDistance] = "attention", [AttnEntropy] = "attention", [AttnEntropyNorm] = "attention",
        [MiGaussian] = "mixing", [MiKsg] = "mixing", [MiDelta] = "mixing", [CkaAdjacent] = "mixing",
        [LensKl] = "lens", [LensEntropy] = "lens",
        [EffectiveRank] = "dimension", [TwoNn] = "dimension",
        [ProbeLocal] = "probes", [ProbeIntermediate] = "probes", [ProbeGlobal] = "probes",
    };
}
