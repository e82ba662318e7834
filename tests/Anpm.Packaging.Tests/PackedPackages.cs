using System.Diagnostics;
using System.IO.Compression;

namespace Anpm.Packaging.Tests;

/// <summary>
/// The src packages packed once for the test class, with a version of their own (0.1.0-test.&lt;ticks&gt;, so no NuGet
/// cache holds an older build under it), into a temporary folder.
/// </summary>
public sealed class PackedPackages : IAsyncLifetime
{
    public static readonly string[] Ids =
        ["Anpm.Abstractions", "Anpm.AspNetCore", "Anpm.Credits", "Anpm.Gateway.Evm", "Anpm.Hosting", "Anpm.Oracle", "Anpm.Pools", "Anpm.Signing", "Anpm.Storage.InMemory", "Anpm.Storage.Postgres", "Anpm.Storage.Sqlite", "Anpm.Tensors"];

    /// <summary>The repository a publisher would name (AnpmRepositoryUrl): SourceLink and the nuspec point at it.</summary>
    public const string RepositoryUrl = "https://github.com/anpm-test/anpm";

    public string Folder { get; } = Directory.CreateTempSubdirectory("anpm-packages-").FullName;

    public string Version { get; } = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";

    public static string Root { get; } = RepositoryRoot();

    public async Task InitializeAsync()
    {
        var (code, output) = await RunAsync("dotnet", Root, TimeSpan.FromMinutes(8),
            "pack", "Anpm.Packages.slnf", "-c", "Release", "-o", Folder, "-p:VersionSuffix=" + Version["0.1.0-".Length..], "-p:ContinuousIntegrationBuild=true",
            "-p:AnpmRepositoryUrl=" + RepositoryUrl);
        Assert.True(code == 0, "dotnet pack failed:\n" + output);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    public string Package(string id, string extension = "nupkg") => Path.Combine(Folder, $"{id}.{Version}.{extension}");

    public static IReadOnlyList<string> Entries(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    public static string ReadEntry(string package, string name)
    {
        using var zip = ZipFile.OpenRead(package);
        using var reader = new StreamReader(zip.Entries.Single(e => e.FullName == name).Open());
        return reader.ReadToEnd();
    }

    /// <summary>Runs a process; its exit code and its output and errors together.</summary>
    public static Task<(int Code, string Output)> RunAsync(string file, string folder, TimeSpan timeout, params string[] arguments) =>
        RunAsync(file, folder, timeout, new Dictionary<string, string>(), arguments);

    /// <summary>Runs a process with some environment variables set; its exit code and its output and errors together.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, string folder, TimeSpan timeout, Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException(file + " did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} took longer than {timeout}.\n{await output}\n{await errors}");
        }

        return (process.ExitCode, await output + await errors);
    }

    private static string RepositoryRoot() => Anpm.Testing.Repository.Root;
}
