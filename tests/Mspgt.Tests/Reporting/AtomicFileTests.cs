using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Tests.Reporting;

public class AtomicFileTests
{
    [Fact]
    public void FailedWriteLeavesNoFileBehind()
    {
        string dir = Directory.CreateTempSubdirectory("mspgt-atomic").FullName;
        string path = Path.Combine(dir, "out.json");
        Assert.Throws<InvalidOperationException>(() =>
            AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        Assert.Empty(Directory.GetFiles(dir));
        AtomicFile.WriteAllText(path, "ok");
        Assert.Equal("ok", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }
}
