using System.Numerics.Tensors;
using Mspgt.Models;
using Mspgt.Numerics;

namespace Mspgt.Training;

/// <summary>
/// The training forward pass over one sequence with every activation the backward pass needs saved, and the
/// hand-written backward pass that adds the parameter gradients into a flat gradient array (the model's layout).
/// The forward pass is <see cref="Transformer.Forward"/>'s: the same ops in the same order (the engine's RMSNorm,
/// linear, RoPE, attention and SwiGLU kernels over the weights in place); only the backward ops are training's own.
/// One instance per thread: it owns its activations, attention kernel and scratch buffers.
/// </summary>
public sealed class SequencePass
{
    private sealed class LayerActivations
    {
        public float[] XIn = [], Inv1 = [], H1 = [], QPre = [], InvQ = [], KPre = [], InvK = [];
        public float[] Q = [], K = [], V = [], Probs = [], Z = [], XMid = [], Inv2 = [], H2 = [], G = [], U = [], M = [];
    }

    private readonly TrainingModel _m;
    private readonly ModelConfig _c;
    private readonly Rope _rope;
    private readonly ScratchBuffers _s = new();
    private readonly Attention _attention = new();
    private readonly LayerActivations[] _layers;
    private float[] _xOut = [], _invF = [], _hf = [], _logits = [], _cos = [], _sin = [];
    private int[] _ids = [];
    private int _tokens;
    private bool _gradReady;

    public SequencePass(TrainingModel model)
    {
        _m = model;
        _c = model.Config;
        _rope = new Rope(_c, null);
        _layers = Enumerable.Range(0, _c.Layers).Select(_ => new LayerActivations()).ToArray();
    }

    private ReadOnlySpan<float> Bias(ParameterInfo? p) => p == null ? default : _m.Of(p);

    /// <summary>Logits [T, vocab] of the last forward (after <see cref="LossAndGradient"/>, its gradient instead).</summary>
    public ReadOnlySpan<float> Logits => _logits.AsSpan(0, _tokens * _c.Vocab);

    private void Allocate(int T)
    {
        if (T == _tokens && _logits.Length > 0) return;
        var c = _c;
        foreach (var A in _layers)
        {
            A.XIn = new float[T * c.Dim]; A.Inv1 = new float[T]; A.H1 = new float[T * c.Dim];
            A.Q = new float[T * c.QDim]; A.K = new float[T * c.KvDim]; A.V = new float[T * c.KvDim];
            if (c.QkNorm)
            {
                A.QPre = new float[T * c.QDim]; A.InvQ = new float[T * c.Heads];
                A.KPre = new float[T * c.KvDim]; A.InvK = new float[T * c.KvHeads];
            }
            A.Probs = new float[c.Heads * T * T]; A.Z = new float[T * c.QDim];
            A.XMid = new float[T * c.Dim]; A.Inv2 = new float[T]; A.H2 = new float[T * c.Dim];
            A.G = new float[T * c.Ffn]; A.U = new float[T * c.Ffn]; A.M = new float[T * c.Ffn];
        }
        _xOut = new float[T * c.Dim]; _invF = new float[T]; _hf = new float[T * c.Dim];
        _logits = new float[T * c.Vocab];
        (_cos, _sin) = _rope.Tables(0, T);
        _tokens = T;
    }

