using System.Text.RegularExpressions;

namespace Anpm.Pools.Tests;

/// <summary>
/// docs/architecture.md shows the state machines as Mermaid diagrams generated from the code; this test fails when they
/// drift. With ANPM_UPDATE_DOCS=1 (ignored when CI=true) it writes the current diagrams into the page instead.
/// </summary>
public sealed partial class ArchitectureDocsTests
{
    [Fact]
    public void StateMachineDiagrams_MatchTheCode()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "architecture.md");
        var page = File.ReadAllText(path).ReplaceLineEndings("\n");
        var diagrams = new Dictionary<string, string>
        {
            ["Pool"] = PoolStateMachine.Definition.ToMermaid(),
            ["Contribution"] = ContributionStateMachine.Definition.ToMermaid(),
        };
        var updated = page;
        foreach (var (name, diagram) in diagrams)
        {
            var block = Block(name).Match(updated);
            Assert.True(block.Success, $"docs/architecture.md has no generated block for {name}.");
            updated = updated.Replace(block.Value, $"<!-- BEGIN GENERATED: {name} -->\n```mermaid\n{diagram.ReplaceLineEndings("\n").TrimEnd('\n')}\n```\n<!-- END GENERATED: {name} -->", StringComparison.Ordinal);
        }

        if (updated != page && Environment.GetEnvironmentVariable("ANPM_UPDATE_DOCS") == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            File.WriteAllText(path, updated);
            return;
        }

        Assert.True(updated == page, "docs/architecture.md's state machine diagrams are not the code's; rerun with ANPM_UPDATE_DOCS=1 after an intended change.");
    }

    private static Regex Block(string name) => new($"<!-- BEGIN GENERATED: {name} -->\\n(?:.*\\n)*?<!-- END GENERATED: {name} -->", RegexOptions.CultureInvariant);

    private static string RepositoryRoot() => Anpm.Testing.Repository.Root;
}
