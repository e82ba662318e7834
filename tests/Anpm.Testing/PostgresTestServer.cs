using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Anpm.Testing;

/// <summary>
/// A PostgreSQL server for tests: the one named by ANPM_TEST_POSTGRES (a connection string), or else a throwaway cluster
/// started from the installed PostgreSQL binaries — initdb as user postgres into a temporary folder, listening on
/// 127.0.0.1 only at a random port, stopped and removed on dispose. A missing PostgreSQL is a failure, never a skip.
/// </summary>
public sealed class PostgresTestServer : IAsyncDisposable
{
    private const string ConnectionVariable = "ANPM_TEST_POSTGRES";
    private readonly string? _root;
    private readonly string? _binaries;

    private PostgresTestServer(string connectionString, string? root, string? binaries)
    {
        ConnectionString = connectionString;
        _root = root;
        _binaries = binaries;
    }

    /// <summary>A connection string to the server's <c>postgres</c> database as a superuser.</summary>
    public string ConnectionString { get; }

    /// <summary>Connects to ANPM_TEST_POSTGRES, or starts a throwaway cluster.</summary>
    /// <exception cref="InvalidOperationException">PostgreSQL is not installed or did not start; the message says how to fix it.</exception>
    public static async Task<PostgresTestServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } configured)
        {
            return new PostgresTestServer(configured, null, null);
        }

        var binaries = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin. Install them (apt-get install postgresql-15; " +
            $"eng/test.sh does this) or set {ConnectionVariable} to a connection string.");
        var root = Path.Combine(Path.GetTempPath(), "anpm-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var data = Path.Combine(root, "data");
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", $"postgres:postgres {root}");
        }

        var port = FreePort();
        try
        {
            await RunAsPostgresAsync(asRoot, Path.Combine(binaries, "initdb"), $"-D {data} -A trust -U postgres -E UTF8 --locale=C --no-sync");
            await RunAsPostgresAsync(
                asRoot,
                Path.Combine(binaries, "pg_ctl"),
                $"-D {data} -l {Path.Combine(root, "server.log")} -w -t 60 -o \"-k {root} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=200\" start");
        }
        catch
        {
            TryDelete(root);
            throw;
        }

        return new PostgresTestServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true", root, binaries);
    }

    /// <summary>Stops the throwaway cluster (immediately) and removes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_root is null || _binaries is null)
        {
            return;
        }

        try
        {
            await RunAsPostgresAsync(Environment.UserName == "root", Path.Combine(_binaries, "pg_ctl"), $"-D {Path.Combine(_root, "data")} -m immediate -w stop");
        }
        finally
        {
            TryDelete(_root);
        }
    }

    private static string? FindBinaries()
    {
        const string installed = "/usr/lib/postgresql";
        if (!Directory.Exists(installed))
        {
            return null;
        }

        return Directory.GetDirectories(installed)
            .Select(version => Path.Combine(version, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
            .OrderByDescending(bin => bin.EndsWith("/15/bin", StringComparison.Ordinal))
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunAsPostgresAsync(bool asRoot, string program, string arguments) =>
        asRoot ? RunAsync("runuser", $"-u postgres -- {program} {arguments}") : RunAsync(program, arguments);

    private static async Task RunAsync(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments} failed ({process.ExitCode}): {await error}{await output}");
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
