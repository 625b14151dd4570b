using System.Diagnostics;
using Mspgt.Signals.Estimators;

namespace Mspgt.Signals;

// One document's measurement, fed its representations in order: from a forward pass's hooks as the pass reaches each
// block (CaptureAndMeasure, the CPU) or from a capture (Measure, a device's batched pass).
public sealed partial class DocumentSignals
{
    /// <summary>The float copies of the representations a pass hands over, of one length, handed back once prepared
    /// and out again for the next ones within one document's measurement (<see cref="Shelf"/> does the same for the
    /// float64 rows).</summary>
    private sealed class FloatShelf
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<float[]> _free = [];

        public float[] Copy(ReadOnlySpan<float> rows)
        {
            float[]? a = null;
            while (_free.TryTake(out var f))
                if (f.Length == rows.Length) { a = f; break; }   // one length per document: others are let go
            a ??= GC.AllocateUninitializedArray<float>(rows.Length);
            rows.CopyTo(a);
            return a;
        }

        public void Put(float[] a) => _free.Add(a);
    }

    /// <summary>
    /// Representation r (0 the embedding, r block r − 1's output) arrives with <see cref="Add(int, ReadOnlySpan{float})"/>
    /// in order: its pooled samples and lens rows are taken at once, and its rows wait for their window. The blocks
    /// go in windows (<see cref="WindowBlocks"/>: up to 2 per thread, within <see cref="WindowBudget"/>): once a
    /// window's last output has arrived, its new representations are prepared in parallel and its blocks measured,
    /// so memory holds a window's prepared representations (a 0.5 MB Gram matrix each at 256 tokens of the 0.5B
    /// shape, with its scores and values; the float64 rows pass through the shelf) and the float rows still waiting,
    /// rather than all L + 1. At 1,024 tokens each prepared representation holds two Gram matrices, 15 MB: one block
    /// per thread there (on 2 threads) took the peak RSS of 4 such documents from 952–964 to 906–940 MiB, at no
    /// speed that could be told apart. Every block is measured exactly as before, whatever the window, so values
    /// never depend on it.
    /// </summary>
    private sealed class DocumentMeasurer
    {
        private readonly DocumentSignals _o;
        private readonly int[] _ids;
        private readonly int _T, _L, _d, _window;
        private readonly int[] _lensPositions, _positions, _miPositions;
        private readonly float[][] _lensRows;
        private readonly SampleRows _pooled, _miRows;
        private readonly float[] _gathered;
        private readonly float[]? _projected;
        private readonly float[]?[] _reps;
        private readonly PreparedRepresentation?[] _prepared;
        private readonly RepresentationValues?[] _blocks;
        private readonly Shelf _shelf = new();
        private readonly FloatShelf _floats = new();
        private int _next, _windowStart;
        private long _ticks;

        public DocumentMeasurer(DocumentSignals owner, int[] ids)
        {
            _o = owner;
            _ids = ids;
            var c = owner._model.Config;
            (_T, _L, _d) = (ids.Length, c.Layers, c.Dim);
            var s = owner._s;
            _lensPositions = EvenlySpaced(_T, LensSampleSize(c, _T, s), skipFirst: false);
            _lensRows = new float[_L][];
            _positions = EvenlySpaced(_T, Math.Min(_T - 1, s.ProbeTokensPerDocument), skipFirst: true);
            _miPositions = EvenlySpaced(_T, Math.Min(_T, s.MiTokensPerDocument), skipFirst: !s.IncludeBos);
            // Kept in the sample store at once (on disk, they leave memory before the estimators run), gathered and
            // projected through two buffers reused for every representation rather than 2 × (L + 1) new arrays.
            _pooled = owner._samples.NewRows(_L + 1);
            _miRows = owner._samples.NewRows(_L + 1);
            int most = Math.Max(_positions.Length, _miPositions.Length);
            (_gathered, _projected) = (new float[most * _d], owner._projection == null ? null : new float[most * owner.PooledDims]);
            _reps = new float[_L + 1][];
            _prepared = new PreparedRepresentation?[_L + 1];
            _blocks = new RepresentationValues?[_L];
            _window = WindowBlocks(_T, _d, Mspgt.Numerics.Parallelism.Threads, owner._weightBytes);
        }

        /// <summary>Time spent measuring so far (in <see cref="Add(int, ReadOnlySpan{float})"/> and <see cref="Finish"/>).</summary>
        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, _ticks);

        /// <summary>Representation <paramref name="r"/> as a forward pass hands it over (copied: the pass reuses its buffer).</summary>
        public void Add(int r, ReadOnlySpan<float> rows)
        {
            long t0 = Stopwatch.GetTimestamp();
            try { Take(r, rows, null); }
            finally { _ticks += Stopwatch.GetTimestamp() - t0; }
        }

        /// <summary>Representation <paramref name="r"/> from a capture (kept as it is until its window is prepared).</summary>
        public void Add(int r, float[] rows)
        {
            long t0 = Stopwatch.GetTimestamp();
            try { Take(r, rows, rows); }
            finally { _ticks += Stopwatch.GetTimestamp() - t0; }
        }

        private void Take(int r, ReadOnlySpan<float> rows, float[]? owned)
        {
            if (r != _next) throw new InvalidOperationException($"representation {r} arrived before {_next}");
            if (rows.Length != _T * _d) throw new InvalidOperationException($"representation {r} holds {rows.Length} values, not {_T} × {_d}");
            _next++;
            // The lens reads its sampled rows of every block's output after the estimators, once the float rows are gone.
            if (r > 0) Gather(rows, _d, _lensPositions, _lensRows[r - 1] = new float[_lensPositions.Length * _d]);
            _pooled.Put(r, _o.Project(Gather(rows, _d, _positions, _gathered), _positions.Length, _d, _projected));
            _miRows.Put(r, _o.Project(Gather(rows, _d, _miPositions, _gathered), _miPositions.Length, _d, _projected));
            _reps[r] = owned ?? _floats.Copy(rows);
            int l1 = Math.Min(_L, _windowStart + _window);
            if (r == l1) MeasureWindow(_windowStart, l1);
        }

        /// <summary>
        /// Blocks l0 .. l1 − 1, once representation l1 has arrived: each representation (embedding, then every block's
        /// output) is block l's output and block l+1's input, so its centring, Gram matrix, eigen-decomposition and PCA
        /// fit are made once and serve both blocks' estimators.
        /// </summary>
        private void MeasureWindow(int l0, int l1)
        {
            var s = _o._s;
            Parallel.For(l0 == 0 ? 0 : l0 + 1, l1 + 1, Mspgt.Numerics.Parallelism.Options, r =>
            {
                _prepared[r] = PreparedRepresentation.Of(_reps[r]!, _T, _d, s, block: r - 1, _shelf, _o._gramProduct);
                var rows = _reps[r]!;
                _reps[r] = null;   // this document's floats are not read again
                _floats.Put(rows);
            });
            Parallel.For(l0, l1, Mspgt.Numerics.Parallelism.Options, l => _blocks[l] = MeasureRepresentations(_prepared[l]!, _prepared[l + 1]!, s, l));
            for (int r = l0; r < l1; r++) _prepared[r] = null; // the window's last one is the next window's first
            _windowStart = l1;
            // The window's float64 arrays are garbage now: sweeping lets the next window reuse their space. Left to its
            // budget, the GC let about a document's worth pile up first (Q8_0 at the 0.5B shape: peak 672 → 655 MiB).
            Mspgt.Numerics.Garbage.Sweep();
        }

        /// <summary>The document's measurement, once every representation has arrived: the lens over all blocks'
        /// sampled rows, then the values in <see cref="PerDocumentSignals"/> order.</summary>
        public DocumentMeasurement Finish(AttentionStatistics attention)
        {
            long t0 = Stopwatch.GetTimestamp();
            try { return Values(attention); }
            finally { _ticks += Stopwatch.GetTimestamp() - t0; }
        }

        private DocumentMeasurement Values(AttentionStatistics attention)
        {
            if (_next != _L + 1) throw new InvalidOperationException($"{_next} of {_L + 1} representations arrived");
            // One compacting collection before the lens: the pass's buffers (released by then) and the windows' arrays
            // go back to the system rather than stay committed under the lens's logits (8-10 MiB off the peak at 256
            // tokens of the 0.5B shape, measured inside the pass).
            Mspgt.Numerics.Garbage.Release();
            var (entropy, distance) = (attention.Entropy, attention.Distance);
            // Every block's output through the lens in one pass over the unembedding (the last block's is the
            // reference), after the estimators, once the forward's float rows are gone: its logits are then the
            // largest array held.
            var lensValues = _o._lens.MeasureLayers(_lensRows, _lensPositions.Length);
            var values = new double[_L, PerDocumentSignals.Length];
            var ksg = new KsgMutualInformationResult[_L];
            for (int l = 0; l < _L; l++)
            {
                var rep = _blocks[l]!;
                var (kl, lensEntropy) = lensValues[l];
                ksg[l] = rep.Ksg;
                values[l, 0] = distance[l].Mean;
                values[l, 1] = entropy[l].Mean;
                values[l, 2] = entropy[l].MeanNormalised;
                values[l, 3] = double.NaN;   // mi_gaussian: pooled over documents later
                values[l, 4] = rep.Ksg.Nats;
                values[l, 5] = double.NaN;   // mi_delta: from the pooled mi_gaussian
                values[l, 6] = rep.Cka;
                values[l, 7] = kl;
                values[l, 8] = lensEntropy;
                values[l, 9] = rep.EffectiveRank;
                values[l, 10] = rep.TwoNn;
            }
            for (int l = 0; l < _L; l++)
                for (int c = 0; c < PerDocumentSignals.Length; c++)
                    if (c != MiGaussianColumn && c != MiDeltaColumn && !double.IsFinite(values[l, c]))
                        throw new MspgtException("signals", $"{PerDocumentSignals[c]} is not finite at block {l}");
            return new DocumentMeasurement
            {
                Values = values, Positions = _positions, Pooled = _pooled, MiPositions = _miPositions, MiRows = _miRows, Ksg = ksg,
            };
        }
    }
}
