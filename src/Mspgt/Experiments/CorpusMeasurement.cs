using System.Diagnostics;
using Mspgt.Signals;
using Mspgt.Signals.Estimators;
using Mspgt.Tokenization;
using Mspgt.Corpora;

namespace Mspgt.Experiments;

/// <summary>What the measuring stage of an analysis produced for the documents it kept.</summary>
public sealed record CorpusMeasurements(
    IReadOnlyList<(Document Doc, DocumentMeasurement M)> Measured,
    IReadOnlyList<SkippedDocument> Skipped,
    IReadOnlyList<ProbeCurve> Probes,
    PooledMiReport MiGaussian,
    SaturationReport KsgSaturation)
{
    /// <summary>Wall seconds of the forward passes (the captures, attention statistics included).</summary>
    public double ForwardSeconds { get; init; }
    /// <summary>Wall seconds of measuring each captured document (its signals, samples and lens), with the collection after it.</summary>
    public double DocumentSignalsSeconds { get; init; }
    /// <summary>Wall seconds of the corpus-level estimators here: the pooled MI and the cross-fitted probes.</summary>
    public double CorpusSignalsSeconds { get; init; }
}

/// <summary>
/// The measuring stage of `mspgt analyze`, in two passes. Pass 1 streams each document through the model and
/// measures its own signals, keeping samples of its token representations; a document too short for an estimator,
/// or whose measurement fails with an <see cref="MspgtException"/> (also inside the AggregateException of a parallel
/// loop), is skipped and counted, never fatal. Pass 2 needs every kept document: the pooled Gaussian MI (each
/// document gets its jackknife pseudo-value) and the cross-fitted probes (each document gets its held-out accuracy).
/// </summary>
public static class CorpusMeasurement
{
    /// <param name="documentsDone">Called once every document is measured, before pass 2 (which needs no model).</param>
    public static CorpusMeasurements Run(DocumentSignals signals, ITokenizer tokenizer, Corpus corpus, AnalysisSettings s,
        int layers, int vocab, Action<int, int>? progress = null, Action? documentsDone = null)
    {
        var measured = new List<(Document Doc, DocumentMeasurement M)>();
        var skipped = new List<SkippedDocument>();
        var group = new List<Document>();
        int done = 0;
        long forward = 0, perDocument = 0;   // Stopwatch ticks
        T Timed<T>(ref long ticks, Func<T> f)
        {
            long t0 = Stopwatch.GetTimestamp();
            try { return f(); }
            finally { ticks += Stopwatch.GetTimestamp() - t0; }
        }
        // On the CPU a document's signals are measured inside its forward pass (as its hooks hand the representations
        // over): the time they report is theirs, the rest of the call the pass's. A failed call counts as the pass's.
        DocumentMeasurement Streamed(int[] ids)
        {
            long t0 = Stopwatch.GetTimestamp(), spent = 0;
            try
            {
                var m = signals.CaptureAndMeasure(ids, out var signalTime);
                spent = (long)(signalTime.TotalSeconds * Stopwatch.Frequency);
                return m;
            }
            finally
            {
                long all = Stopwatch.GetTimestamp() - t0;
                perDocument += spent;
                forward += all - spent;
            }
        }
        // Usable documents go to the model in groups (one batched pass each on a GPU; groups of one on the CPU), as
        // many as the device takes at the group's longest length; each is then measured on its own, in corpus order.
        void Flush()
        {
            if (group.Count == 0) return;
            CapturedDocument[]? captured = null;
            if (group.Count > 1)
            {
                // A failure of the batched pass falls back to one pass per document, so it names its document.
                try { captured = Timed(ref forward, () => signals.Capture(group.Select(d => d.Ids).ToArray())); }
                catch (Exception e) when (MspgtException.Behind(e) != null) { }
            }
            for (int i = 0; i < group.Count; i++)
            {
                var doc = group[i];
                try
                {
                    if (captured == null && signals.Streams) measured.Add((doc, Streamed(doc.Ids)));
                    else
                    {
                        var capture = captured?[i] ?? Timed(ref forward, () => signals.Capture([doc.Ids])[0]);
                        measured.Add((doc, Timed(ref perDocument, () => signals.Measure(capture))));
                    }
                }
                catch (Exception e) when (MspgtException.Behind(e) is { } failure)
                {
                    skipped.Add(new(doc.Index, SkippedDocument.MeasurementFailed, $"{failure.Source}: {failure.Message}"));
                }
                if (captured != null) captured[i] = null!; // its streams, before the next document's measurement
                progress?.Invoke(++done, corpus.Documents.Count);
                long released = Stopwatch.GetTimestamp();
                Mspgt.Numerics.Garbage.Release(); // the document's streams and copies, before the next one's
                perDocument += Stopwatch.GetTimestamp() - released;
            }
            group.Clear();
        }
        foreach (var doc in corpus.Documents)
        {
            int T = doc.Ids.Length;
            if (T < s.MinDocumentTokens)
                skipped.Add(new(doc.Index, SkippedDocument.TooShort, $"{T} tokens (< min_document_tokens {s.MinDocumentTokens})"));
            else if (T < signals.MinimumTokens)
                skipped.Add(new(doc.Index, SkippedDocument.TooFewForEstimators,
                    $"{T} tokens; the per-document estimators need {signals.MinimumTokens}{(s.IncludeBos ? "" : " (position 0 left out)")}"));
            else
            {
                if (group.Count > 0 && group.Count + 1 > signals.BatchSize(Math.Max(T, group.Max(d => d.Ids.Length)))) Flush();
                group.Add(doc);
                continue;
            }
            progress?.Invoke(++done, corpus.Documents.Count);
        }
        Flush();
        skipped.Sort((a, b) => a.Index.CompareTo(b.Index)); // corpus order, as measured is
        if (measured.Count < 2)
        {
            string why = skipped.Count == 0 ? "" : $" ({string.Join(", ", CountByReason(skipped).Where(kv => kv.Value > 0).Select(kv => $"{kv.Value} {kv.Key}"))})";
            throw new MspgtException("corpus", $"only {measured.Count} usable document(s) of {corpus.Documents.Count}{why}; the analysis needs 2 or more");
        }

        documentsDone?.Invoke();
        long corpusStart = Stopwatch.GetTimestamp();
        var docs = measured.Select(x => x.M).ToList();
        var blocks = PooledMutualInformation.Fill(docs, layers, signals.PooledDims, s.PcaDims);
        var probes = new ScaleProbes { LocalClasses = s.ProbeLocalClasses, Seed = s.Seed }.Evaluate(
            measured.Select(x => x.Doc.Ids).ToList(), docs.Select(m => m.Positions).ToList(),
            docs.Select(m => m.Pooled).ToList(), layers, signals.PooledDims, ScaleProbes.SentenceEnders(tokenizer, vocab, measured.Select(x => x.Doc.Ids)));
        var mi = new PooledMiReport(blocks.Select(b => b.Nats).ToArray(), blocks.Select(b => b.StandardError).ToArray(),
            blocks.Select(b => b.ComponentsX).ToArray(), blocks.Select(b => b.ComponentsY).ToArray(), blocks[0].Samples);
        return new CorpusMeasurements(measured, skipped, probes, mi, KsgSaturation(docs, layers))
        {
            ForwardSeconds = Stopwatch.GetElapsedTime(0, forward).TotalSeconds,
            DocumentSignalsSeconds = Stopwatch.GetElapsedTime(0, perDocument).TotalSeconds,
            CorpusSignalsSeconds = Stopwatch.GetElapsedTime(corpusStart).TotalSeconds,
        };
    }

    /// <summary>Per block, the mean KSG ceiling over documents and how many documents reached theirs.</summary>
    public static SaturationReport KsgSaturation(IReadOnlyList<DocumentMeasurement> docs, int layers) => new(
        Enumerable.Range(0, layers).Select(l => docs.Average(m => m.Ksg[l].Ceiling)).ToArray(),
        Enumerable.Range(0, layers).Select(l => docs.Count(m => m.Ksg[l].Saturated)).ToArray(),
        docs.Count,
        $"KSG cannot exceed ψ(N) − ψ(k+1) for a document of N tokens (ceiling: its mean over documents); a document within " +
        $"{KsgMutualInformation.SaturationMargin} nats of its ceiling is saturated, and at a block with saturated documents " +
        "mi_ksg is a lower bound on I(resid_pre; resid_post), not an estimate");

    /// <summary>Skipped documents per reason (every reason present, 0 when none).</summary>
    public static Dictionary<string, int> CountByReason(IEnumerable<SkippedDocument> skipped)
    {
        var counts = SkippedDocument.Reasons.ToDictionary(r => r, _ => 0);
        foreach (var d in skipped) counts[d.Reason]++;
        return counts;
    }
}
