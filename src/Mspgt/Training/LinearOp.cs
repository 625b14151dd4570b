using System.Numerics.Tensors;
using Mspgt.Numerics;

namespace Mspgt.Training;

/// <summary>
/// nn.Linear's backward pass for y[T, out] = x[T, in] · Wᵀ (+ b), W [out, in] (the forward is the engine's
/// <see cref="Kernels.Linear"/>): dx += dy·W (computed as dy·(Wᵀ)ᵀ from the stored transpose), dW += dyᵀ·x (computed
/// as (dyᵀ)·(xᵀ)ᵀ), db += Σ_t dy[t].
/// </summary>
public static class LinearOp
{
    /// <summary>dx += dy · W, given wT = Wᵀ [in, out]; tmp holds T·in floats.</summary>
    public static void BackwardInput(ReadOnlySpan<float> dy, int tokens, ReadOnlySpan<float> wT, int outDim, int inDim, Span<float> dx, Span<float> tmp)
    {
        DenseMatMul.MultiplyTransposed(dy, tokens, outDim, wT, inDim, tmp);
        TensorPrimitives.Add(dx[..(tokens * inDim)], tmp[..(tokens * inDim)], dx);
    }

    /// <summary>
    /// dW += dyᵀ · x, given xT = xᵀ [in, T] (callers transpose an input once for all the weights that read it);
    /// dyT holds out·T floats and tmp out·in floats.
    /// </summary>
    public static void BackwardWeight(ReadOnlySpan<float> dy, int tokens, ReadOnlySpan<float> xT, int outDim, int inDim,
        Span<float> dW, Span<float> dyT, Span<float> tmp)
    {
        DenseMatMul.Transpose(dy, tokens, outDim, dyT);
        DenseMatMul.MultiplyTransposed(dyT, outDim, tokens, xT, inDim, tmp);
        TensorPrimitives.Add(dW[..(outDim * inDim)], tmp[..(outDim * inDim)], dW);
    }

    /// <summary>db += Σ_t dy[t] (tokens in order).</summary>
    public static void BackwardBias(ReadOnlySpan<float> dy, int tokens, int outDim, Span<float> db)
    {
        for (int t = 0; t < tokens; t++) TensorPrimitives.Add(db, dy.Slice(t * outDim, outDim), db);
    }
}
