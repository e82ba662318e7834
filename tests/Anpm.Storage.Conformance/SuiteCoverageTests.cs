namespace Anpm.Storage.Conformance;

public sealed class SuiteCoverageTests
{
    private static readonly string[] Stores = ["InMemory", "Sqlite", "Postgres"];

    /// <summary>Every conformance suite is derived once for every store, so no store skips a suite.</summary>
    [Fact]
    public void EverySuite_IsDerivedForEveryStore()
    {
        var types = typeof(SuiteCoverageTests).Assembly.GetTypes();
        var suites = types.Where(t => t.IsAbstract && t.IsSubclassOf(typeof(ConformanceSuite))).ToList();
        Assert.NotEmpty(suites);
        foreach (var suite in suites)
        {
            foreach (var store in Stores)
            {
                var derived = types.Where(t => !t.IsAbstract && t.IsSubclassOf(suite) && t.Name.StartsWith(store, StringComparison.Ordinal)).ToList();
                Assert.True(derived.Count == 1, $"{suite.Name} must be derived exactly once for the {store} store; found {derived.Count}.");
            }
        }
    }
}
