using System.Reflection;
using System.Text;
using PublicApiGenerator;

namespace Anpm.PublicApi.Tests;

/// <summary>
/// Every packable assembly's public surface, as PublicApiGenerator prints it, must equal its approved text
/// (src/&lt;Package&gt;/PublicAPI.approved.txt). A change to the public API is deliberate: review the printed diff, then
/// approve it. PublicApiGenerator prints <c>static abstract</c> interface members as instance members; those are
/// checked apart by reflection (<see cref="StaticAbstractMembers_AreTheApprovedOnes"/>).
/// </summary>
public sealed class PublicApiApprovalTests
{
    private const string ApproveVariable = "ANPM_APPROVE_PUBLIC_API";

    private static readonly string[] PackageNames =
    [
        typeof(Anpm.Abstractions.TokenAmount).Assembly.GetName().Name!,
        typeof(Anpm.Credits.Ledger).Assembly.GetName().Name!,
        typeof(Anpm.Storage.InMemory.InMemoryAnpmStore).Assembly.GetName().Name!,
        typeof(Anpm.AspNetCore.SignedRequest).Assembly.GetName().Name!,
        typeof(Anpm.Storage.Sqlite.SqliteAnpmStore).Assembly.GetName().Name!,
        typeof(Anpm.Storage.Postgres.PostgresAnpmStore).Assembly.GetName().Name!,
        typeof(Anpm.Signing.EthereumKey).Assembly.GetName().Name!,
        typeof(Anpm.Pools.PoolStateMachine).Assembly.GetName().Name!,
        typeof(Anpm.Oracle.OnnxInferenceBackend).Assembly.GetName().Name!,
        typeof(Anpm.Gateway.Evm.EvmFinality).Assembly.GetName().Name!,
        typeof(Anpm.Hosting.AnpmJobsOptions).Assembly.GetName().Name!,
        typeof(Anpm.Tensors.ModelIo).Assembly.GetName().Name!,
    ];

    // PublicApiGenerator skips System.* and Microsoft.* namespaces by default; the packages' entry points live in these
    // (AddAnpm, AddAnpmApi, AddAnpmJobs, AddEvmGateway, MapAnpmApi, RequireSignedMessage), so they are printed too.
    private static readonly ApiGeneratorOptions Options = new()
    {
        IncludeAssemblyAttributes = false,
        AllowNamespacePrefixes = ["Microsoft.Extensions.DependencyInjection", "Microsoft.AspNetCore"],
    };

    public static TheoryData<string> Packages => new(PackageNames);

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_MatchesApprovedText(string package)
    {
        var assembly = Assembly.Load(package);
        var directory = Path.Combine(RepositoryRoot(), "src", package);
        var approvedPath = Path.Combine(directory, "PublicAPI.approved.txt");
        var receivedPath = Path.Combine(directory, "PublicAPI.received.txt");
        var received = Generate(assembly);
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
    public void EntryPoints_InMicrosoftNamespaces_AreInTheApprovedText()
    {
        var aspNetCore = Generate(typeof(Anpm.AspNetCore.SignedRequest).Assembly);
        Assert.Contains("public static Microsoft.Extensions.DependencyInjection.IServiceCollection AddAnpmApi(", aspNetCore, StringComparison.Ordinal);
        Assert.Contains("RequireSignedMessage(this Microsoft.AspNetCore.Builder.RouteHandlerBuilder route", aspNetCore, StringComparison.Ordinal);
        Assert.Contains("AddAnpmJobs(this Microsoft.Extensions.DependencyInjection.IServiceCollection services", Generate(typeof(Anpm.Hosting.AnpmJobsOptions).Assembly), StringComparison.Ordinal);
        Assert.Contains("AddAnpm(this Microsoft.Extensions.DependencyInjection.IServiceCollection services", Generate(typeof(Anpm.Abstractions.TokenAmount).Assembly), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_MemberAdded_TextChanges()
    {
        var before = SampleText(typeof(SampleBefore));
        var after = SampleText(typeof(SampleAfter));
        Assert.NotEqual(before, after);
        Assert.Contains("+        public string? Added(int count = 3) { }", Diff(before, after), StringComparison.Ordinal);
        Assert.Contains("public System.Collections.Generic.IReadOnlyList<string?> Names { get; init; }", after, StringComparison.Ordinal);
    }

    /// <summary>
    /// The static abstract (and static virtual) members of the packages' interfaces, which the approved text shows as
    /// instance members: any change to them must change this list too.
    /// </summary>
    [Fact]
    public void StaticAbstractMembers_AreTheApprovedOnes()
    {
        var members = PackageNames.Select(Assembly.Load)
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t.IsInterface)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.IsAbstract || m.IsVirtual)
                .Select(m => $"{t.FullName}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => $"{(p.IsOut ? "out " : string.Empty)}{Name(p.ParameterType)}"))}) → {Name(m.ReturnType)}: {(m.IsAbstract ? "abstract" : "virtual")}"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(["Anpm.Abstractions.IIdentifier`1.TryParse(String, out TSelf, out String) → Boolean: abstract"], members);

        static string Name(Type type) => (type.IsByRef ? type.GetElementType()! : type).Name;
    }

    private static string Generate(Assembly assembly) =>
        assembly.GeneratePublicApi(Options).ReplaceLineEndings("\n");

    private static string SampleText(Type type) =>
        new[] { type }.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).Replace(type.Name, "Sample", StringComparison.Ordinal).ReplaceLineEndings("\n");

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
