using Anpm.Oracle;

namespace Anpm.OracleNode;

/// <summary>
/// The configuration section <c>OracleNode</c>: everything the node needs, from appsettings.json, appsettings.{Environment}.json
/// or environment variables (<c>OracleNode__HostUrl</c>, <c>OracleNode__Pools__0</c>, <c>OracleNode__Models__digits__Sha256</c>, …).
/// Relative paths are relative to the node's content root (the folder it runs from).
/// </summary>
public sealed class NodeSettings
{
    /// <summary>The section's name.</summary>
    public const string Section = "OracleNode";

    /// <summary><c>HostUrl</c>: the host whose oracle routes the node calls (the wire contract's), e.g. <c>http://127.0.0.1:5000/</c>. Required.</summary>
    public Uri? HostUrl { get; set; }

    /// <summary><c>Pools</c>: the pools whose tasks the node claims, in turn. At least one; the node's address must be one of each pool's oracles.</summary>
    public List<string> Pools { get; } = [];

    /// <summary><c>KeyFile</c>: the node's private key as hex; its address is the oracle address. In Development a missing file is created.</summary>
    public string KeyFile { get; set; } = "data/oracle.key";

    /// <summary><c>ModelsFolder</c>: where the model files are. Default: the <c>models</c> folder beside the node's assembly.</summary>
    public string? ModelsFolder { get; set; }

    /// <summary><c>Models</c>: model id (as the pools name it) → its file in the models folder and the SHA-256 the pools expect.</summary>
    public Dictionary<string, ModelSettings> Models { get; } = new(StringComparer.Ordinal);

    /// <summary><c>Device</c>: Auto (CUDA when it loads, else the CPU with one warning), Cuda (or refuse to start) or Cpu. Default Auto.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Auto;

    /// <summary><c>CudaDeviceId</c>: the GPU to use. Default 0.</summary>
    public int CudaDeviceId { get; set; }

    /// <summary><c>MaxConcurrency</c>: tasks (or batches) run at once. Default 2.</summary>
    public int MaxConcurrency { get; set; } = 2;

    /// <summary><c>MaxBatchSize</c>: queued tasks of one model run as one batch (1 = off). Default 1.</summary>
    public int MaxBatchSize { get; set; } = 1;

    /// <summary><c>BatchWaitMilliseconds</c>: how long a batch waits for more tasks. Default 5.</summary>
    public int BatchWaitMilliseconds { get; set; } = 5;

    /// <summary><c>ShutdownGraceMilliseconds</c>: on stop, how long running tasks may finish before they are reported as failed. Default 10 000.</summary>
    public int ShutdownGraceMilliseconds { get; set; } = 10_000;

    /// <summary><c>HostWaitSeconds</c>: how long to wait at start for the host to answer (to read its EIP-712 domain). Default 60.</summary>
    public int HostWaitSeconds { get; set; } = 60;

    /// <summary><c>Domain</c>: the host's EIP-712 domain. When <c>VerifyingContract</c> is empty it is read from the host's <c>GET /api/v1/eip712</c>.</summary>
    public DomainSettings Domain { get; } = new();

    /// <summary>Every problem with the settings, each naming its key; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (HostUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"{Section}:HostUrl must be an absolute http(s) address, not '{HostUrl}'.");
        }

        if (Pools.Count == 0 || Pools.Any(string.IsNullOrWhiteSpace))
        {
            problems.Add($"{Section}:Pools must name at least one pool, none empty.");
        }

        if (string.IsNullOrWhiteSpace(KeyFile))
        {
            problems.Add($"{Section}:KeyFile must name the node's key file.");
        }

        if (Models.Count == 0)
        {
            problems.Add($"{Section}:Models must name at least one model (id → File, Sha256).");
        }

        problems.AddRange(Models.Where(m => string.IsNullOrWhiteSpace(m.Value.File)).Select(m => $"{Section}:Models:{m.Key}:File must name the model's file."));
        if (!Enum.IsDefined(Device))
        {
            problems.Add($"{Section}:Device must be Auto, Cuda or Cpu, not {Device}.");
        }

        if (HostWaitSeconds is < 0 or > 3600)
        {
            problems.Add($"{Section}:HostWaitSeconds must be 0 to 3600, not {HostWaitSeconds}.");
        }

        return problems;
    }
}

/// <summary>One model: <c>File</c> in the models folder, and optionally the <c>Sha256</c> its pools name (a different file is refused at start).</summary>
public sealed class ModelSettings
{
    /// <summary>The file name (or a path relative to the models folder).</summary>
    public string File { get; set; } = string.Empty;

    /// <summary><c>0x</c> + 64 hex digits, or null not to check beyond the tasks' own model hash.</summary>
    public string? Sha256 { get; set; }
}

/// <summary>The host's EIP-712 domain: the node signs its claims and attestations in it.</summary>
public sealed class DomainSettings
{
    /// <summary>The domain name. Default <c>ANPM</c>.</summary>
    public string Name { get; set; } = "ANPM";

    /// <summary>The domain version. Default <c>1</c>.</summary>
    public string Version { get; set; } = "1";

    /// <summary>The chain id. Default 31337.</summary>
    public ulong ChainId { get; set; } = 31337;

    /// <summary>The pool manager's address; empty: read the whole domain from the host.</summary>
    public string? VerifyingContract { get; set; }
}
