using Mspgt.Files;

namespace Mspgt.Tests.Files;

/// <summary>What a run sets aside on disk (analyze's token samples, intervene's clean rows) reads back as written, from
/// any thread and in any order, leaves nothing in its folder, and a folder it cannot use is named in one clear error.</summary>
public class SpillFileTests
{
    [Fact]
    public void SetsReadBackAsWrittenFromAnyThreadAndNoFileIsLeft()
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-spill-").FullName;
        try
        {
            var rng = new Random(11);
            var sets = Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, 1 + 97 * i).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
            using (var spill = SpillFile.Create("test rows", dir))
            {
                var at = new long[sets.Length];
                Parallel.For(0, sets.Length, i => at[i] = spill.Write(sets[i]));   // writers in any order
                Assert.Empty(Directory.EnumerateFileSystemEntries(dir));           // unlinked while in use
                Assert.Equal(sets.Length, at.Distinct().Count());
                Parallel.For(0, sets.Length, i =>
                {
                    int j = sets.Length - 1 - i;
                    var back = new float[sets[j].Length];
                    spill.ReadInto(at[j], back);
                    Assert.Equal(sets[j], back);
                });
            }
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AFolderThatCannotBeUsedIsNamed()
    {
        var e = Assert.Throws<MspgtException>(() => SpillFile.Create("the clean documents' final-norm rows", "/nonexistent/mspgt-spill"));
        Assert.Equal("/nonexistent/mspgt-spill", e.Source);
        Assert.Contains("temporary file for the clean documents' final-norm rows", e.Message);
    }
}
