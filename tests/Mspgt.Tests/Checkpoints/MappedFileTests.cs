using Mspgt.Checkpoints;

namespace Mspgt.Tests.Checkpoints;

public class MappedFileTests
{
    [Fact]
    public void DroppingResidentPagesKeepsEveryByteReadable()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("mspgt-map-").FullName, "w.bin");
        var bytes = new byte[3 * 4096 + 123];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        using (var file = MappedFile.Open(path))
        {
            Assert.Equal(bytes, file.Span(0, bytes.Length, "all").ToArray());
            if (OperatingSystem.IsLinux()) Assert.True(ResidentKiB(path) >= 16, $"{ResidentKiB(path)} KiB resident after reading every page");
            file.DropResidentPages();
            if (OperatingSystem.IsLinux()) Assert.Equal(0, ResidentKiB(path));
            Assert.Equal(bytes, file.Span(0, bytes.Length, "all").ToArray());   // faulted back in from the file
            file.DropResidentPages();
            Assert.Equal(bytes[4000..9000], file.Span(4000, 5000, "middle").ToArray());
        }
        using (var empty = MappedFile.Open(WriteEmpty(path))) empty.DropResidentPages();   // nothing mapped: no-op
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    // The Rss of this process's mapping of the file, from /proc/self/smaps (kB).
    private static int ResidentKiB(string file)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (char.IsAsciiHexDigit(line[0]) && line.Contains('-')) inside = line.EndsWith(file, StringComparison.Ordinal);
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        throw new InvalidOperationException($"{file} is not mapped");
    }

    private static string WriteEmpty(string beside)
    {
        string p = beside + ".empty";
        File.WriteAllBytes(p, []);
        return p;
    }

    [Fact]
    public void AModelWhoseWeightsLeftTheResidentSetGivesTheSameLogits()
    {
        foreach (var file in new[] { "tinyllamas-stories-260k-f32.gguf", "stories260K.bin" })
        {
            using var m = Mspgt.Loading.ModelLoader.Load(TestData.Path("models", "stories260K", file));
            int[] ids = [1, 403, 407, 261, 378, 410, 261];
            var before = m.Decoder.Forward(ids);
            m.DropResidentWeights();
            Assert.Equal(before, m.Decoder.Forward(ids));
        }
    }
}
