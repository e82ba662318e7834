using System.Xml.Linq;

namespace Anpm.Packaging.Tests;

/// <summary>
/// Every src package as `dotnet pack` produces it: metadata, package README, SourceLink commit, XML docs, symbols, only
/// its own library (no host, test or bench code), and exactly the dependencies it needs; then a consumer project outside
/// the solution uses the packages to run a small flow end to end.
/// </summary>
public sealed class PackageTests(PackedPackages packed) : IClassFixture<PackedPackages>
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    /// <summary>What each package may depend on, and nothing else.</summary>
    private static readonly Dictionary<string, string[]> Dependencies = new()
    {
        ["Anpm.Abstractions"] = ["Microsoft.Extensions.DependencyInjection.Abstractions", "Microsoft.Extensions.Options"],
        ["Anpm.Credits"] = ["Anpm.Abstractions", "Microsoft.Extensions.Logging.Abstractions"],
        ["Anpm.Gateway.Evm"] = ["Anpm.Credits", "BouncyCastle.Cryptography", "Microsoft.Extensions.Diagnostics.HealthChecks", "Microsoft.Extensions.Hosting.Abstractions", "Nethereum.Web3", "Newtonsoft.Json"],
        ["Anpm.Hosting"] = ["Anpm.Pools", "Microsoft.Extensions.Diagnostics", "Microsoft.Extensions.Diagnostics.HealthChecks", "Microsoft.Extensions.Hosting.Abstractions"],
        ["Anpm.Signing"] = ["Anpm.Abstractions", "BouncyCastle.Cryptography", "Nethereum.Signer", "Nethereum.Signer.EIP712", "Newtonsoft.Json"],
        ["Anpm.Pools"] = ["Anpm.Abstractions", "Anpm.Credits", "Anpm.Signing", "Anpm.Tensors"],
        ["Anpm.Tensors"] = ["Anpm.Abstractions"],
        // The ONNX Runtime managed API only: the application adds one native package (GPU or CPU).
        ["Anpm.Oracle"] = ["Anpm.Abstractions", "Anpm.Signing", "Anpm.Tensors", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Diagnostics.HealthChecks.Abstractions", "Microsoft.ML.OnnxRuntime.Managed"],
        ["Anpm.Storage.InMemory"] = ["Anpm.Abstractions"],
        ["Anpm.AspNetCore"] = ["Anpm.Hosting", "Anpm.Pools", "AspNetCore.HealthChecks.UI.Client"],
        ["Anpm.Storage.Sqlite"] = ["Anpm.Abstractions", "Microsoft.Data.Sqlite", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Logging.Abstractions", "SQLitePCLRaw.bundle_e_sqlite3", "SQLitePCLRaw.core"],
        ["Anpm.Storage.Postgres"] = ["Anpm.Abstractions", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Logging.Abstractions", "Npgsql"],
    };

    public static TheoryData<string> Ids => new(PackedPackages.Ids);

    [Fact]
    public void OnlyTheSrcPackagesArePacked()
    {
        var packages = Directory.GetFiles(packed.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var expected = PackedPackages.Ids.SelectMany(id => new[] { $"{id}.{packed.Version}.nupkg", $"{id}.{packed.Version}.snupkg" }).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, packages);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task Nuspec_MetadataFilesAndDependencies(string id)
    {
        var package = packed.Package(id);
        var nuspec = XDocument.Parse(PackedPackages.ReadEntry(package, id + ".nuspec"));
        var metadata = nuspec.Root!.Element(Nuspec + "metadata")!;
        string? Value(string name) => metadata.Element(Nuspec + name)?.Value;

        Assert.Equal((id, packed.Version, "Anpm contributors", "README.md"), (Value("id"), Value("version"), Value("authors"), Value("readme")));
        Assert.Equal(("expression", "MIT"), (metadata.Element(Nuspec + "license")!.Attribute("type")!.Value, Value("license")));
        Assert.True(Value("description")!.Length > 40, $"{id}: the description says too little.");
        Assert.Contains("anpm", Value("tags")!.Split(' '));
        var (code, head) = await PackedPackages.RunAsync("git", PackedPackages.Root, TimeSpan.FromSeconds(30), "rev-parse", "HEAD");
        Assert.Equal(0, code);
        var repository = metadata.Element(Nuspec + "repository")!;
        Assert.Equal(("git", PackedPackages.RepositoryUrl, head.Trim()), (repository.Attribute("type")?.Value, repository.Attribute("url")?.Value, repository.Attribute("commit")!.Value));

        var dependencies = metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group").Single();
        Assert.Equal("net10.0", dependencies.Attribute("targetFramework")!.Value);
        Assert.Equal(Dependencies[id].Order(StringComparer.Ordinal), dependencies.Elements(Nuspec + "dependency").Select(d => d.Attribute("id")!.Value).Order(StringComparer.Ordinal));
        Assert.All(dependencies.Elements(Nuspec + "dependency").Where(d => d.Attribute("id")!.Value.StartsWith("Anpm.", StringComparison.Ordinal)),
            d => Assert.Equal(packed.Version, d.Attribute("version")!.Value));
        if (id == "Anpm.Oracle")
        {
            // No native ONNX Runtime and no build logic: nothing runs at a consumer's build, the application picks the native package.
            Assert.Equal("1.31.1", dependencies.Elements(Nuspec + "dependency").Single(d => d.Attribute("id")!.Value == "Microsoft.ML.OnnxRuntime.Managed").Attribute("version")!.Value);
            Assert.DoesNotContain(dependencies.Elements(Nuspec + "dependency"), d => d.Attribute("id")!.Value is "Microsoft.ML.OnnxRuntime" or "Microsoft.ML.OnnxRuntime.Gpu" or "Microsoft.ML.OnnxRuntime.Gpu.Linux");
        }

        var files = PackedPackages.Entries(package).Where(f => !f.StartsWith("_rels/", StringComparison.Ordinal) && !f.StartsWith("package/", StringComparison.Ordinal) && f != "[Content_Types].xml");
        string[] expected = [$"{id}.nuspec", "README.md", $"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), files.Order(StringComparer.Ordinal));
        var readme = PackedPackages.ReadEntry(package, "README.md");
        Assert.Contains("```csharp", readme, StringComparison.Ordinal); // usage, not just a title
        Assert.Contains($"lib/net10.0/{id}.pdb", PackedPackages.Entries(packed.Package(id, "snupkg")));

        // SourceLink: the symbols map every source file to the named repository at this commit.
        var pdb = PackedPackages.ReadEntry(packed.Package(id, "snupkg"), $"lib/net10.0/{id}.pdb");
        Assert.Contains($"{{\"documents\":{{\"/_/*\":\"https://raw.githubusercontent.com/anpm-test/anpm/{head.Trim()}/*\"}}}}", pdb, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consumer_OutsideTheSolution_RunsAFlowFromThePackedPackages()
    {
        var folder = await ConsumerAsync("consumer", "Anpm.Consumer.csproj");
        try
        {
            using var vectors = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(PackedPackages.Root, "tools", "models", "digits.vectors.json")));
            var pixels = string.Join(",", vectors.RootElement.GetProperty("inputs")[0].EnumerateArray().Select(p => p.GetRawText()));
            var label = vectors.RootElement.GetProperty("expectedLabels")[0].GetInt32();
            // As a GPU vendor's machine may be: no Node.js, no npm — PATH holds the .NET SDK alone, so nothing in the build can run them.
            var dotnet = DotnetFolder();
            Assert.False(File.Exists(Path.Combine(dotnet, "node")) || File.Exists(Path.Combine(dotnet, "npm")), $"{dotnet} holds node or npm.");
            var (code, output) = await PackedPackages.RunAsync(Path.Combine(dotnet, "dotnet"), folder, TimeSpan.FromMinutes(8), new Dictionary<string, string> { ["PATH"] = dotnet },
                "run", "--project", "Anpm.Consumer.csproj", "-c", "Release", "-p:AnpmVersion=" + packed.Version, "--",
                Path.Combine(PackedPackages.Root, "tools", "models", "digits.onnx"), pixels);
            Assert.True(code == 0, "The consumer failed:\n" + output);
            Assert.Contains("notice=credits-bought:2000", output, StringComparison.Ordinal);
            Assert.Contains("moved=Moved account=1970 pool=30", output, StringComparison.Ordinal);
            Assert.Contains($"label={label} verified=True charged=10", output, StringComparison.Ordinal);
            Assert.Contains("ledger=sound", output, StringComparison.Ordinal);
            Assert.Contains("onnxruntime=1.31.0 device=", output, StringComparison.Ordinal); // the GPU package's native library, from NuGet
            var native = Path.Combine(folder, "bin", "Release", "net10.0", "runtimes", "linux-x64", "native");
            Assert.True(File.Exists(Path.Combine(native, "libonnxruntime.so")) && File.Exists(Path.Combine(native, "libonnxruntime_providers_cuda.so")),
                "ONNX Runtime's native libraries (with the CUDA provider) come from the GPU package.");
            Assert.False(Directory.Exists(Path.Combine(folder, "obj", "anpm")), "Nothing was fetched into obj at build time.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AspNetConsumer_TwoCalls_ServesTheApiAndASignedFlow()
    {
        var folder = await ConsumerAsync("consumer-aspnet", "Anpm.AspNetConsumer.csproj");
        try
        {
            var (code, output) = await PackedPackages.RunAsync("dotnet", folder, TimeSpan.FromMinutes(8),
                "run", "--project", "Anpm.AspNetConsumer.csproj", "-c", "Release", "-p:AnpmVersion=" + packed.Version);
            Assert.True(code == 0, "The ASP.NET consumer failed:\n" + output);
            Assert.Contains("domain=ANPM", output, StringComparison.Ordinal);
            Assert.Contains("created=201 replayed=201:True conflict=409", output, StringComparison.Ordinal);
            Assert.Contains("pool=stake status=Active owner=True", output, StringComparison.Ordinal);
            Assert.Contains("health=Healthy", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// A copy of the consumer project in tests/<paramref name="source"/> in a temporary folder, with the packed packages as
    /// one more package source (the machine's own sources stay; nothing else is named here).
    /// </summary>
    private async Task<string> ConsumerAsync(string source, string project)
    {
        var folder = Directory.CreateTempSubdirectory("anpm-" + source + "-").FullName;
        foreach (var file in new[] { project, "Program.cs" })
        {
            File.Copy(Path.Combine(PackedPackages.Root, "tests", source, file), Path.Combine(folder, file));
        }

        await File.WriteAllTextAsync(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="anpm-packed" value="{packed.Folder}" />
              </packageSources>
            </configuration>
            """);
        return folder;
    }

    /// <summary>The folder of the .NET SDK's own <c>dotnet</c> (the one on PATH, links followed).</summary>
    private static string DotnetFolder()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = new FileInfo(Path.Combine(folder, "dotnet"));
            if (candidate.Exists)
            {
                return Path.GetDirectoryName(candidate.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate.FullName)!;
            }
        }

        throw new InvalidOperationException("dotnet is not on PATH.");
    }
}
