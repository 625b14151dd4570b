using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Mspgt.Tests.Cli;

/// <summary>The README's install story and its C# snippet, as a new user meets them.</summary>
[Collection("Console")]
public class PackagingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mspgt-pack").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    private static (int Code, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(300_000)) { p.Kill(true); Assert.Fail($"dotnet {string.Join(' ', args)} did not finish in 300 s"); }
        return (p.ExitCode, output + err.Result);
    }

    [Fact]
    public void DotnetPackMakesAToolCalledMspgtAndALibraryWithItsReadme()
    {
        string root = UsageTests.RepoRoot(), packages = Path.Combine(_dir, "packages");
        // The projects are built already (the test project references both); pack what was built.
        foreach (var project in new[] { "src/Mspgt/Mspgt.csproj", "src/Mspgt.Cli/Mspgt.Cli.csproj" })
        {
            var (code, output) = Dotnet(root, "pack", project, "-c", Configuration, "--no-build", "-o", packages);
            Assert.True(code == 0, output);
        }
        using (var library = ZipFile.OpenRead(Directory.GetFiles(packages, "Mspgt.0.*.nupkg").Single()))
        {
            Assert.Contains(library.Entries, e => e.FullName == "README.md");
            Assert.Contains(library.Entries, e => e.FullName == "lib/net10.0/Mspgt.Core.dll");
        }
        using (var tool = ZipFile.OpenRead(Directory.GetFiles(packages, "Mspgt.Cli.0.*.nupkg").Single()))
        {
            var settings = tool.Entries.Single(e => e.Name == "DotnetToolSettings.xml");
            using var reader = new StreamReader(settings.Open());
            Assert.Contains("Command Name=\"mspgt\"", reader.ReadToEnd());
        }
        // Installed as the README says (into a folder instead of the global one), it runs as plain `mspgt`.
        string tools = Path.Combine(_dir, "tools");
        var install = Dotnet(_dir, "tool", "install", "--tool-path", tools, "--add-source", packages, "Mspgt.Cli");
        Assert.True(install.Code == 0, install.Output);
        var psi = new ProcessStartInfo(Path.Combine(tools, "mspgt"), ["run", "--model", TestData.Path("models", "stories260K", "stories260K.bin"), "-p", "Once upon a time", "--json"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("\"nll\":", json);
    }

    [Fact]
    public void TheReadmesCSharpSnippetCompilesAndRuns()
    {
        string readme = File.ReadAllText(Path.Combine(UsageTests.RepoRoot(), "README.md"));
        var snippets = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(snippets);
        foreach (var snippet in snippets)
        {
            // The README's paths are relative to the repository root; shared/ lies beside it.
            string code = snippet.Replace("\"../shared/", $"\"{TestData.SharedDir}/");
            var references = AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => !a.IsDynamic && a.Location.Length > 0)
                .Select(a => MetadataReference.CreateFromFile(a.Location))
                .Concat(((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(p => MetadataReference.CreateFromFile(p)))
                .GroupBy(r => Path.GetFileName(r.FilePath)).Select(g => g.First());
            _ = typeof(Mspgt.Loading.ModelLoader); // the library is loaded, so it is among the references
            var globalUsings = string.Join("\n", new[] { "System", "System.IO", "System.Linq", "System.Collections.Generic" }.Select(n => $"global using {n};"));
            var compilation = CSharpCompilation.Create("ReadmeSnippet",
                [CSharpSyntaxTree.ParseText(globalUsings), CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest))],
                references, new CSharpCompilationOptions(OutputKind.ConsoleApplication));
            using var image = new MemoryStream();
            var emitted = compilation.Emit(image);
            Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
            var context = new AssemblyLoadContext("readme", isCollectible: true);
            try
            {
                var assembly = context.LoadFromStream(new MemoryStream(image.ToArray()));
                var (oldOut, output) = (Console.Out, new StringWriter());
                Console.SetOut(output);
                try { assembly.EntryPoint!.Invoke(null, assembly.EntryPoint.GetParameters().Length == 0 ? null : [Array.Empty<string>()]); }
                catch (TargetInvocationException e) { Assert.Fail($"the README snippet threw: {e.InnerException}"); }
                finally { Console.SetOut(oldOut); }
            }
            finally { context.Unload(); }
        }
    }
}