    /// <summary>Runs the model on ids (positions 0..T-1) and keeps the activations; returns the logits.</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> ids)
    {
        var c = _c;
        int T = ids.Length;
        if (T == 0) throw new MspgtException("input", "no tokens to run");
        if (T > c.MaxSeq) throw new MspgtException("input", $"sequence of {T} tokens is longer than the model's context of {c.MaxSeq}");
        foreach (int id in ids)
            if ((uint)id >= (uint)c.Vocab) throw new MspgtException("input", $"token id {id} is outside the vocabulary (0..{c.Vocab - 1})");
        Allocate(T);
        _ids = ids.ToArray();
        _gradReady = false;
        int D = c.Dim, hd = c.HeadDim;
        var emb = _m.Of(_m.Embedding);
        var x0 = _layers.Length > 0 ? _layers[0].XIn : _xOut;
        for (int t = 0; t < T; t++) emb.Slice(ids[t] * D, D).CopyTo(x0.AsSpan(t * D, D));
        var tmpD = _s.Get("fwd.tmpD", T * D);
        var shape = new AttentionShape(T, 0, c.Heads, c.KvHeads, hd);
        for (int l = 0; l < c.Layers; l++)
        {
            var A = _layers[l];
            var P = _m.Layers[l];
            Kernels.RmsNormRows(A.XIn, T, _m.Of(P.AttnNorm), c.NormEps, A.H1, A.Inv1);
            Kernels.Linear(A.H1, T, _m.Matrix(P.Q), Bias(P.QBias), A.Q);
            Kernels.Linear(A.H1, T, _m.Matrix(P.K), Bias(P.KBias), A.K);
            Kernels.Linear(A.H1, T, _m.Matrix(P.V), Bias(P.VBias), A.V);
            if (c.QkNorm)
            {
                A.Q.CopyTo(A.QPre, 0);
                A.K.CopyTo(A.KPre, 0);
                Kernels.RmsNormRows(A.QPre, T * c.Heads, _m.Of(P.QNorm!), c.NormEps, A.Q, A.InvQ);
                Kernels.RmsNormRows(A.KPre, T * c.KvHeads, _m.Of(P.KNorm!), c.NormEps, A.K, A.InvK);
            }
            _rope.Apply(A.Q, T, c.Heads, _cos, _sin);
            _rope.Apply(A.K, T, c.KvHeads, _cos, _sin);
            _attention.Probabilities(A.Q, A.K, shape, A.Probs);
            _attention.Mix(A.Probs, A.V, shape, A.Z);
            Kernels.Linear(A.Z, T, _m.Matrix(P.O), default, tmpD);
            TensorPrimitives.Add(A.XIn.AsSpan(0, T * D), tmpD.AsSpan(0, T * D), A.XMid);
            Kernels.RmsNormRows(A.XMid, T, _m.Of(P.FfnNorm), c.NormEps, A.H2, A.Inv2);
            Kernels.Linear(A.H2, T, _m.Matrix(P.Gate), default, A.G);
            Kernels.Linear(A.H2, T, _m.Matrix(P.Up), default, A.U);
            Kernels.SwiGlu(A.G, A.U, A.M);
            Kernels.Linear(A.M, T, _m.Matrix(P.Down), default, tmpD);
            var next = l + 1 < c.Layers ? _layers[l + 1].XIn : _xOut;
            TensorPrimitives.Add(A.XMid.AsSpan(0, T * D), tmpD.AsSpan(0, T * D), next);
        }
        Kernels.RmsNormRows(_xOut, T, _m.Of(_m.FinalNorm), c.NormEps, _hf, _invF);
        Kernels.Linear(_hf, T, _m.Matrix(_m.Output), default, _logits);
        return Logits;
    }

    /// <summary>
    /// Σ_t cross-entropy of the last forward's logits against targets (one per position); replaces the logits by
    /// scale·dCE/dlogits so that <see cref="Backward"/> can follow.
    /// </summary>
    public double LossAndGradient(ReadOnlySpan<int> targets, float scale)
    {
        if (targets.Length != _tokens) throw new ArgumentException("one target per position is needed");
        foreach (int id in targets)
            if ((uint)id >= (uint)_c.Vocab) throw new MspgtException("input", $"target id {id} is outside the vocabulary (0..{_c.Vocab - 1})");
        double loss = CrossEntropyOp.ForwardBackward(_logits.AsSpan(0, _tokens * _c.Vocab), targets, _c.Vocab, scale);
        _gradReady = true;
        return loss;
    }

    /// <summary>Σ_t cross-entropy of the last forward's logits (no gradient).</summary>
    public double Loss(ReadOnlySpan<int> targets) => CrossEntropyOp.Loss(Logits, targets, _c.Vocab);

