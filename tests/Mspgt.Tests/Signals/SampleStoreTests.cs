using Mspgt.Loading;
using Mspgt.Models;
using Mspgt.Signals;

namespace Mspgt.Tests.Signals;

public class SampleStoreTests
{
    [Fact]
    public void SpilledSetsReadBackAsWrittenFromAnyThreadAndLeaveNoFileBehind()
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-store-").FullName;
        try
        {
            var rng = new Random(4);
            var docs = Enumerable.Range(0, 6).Select(d => Enumerable.Range(0, 5)
                .Select(r => Enumerable.Range(0, 17 * (d + r + 1)).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray()).ToArray();
            using (var store = SampleStore.OnDisk(dir))
            {
                Assert.True(store.Spills);
                var kept = docs.Select(sets =>
                {
                    var rows = store.NewRows(sets.Length);
                    for (int r = sets.Length - 1; r >= 0; r--) rows.Put(r, sets[r]);   // in any order
                    return rows;
                }).ToArray();
                // The unlinked file is not in the folder while it is in use.
                Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
                Parallel.For(0, 6 * 5, i =>
                {
                    var (d, r) = (i / 5, i % 5);
                    Assert.Equal(docs[d][r], kept[d][r]);
                });
                Assert.Equal(5, kept[3].Count);
                // A read is a copy: changing it leaves the kept set as it was.
                kept[0][1][0] = -1;
                Assert.Equal(docs[0][1][0], kept[0][1][0]);
                // CopyTo reads a set into the caller's buffer, which must be exactly its length.
                var buffer = new float[docs[2][3].Length];
                SampleRows.CopyTo(kept[2], 3, buffer);
                Assert.Equal(docs[2][3], buffer);
                Assert.Throws<ArgumentException>(() => SampleRows.CopyTo(kept[2], 3, new float[buffer.Length + 1]));
                var inMemory = SampleStore.InMemory().NewRows(1);
                inMemory.Put(0, docs[1][0]);
                var fromMemory = new float[docs[1][0].Length];
                SampleRows.CopyTo(inMemory, 0, fromMemory);
                Assert.Equal(docs[1][0], fromMemory);
            }
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AFolderThatCannotHoldTheFileIsOneClearError()
    {
        var e = Assert.Throws<MspgtException>(() => SampleStore.OnDisk("/nonexistent/mspgt-samples"));
        Assert.Equal("/nonexistent/mspgt-samples", e.Source);
        Assert.Contains("temporary file", e.Message);
    }

    [Fact]
    public void ADocumentMeasuredWithItsSamplesOnDiskKeepsTheSameSamplesAndValues()
    {
        using var m = ModelLoader.Load(TestData.Path("models", "stories260K", "stories260K.bin"));
        var tf = new Transformer(m.Config, m.Weights);
        int[] ids = m.Tokenizer!.Encode("Once upon a time there was a little girl named Lily. She liked to play in the park with her dog.", addBos: true);
        var memory = new DocumentSignals(tf, new SignalSettings { Seed = 2 }).Measure(ids);
        using var store = SampleStore.OnDisk();
        var disk = new DocumentSignals(tf, new SignalSettings { Seed = 2 }, store).Measure(ids);
        Assert.Equal(memory.Values, disk.Values);
        Assert.Equal(memory.Pooled.Count, disk.Pooled.Count);
        for (int r = 0; r < memory.Pooled.Count; r++)
        {
            Assert.Equal(memory.Pooled[r], disk.Pooled[r]);
            Assert.Equal(memory.MiRows[r], disk.MiRows[r]);
        }
    }
}
