using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Tests.Signals;

/// <summary>
/// On the CPU analyze measures a document inside its forward pass (<see cref="DocumentSignals.CaptureAndMeasure"/>:
/// each block's output prepared as soon as its window of blocks is complete) instead of capturing every block's
/// output first. Everything it keeps is the captured measurement's bit for bit: the per-block values, the pooled and MI
/// samples and their positions, the KSG results; with windows of
/// several blocks (<see cref="DocumentSignals.WindowBlocks"/>), and with the samples on disk.
/// </summary>
public class StreamedMeasurementTests
{
    private static ModelConfig Config() => new()
    {
        Architecture = Architecture.Llama, Dim = 128, Layers = 5, Heads = 4, KvHeads = 2, HeadDim = 32,
        Ffn = 256, Vocab = 500, MaxSeq = 640, NormEps = 1e-5f, RopeTheta = 10000f, BosId = 1, EosId = 2,
    };

    [Theory]
    [InlineData(90, false)]
    [InlineData(600, false)]
    [InlineData(90, true)]
    public void MeasuringInsideThePassKeepsWhatTheCapturedMeasurementKeeps(int tokens, bool onDisk)
    {
        using var m = SyntheticModel.Build(Config(), seed: 21);
        var rng = new Random(tokens);
        var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(m.Config.Vocab)).ToArray();
        var tf = new Transformer(m.Config, m.Weights);
        var settings = new SignalSettings { Seed = 5 };
        using var store1 = onDisk ? SampleStore.OnDisk() : SampleStore.InMemory();
        using var store2 = onDisk ? SampleStore.OnDisk() : SampleStore.InMemory();
        var captured = new DocumentSignals(tf, settings, store1);
        var streamed = new DocumentSignals(tf, settings, store2);
        Assert.True(streamed.Streams);
        var expected = captured.Measure(captured.Capture([ids])[0]);
        var got = streamed.CaptureAndMeasure(ids, out var spent);
        Assert.True(spent > TimeSpan.Zero);
        Assert.Equal(expected.Values.Cast<double>().Select(BitConverter.DoubleToInt64Bits), got.Values.Cast<double>().Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.Positions, got.Positions);
        Assert.Equal(expected.MiPositions, got.MiPositions);
        Assert.Equal(expected.Ksg, got.Ksg);
        Assert.Equal(m.Config.Layers + 1, got.Pooled.Count);
        for (int r = 0; r <= m.Config.Layers; r++)
        {
            Assert.Equal(expected.Pooled[r], got.Pooled[r]);
            Assert.Equal(expected.MiRows[r], got.MiRows[r]);
        }
        Assert.Contains(got.Values.Cast<double>(), v => !double.IsNaN(v) && v != 0);
        // Measure(ids) takes the streamed path on the CPU.
        Assert.Equal(got.Values.Cast<double>(), new DocumentSignals(tf, settings).Measure(ids).Values.Cast<double>());
    }

    /// <summary>
    /// A window takes as many blocks as its memory budget holds, at least 2 and at most 2 per thread, and the budget
    /// is a share of the weights (at least 16 MB): at the 0.5B shape (896 wide) a 256-token representation's
    /// preparation takes about 4.1 MB, so a Q8_0 file (530 MB: 19.9 MB) takes 4 blocks whatever the thread count
    /// above 1 and a BF16 one (988 MB: 37 MB) 9; 512- and 1,024-token ones (about 11 and 36 MB) take 2; a tiny model
    /// gets 16 MB.
    /// </summary>
    [Theory]
    [InlineData(256, 16, 530_000_000L, 4)]
    [InlineData(256, 2, 530_000_000L, 4)]
    [InlineData(256, 1, 530_000_000L, 2)]
    [InlineData(256, 16, 988_000_000L, 9)]
    [InlineData(512, 16, 530_000_000L, 2)]
    [InlineData(1024, 16, 530_000_000L, 2)]
    [InlineData(1024, 2, 16_000_000_000L, 4)]
    [InlineData(64, 16, 530_000_000L, 25)]
    [InlineData(256, 16, 1_000_000L, 4)]
    public void AWindowHoldsWhatItsBudgetHolds(int tokens, int threads, long weightBytes, int blocks)
    {
        Assert.Equal(blocks, DocumentSignals.WindowBlocks(tokens, 896, threads, weightBytes));
        Assert.InRange(DocumentSignals.PreparationBytes(256, 896), 4_000_000, 4_200_000);
        Assert.InRange(DocumentSignals.PreparationBytes(1024, 896), 35_000_000, 36_200_000);
        Assert.Equal(16L << 20, DocumentSignals.WindowBudget(weightBytes: 1));
    }

    [Fact]
    public void TooShortADocumentIsRefusedBeforeThePass()
    {
        using var m = SyntheticModel.Build(Config(), seed: 22);
        var signals = new DocumentSignals(new Transformer(m.Config, m.Weights), new SignalSettings());
        var e = Assert.Throws<MspgtException>(() => signals.CaptureAndMeasure([1, 5, 6], out _));
        Assert.Contains("too few", e.Message);
    }
}
