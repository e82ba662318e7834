using System.Reflection;
using System.Text;

namespace Anpm.PublicApi.Tests;

/// <summary>
/// Every packable assembly's public surface must equal its approved text (src/&lt;Package&gt;/PublicAPI.approved.txt).
/// A change to the public API is deliberate: review the printed diff, then approve it.
/// </summary>
public sealed class PublicApiApprovalTests
{
    private const string ApproveVariable = "ANPM_APPROVE_PUBLIC_API";

    private static readonly string[] PackageNames =
    [
        typeof(Anpm.Abstractions.TokenAmount).Assembly.GetName().Name!,
        typeof(Anpm.Credits.Ledger).Assembly.GetName().Name!,
        typeof(Anpm.Storage.Sqlite.SqliteAnpmStore).Assembly.GetName().Name!,
        typeof(Anpm.Storage.Postgres.PostgresAnpmStore).Assembly.GetName().Name!,
        typeof(Anpm.Signing.EthereumKey).Assembly.GetName().Name!,
        typeof(Anpm.Pools.PoolStateMachine).Assembly.GetName().Name!,
        typeof(Anpm.Oracle.OnnxInferenceBackend).Assembly.GetName().Name!,
    ];

    public static TheoryData<string> Packages => new(PackageNames);

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_MatchesApprovedText(string package)
    {
        var assembly = Assembly.Load(package);
        var directory = Path.Combine(RepositoryRoot(), "src", package);
        var approvedPath = Path.Combine(directory, "PublicAPI.approved.txt");
        var receivedPath = Path.Combine(directory, "PublicAPI.received.txt");
        var received = PublicApiText.Generate(assembly);
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;
        if (string.Equals(approved, received, StringComparison.Ordinal))
        {
            File.Delete(receivedPath);
            return;
        }

        // CI never approves: a change must arrive with its approved text.
        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            File.WriteAllText(approvedPath, received);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail(
            $"The public API of {package} changed.\n{Diff(approved, received)}\n" +
            $"If the change is intended, approve it: copy {receivedPath} over {approvedPath}, " +
            $"or run the tests once with {ApproveVariable}=1, and commit the approved file.");
    }

    [Fact]
    public void EveryPackage_HasAnApprovalTest()
    {
        var source = Path.Combine(RepositoryRoot(), "src");
        var packages = Directory.GetDirectories(source).Where(d => Directory.GetFiles(d, "*.csproj").Length > 0).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(packages, PackageNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Generate_MemberAdded_TextChanges()
    {
        var before = PublicApiText.Generate([typeof(SampleBefore)]).Replace(nameof(SampleBefore), "Sample", StringComparison.Ordinal);
        var after = PublicApiText.Generate([typeof(SampleAfter)]).Replace(nameof(SampleAfter), "Sample", StringComparison.Ordinal);
        Assert.NotEqual(before, after);
        Assert.Contains("+        public string? Added(int count = 3);", Diff(before, after), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_RendersSignaturesWithNullability()
    {
        var text = PublicApiText.Generate([typeof(SampleAfter)]);
        Assert.Contains("public sealed class SampleAfter", text, StringComparison.Ordinal);
        Assert.Contains("public System.Collections.Generic.IReadOnlyList<string?> Names { get; init; }", text, StringComparison.Ordinal);
        Assert.Contains("public static bool TryRead(string? text, out int value);", text, StringComparison.Ordinal);
        Assert.Contains("public string? Added(int count = 3);", text, StringComparison.Ordinal);
    }

    // A minimal line diff: lines only in the approved text start with '-', lines only in the received text with '+'.
    private static string Diff(string approved, string received)
    {
        var oldLines = approved.Split('\n');
        var newLines = received.Split('\n');
        var builder = new StringBuilder();
        foreach (var line in oldLines.Except(newLines, StringComparer.Ordinal))
        {
            builder.Append('-').AppendLine(line);
        }

        foreach (var line in newLines.Except(oldLines, StringComparer.Ordinal))
        {
            builder.Append('+').AppendLine(line);
        }

        return builder.ToString();
    }

    private static string RepositoryRoot() => Anpm.Testing.Repository.Root;
}

public sealed class SampleBefore
{
    public IReadOnlyList<string?> Names { get; init; } = [];

    public static bool TryRead(string? text, out int value) => int.TryParse(text, out value);
}

public sealed class SampleAfter
{
    public IReadOnlyList<string?> Names { get; init; } = [];

    public static bool TryRead(string? text, out int value) => int.TryParse(text, out value);

    public string? Added(int count = 3) => count > 0 ? null : string.Empty;
}
