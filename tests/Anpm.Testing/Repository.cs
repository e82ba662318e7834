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

    /// <summary>
    /// The build output folder of another project of the solution (its folder under the repository root), in the
    /// configuration and target framework this test was built with: for child processes that must keep their own
    /// dependencies (a native library this test's folder holds in another build, say).
    /// </summary>
    public static string BuildOutput(params string[] projectFolder)
    {
        var output = new DirectoryInfo(System.IO.Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        return Path([.. projectFolder, "bin", output.Parent!.Name, output.Name]);
    }
}
