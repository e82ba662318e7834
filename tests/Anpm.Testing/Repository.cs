namespace Anpm.Testing;

/// <summary>Where the repository is, for tests that read its files (models, docs, package sources, Node scripts).</summary>
public static class Repository
{
    private static readonly Lazy<string> RootFolder = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Anpm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Anpm.sln was not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The folder holding Anpm.sln.</summary>
    public static string Root => RootFolder.Value;

    /// <summary>A path under the repository root.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
