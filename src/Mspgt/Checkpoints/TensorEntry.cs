namespace Mspgt.Checkpoints;

/// <summary>One stored tensor as listed by `mspgt inspect` (shape outermost first, as PyTorch writes it).</summary>
public sealed record TensorEntry(string Name, TensorType Type, long[] Shape, long Bytes);
