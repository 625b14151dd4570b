using Mspgt.Tests.Cli;

namespace Mspgt.Tests.Checkpoints;

/// <summary>Model files reached through symbolic links (as in a Hugging Face hub snapshot), directories, FIFOs.</summary>
[Collection("Console")]
public class LinkedFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-links").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ASnapshotFolderOfLinksLoadsLikeTheFolderItself()
    {
        // The hub's layout: blobs/<hash> hold the bytes, snapshots/<sha>/<name> are relative links to them.
        string source = TestData.Path("fixtures", "tiny-qwen3");
        string blobs = Directory.CreateDirectory(Path.Combine(_dir, "blobs")).FullName;
        string snapshot = Directory.CreateDirectory(Path.Combine(_dir, "snapshots", "0123abcd")).FullName;
        int i = 0;
        foreach (var file in Directory.GetFiles(source))
        {
            string blob = Path.Combine(blobs, $"blob{i++}");
            File.Copy(file, blob);
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", Path.GetFileName(blob)));
        }
        var direct = CliHarness.Run("run", "--model", source, "--ids", "1,2,3", "--json");
        var linked = CliHarness.Run("run", "--model", snapshot, "--ids", "1,2,3", "--json");
        Assert.True(linked.Code == 0, linked.Err);
        Assert.Equal(direct.Out.Replace(source, "MODEL"), linked.Out.Replace(snapshot, "MODEL"));

        // The repository folder models--org--name resolves through refs/main; org/name through $HF_HOME/hub.
        string repository = Path.Combine(_dir, "hub", "models--acme--tiny-qwen3");
        Directory.CreateDirectory(Path.Combine(repository, "refs"));
        Directory.Move(blobs, Path.Combine(repository, "blobs"));
        Directory.Move(Path.Combine(_dir, "snapshots"), Path.Combine(repository, "snapshots"));
        Assert.Contains("refs/main", CliHarness.AssertOneLineError("run", "--model", repository, "--ids", "1,2,3"));
        File.WriteAllText(Path.Combine(repository, "refs", "main"), "0123abcd");
        Assert.Equal(direct.Out.Replace(source, "MODEL"), CliHarness.Run("run", "--model", repository, "--ids", "1,2,3", "--json").Out.Replace(Path.Combine(repository, "snapshots", "0123abcd"), "MODEL"));
        var (oldHome, oldCache) = (Environment.GetEnvironmentVariable("HF_HOME"), Environment.GetEnvironmentVariable("HF_HUB_CACHE"));
        Environment.SetEnvironmentVariable("HF_HOME", _dir);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", null);
        try
        {
            var byId = CliHarness.Run("run", "--model", "acme/tiny-qwen3", "--ids", "1,2,3", "--json");
            Assert.True(byId.Code == 0, byId.Err);
            Assert.Equal(direct.Out.Replace(source, "MODEL"), byId.Out.Replace(Path.Combine(repository, "snapshots", "0123abcd"), "MODEL"));
            Assert.Contains("file not found", CliHarness.AssertOneLineError("run", "--model", "acme/absent", "--ids", "1"));
        }
        finally { Environment.SetEnvironmentVariable("HF_HOME", oldHome); Environment.SetEnvironmentVariable("HF_HUB_CACHE", oldCache); }

        string gguf = Path.Combine(_dir, "model.gguf");
        File.CreateSymbolicLink(gguf, TestData.Path("fixtures", "tiny-llama.f32.gguf"));
        Assert.Equal(0, CliHarness.Run("run", "--model", gguf, "--ids", "1,2,3", "--json").Code);
    }

    [Fact]
    public async Task ADirectoryOrAFifoWhereAFileBelongsIsOneLineAndNeverHangs()
    {
        Assert.Contains("is a directory", CliHarness.AssertOneLineError("tokenize", "--tokenizer", TestData.Path("models", "stories260K", "tok512.bin"), "--file", _dir));
        Assert.Contains("is a directory", CliHarness.AssertOneLineError("analyze", "--corpus", _dir));
        string fifo = Path.Combine(_dir, "model.gguf");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!) mkfifo.WaitForExit();
        var run = Task.Run(() => CliHarness.AssertOneLineError("run", "--model", fifo, "--ids", "1"));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "reading a FIFO as a model hung");
        Assert.Equal($"error: {fifo}: is a FIFO, not a regular file", await run);
        Assert.Equal("error: /dev/zero: is a character device, not a regular file",
            CliHarness.AssertOneLineError("run", "--model", TestData.Path("models", "stories260K", "stories260K.bin"), "--tokenizer", "/dev/zero", "-p", "hi"));
    }
}
