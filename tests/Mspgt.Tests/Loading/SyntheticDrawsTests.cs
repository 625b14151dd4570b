using Mspgt.Checkpoints;
using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Numerics;
using Mspgt.Tests.Numerics;

namespace Mspgt.Tests.Loading;

/// <summary>
/// A synthetic model's values are drawn per tensor from a stream whose every output can be computed on its own, so
/// they are drawn in parallel chunks: the values must not depend on the thread count or on how a writer chunks them,
/// the in-memory model and the files written from the same seed must hold the same values across many chunks, and
/// the draws must have the distribution they claim.
/// </summary>
[Collection(ParallelismCollection.Name)]
public sealed class SyntheticDrawsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-synth-draws").FullName;

    public void Dispose()
    {
        Parallelism.Set(null);
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A Llama whose embedding (70,000 × 64 = 4.48M values) spans more than one of the checkpoint writer's
    /// 4M-value chunks and 69 of the parallel draw's chunks.</summary>
    private static ModelConfig Wide() => SyntheticModel.Preset("110m") with
    {
        Layers = 1, Dim = 64, Heads = 2, KvHeads = 2, HeadDim = 32, Ffn = 96, Vocab = 70_000, MaxSeq = 64,
    };

    [Theory]
    [InlineData(0UL)]
    [InlineData(42UL)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF0UL)]   // the state wraps around within the first outputs
    public void AnyOutputOfTheStreamCanBeComputedOnItsOwn(ulong seed)
    {
        var g = new SplitMix64(seed);
        for (long n = 0; n < 20_000; n++) Assert.Equal(g.NextUInt64(), SplitMix64.At(seed, n));
    }

    [Theory]
    [InlineData(TensorType.F32)]
    [InlineData(TensorType.BF16)]
    [InlineData(TensorType.Q8_0)]
    public void ValuesDoNotDependOnTheThreadCount(TensorType type)
    {
        Parallelism.Set(1);
        using var one = SyntheticModel.Build(Wide(), seed: 3, weightType: type);
        Parallelism.Set(3);
        using var three = SyntheticModel.Build(Wide(), seed: 3, weightType: type);
        Assert.True(one.Weights.Embedding.RowSpan(0).Length > 0);
        for (int r = 0; r < Wide().Vocab; r += 997)
            Assert.True(one.Weights.Embedding.RowSpan(r).SequenceEqual(three.Weights.Embedding.RowSpan(r)), $"row {r}");
        Assert.True(one.Weights.Layers[0].Down.RowSpan(5).SequenceEqual(three.Weights.Layers[0].Down.RowSpan(5)));
        using var otherSeed = SyntheticModel.Build(Wide(), seed: 4, weightType: type);
        Assert.False(one.Weights.Embedding.RowSpan(1).SequenceEqual(otherSeed.Weights.Embedding.RowSpan(1)));
    }

    [Fact]
    public void FilesHoldTheInMemoryValuesAcrossTheirChunks()
    {
        var c = Wide();
        Parallelism.Set(3);
        SyntheticCheckpoint.Write(c, Path.Combine(_dir, "hf"), seed: 5, dtype: TensorType.BF16);
        SyntheticGguf.Write(c, Path.Combine(_dir, "m.gguf"), seed: 5, dtype: TensorType.F32);
        Parallelism.Set(1);
        using var bf16 = SyntheticModel.Build(c, seed: 5, weightType: TensorType.BF16);
        using var f32 = SyntheticModel.Build(c, seed: 5, weightType: TensorType.F32);
        using var hf = ModelLoader.Load(Path.Combine(_dir, "hf"));
        using var gguf = ModelLoader.Load(Path.Combine(_dir, "m.gguf"));
        // Rows on both sides of the writers' 4M-value boundary (row 65,536) and the last one.
        foreach (int r in new[] { 0, 1, 65_535, 65_536, 65_537, c.Vocab - 1 })
        {
            Assert.True(bf16.Weights.Embedding.RowSpan(r).SequenceEqual(hf.Weights.Embedding.RowSpan(r)), $"hf row {r}");
            Assert.True(f32.Weights.Embedding.RowSpan(r).SequenceEqual(gguf.Weights.Embedding.RowSpan(r)), $"gguf row {r}");
        }
        int[] ids = [3, 69_999, 65_536, 12];
        Assert.Equal(new Transformer(f32.Config, f32.Weights).Forward(ids), new Transformer(gguf.Config, gguf.Weights).Forward(ids));
    }

    [Fact]
    public void WeightsAreUniformInTheirRange()
    {
        // 4.48M values uniform in ±r: mean 0 and variance r²/3; standard errors r/√(3n) and about 0.9·r²/(3√n).
        using var m = SyntheticModel.Build(Wide(), seed: 9, weightType: TensorType.F32);
        float[] v = m.Weights.Embedding.ToFloats();
        double r = SyntheticModel.WeightRange(64), n = v.Length, sum = 0, squares = 0;
        foreach (float x in v)
        {
            Assert.InRange(x, -r, r);
            sum += x;
            squares += (double)x * x;
        }
        double mean = sum / n, variance = squares / n - mean * mean;
        Assert.InRange(mean, -5 * r / Math.Sqrt(3 * n), 5 * r / Math.Sqrt(3 * n));
        Assert.InRange(variance / (r * r / 3), 1 - 5 * 0.9 / Math.Sqrt(n), 1 + 5 * 0.9 / Math.Sqrt(n));
    }

    [Fact]
    public void QuantsAreUniformOnTheirIntegers()
    {
        // Chi-square over the 255 values −127…127 with 2,000 draws expected in each: 254 degrees of freedom, mean
        // 254 and sd 22.5, so 400 is beyond its 99.999th percentile; nothing may fall outside the range.
        var draws = new SyntheticModel.TensorDraws(seed: 1, ordinal: 0);
        var counts = new long[255];
        for (long i = 0; i < 255 * 2000; i++)
        {
            int q = draws.Quant(i);
            Assert.InRange(q, -127, 127);
            counts[q + 127]++;
        }
        double chi2 = counts.Sum(k => (k - 2000.0) * (k - 2000.0) / 2000.0);
        Assert.True(chi2 < 400, $"chi-square {chi2:F1} on 254 degrees of freedom");
    }
}