    /// <summary>Adds this sequence's parameter gradients into grad (the model's flat layout). Needs current
    /// <see cref="TrainingModel.Transposed"/> weights.</summary>
    public void Backward(float[] grad)
    {
        if (!_gradReady) throw new InvalidOperationException("call LossAndGradient after Forward before Backward");
        _gradReady = false;
        var c = _c;
        int T = _tokens, D = c.Dim, QD = c.QDim, KD = c.KvDim, F = c.Ffn, V = c.Vocab, hd = c.HeadDim;
        int wide = Math.Max(Math.Max(V, F), Math.Max(QD, D));
        Span<float> G(ParameterInfo p) => grad.AsSpan(p.Offset, p.Length);
        var xT = _s.Get("bwd.xT", wide * T);
        var dyT = _s.Get("bwd.dyT", wide * T);
        var tmpW = _s.Get("bwd.tmpW", wide * wide);
        var tmp = _s.Get("bwd.tmp", T * wide);

        // Unembedding and final norm.
        var dLogits = _logits.AsSpan(0, T * V);
        DenseMatMul.Transpose(_hf, T, D, xT);
        LinearOp.BackwardWeight(dLogits, T, xT, V, D, G(_m.Output), dyT, tmpW);
        var dHf = _s.Zeroed("bwd.dh", T * D);
        LinearOp.BackwardInput(dLogits, T, _m.TransposedOf(_m.Output), V, D, dHf, tmp);
        var dx = _s.Zeroed("bwd.dx", T * D);
        RmsNormOp.Backward(_xOut, T, _m.Of(_m.FinalNorm), _invF, dHf, dx, G(_m.FinalNorm));

        for (int l = c.Layers - 1; l >= 0; l--)
        {
            var A = _layers[l];
            var P = _m.Layers[l];
            // MLP: x_out = XMid + (silu(G) ⊙ U)·Downᵀ.
            DenseMatMul.Transpose(A.M, T, F, xT);
            LinearOp.BackwardWeight(dx, T, xT, D, F, G(P.Down), dyT, tmpW);
            var dM = _s.Zeroed("bwd.dM", T * F);
            LinearOp.BackwardInput(dx, T, _m.TransposedOf(P.Down), D, F, dM, tmp);
            var dG = _s.Get("bwd.dG", T * F).AsSpan(0, T * F);
            var dU = _s.Get("bwd.dU", T * F).AsSpan(0, T * F);
            SwiGluOp.Backward(A.G.AsSpan(0, T * F), A.U, dM, dG, dU);
            DenseMatMul.Transpose(A.H2, T, D, xT);
            LinearOp.BackwardWeight(dG, T, xT, F, D, G(P.Gate), dyT, tmpW);
            LinearOp.BackwardWeight(dU, T, xT, F, D, G(P.Up), dyT, tmpW);
            var dH = _s.Zeroed("bwd.dh", T * D);
            LinearOp.BackwardInput(dG, T, _m.TransposedOf(P.Gate), F, D, dH, tmp);
            LinearOp.BackwardInput(dU, T, _m.TransposedOf(P.Up), F, D, dH, tmp);
            RmsNormOp.Backward(A.XMid, T, _m.Of(P.FfnNorm), A.Inv2, dH, dx, G(P.FfnNorm)); // dx = dL/dXMid

            // Attention: XMid = XIn + Z·Oᵀ.
            DenseMatMul.Transpose(A.Z, T, QD, xT);
            LinearOp.BackwardWeight(dx, T, xT, D, QD, G(P.O), dyT, tmpW);
            var dZ = _s.Zeroed("bwd.dZ", T * QD);
            LinearOp.BackwardInput(dx, T, _m.TransposedOf(P.O), D, QD, dZ, tmp);
            var dQ = _s.Get("bwd.dQ", T * QD).AsSpan(0, T * QD);
            var dK = _s.Get("bwd.dK", T * KD).AsSpan(0, T * KD);
            var dV = _s.Get("bwd.dV", T * KD).AsSpan(0, T * KD);
            AttentionOp.Backward(A.Q, A.K, A.V, A.Probs, dZ, T, c.Heads, c.KvHeads, hd, dQ, dK, dV, _s);
            RopeOp.Backward(dQ, T, c.Heads, hd, _cos, _sin);
            RopeOp.Backward(dK, T, c.KvHeads, hd, _cos, _sin);
            if (c.QkNorm)
            {
                var dQPre = _s.Zeroed("bwd.dQPre", T * QD);
                var dKPre = _s.Zeroed("bwd.dKPre", T * KD);
                RmsNormOp.Backward(A.QPre, T * c.Heads, _m.Of(P.QNorm!), A.InvQ, dQ, dQPre, G(P.QNorm!));
                RmsNormOp.Backward(A.KPre, T * c.KvHeads, _m.Of(P.KNorm!), A.InvK, dK, dKPre, G(P.KNorm!));
                dQPre.CopyTo(dQ);
                dKPre.CopyTo(dK);
            }
            if (P.QBias is { } qb) LinearOp.BackwardBias(dQ, T, QD, G(qb));
            if (P.KBias is { } kb) LinearOp.BackwardBias(dK, T, KD, G(kb));
            if (P.VBias is { } vb) LinearOp.BackwardBias(dV, T, KD, G(vb));
            DenseMatMul.Transpose(A.H1, T, D, xT);
            LinearOp.BackwardWeight(dQ, T, xT, QD, D, G(P.Q), dyT, tmpW);
            LinearOp.BackwardWeight(dK, T, xT, KD, D, G(P.K), dyT, tmpW);
            LinearOp.BackwardWeight(dV, T, xT, KD, D, G(P.V), dyT, tmpW);
            dH = _s.Zeroed("bwd.dh", T * D);
            LinearOp.BackwardInput(dQ, T, _m.TransposedOf(P.Q), QD, D, dH, tmp);
            LinearOp.BackwardInput(dK, T, _m.TransposedOf(P.K), KD, D, dH, tmp);
            LinearOp.BackwardInput(dV, T, _m.TransposedOf(P.V), KD, D, dH, tmp);
            RmsNormOp.Backward(A.XIn, T, _m.Of(P.AttnNorm), A.Inv1, dH, dx, G(P.AttnNorm)); // dx = dL/dXIn
        }

        // Embedding: scatter-add rows (positions in order).
        var dE = G(_m.Embedding);
        for (int t = 0; t < T; t++)
        {
            var row = dE.Slice(_ids[t] * D, D);
            TensorPrimitives.Add(row, dx.Slice(t * D, D), row);
        }
    }
}
