using System.Buffers;
using Anpm.Abstractions;
using Anpm.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Anpm.Tensors;

namespace Anpm.Oracle;

/// <summary>The node's identity: the key it signs attestations and claims with. Set exactly one of the three.</summary>
public sealed class OracleNodeOptions
{
    /// <summary>A file holding the node's private key as hex (see <see cref="EthereumKey.FromFile"/>): the simple default.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The node's private key as hex (for development; prefer <see cref="KeyFile"/>).</summary>
    public string? KeyHex { get; set; }

    /// <summary>
    /// A signer of the application's own instead of a key: a KMS or HSM through Nethereum's <c>IEthExternalSigner</c>
    /// (<see cref="NethereumExternalSigner"/>), a Nethereum key (<see cref="NethereumKeySigner"/>), or any
    /// <see cref="IEthereumSigner"/>.
    /// </summary>
    public IEthereumSigner? Signer { get; set; }
}

/// <summary>Validates the oracle node's options at start, naming each bad one.</summary>
public sealed class OracleNodeOptionsValidator :
    IValidateOptions<OracleNodeOptions>, IValidateOptions<OnnxBackendOptions>, IValidateOptions<OracleRunnerOptions>
{
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OracleNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (new[] { !string.IsNullOrEmpty(options.KeyFile), !string.IsNullOrEmpty(options.KeyHex), options.Signer is not null }.Count(set => set) != 1)
        {
            return ValidateOptionsResult.Fail("OracleNodeOptions: set exactly one of KeyFile, KeyHex and Signer.");
        }

        return options.KeyFile is { Length: > 0 } file && !File.Exists(file)
            ? ValidateOptionsResult.Fail($"OracleNodeOptions.KeyFile: '{file}' does not exist.")
            : ValidateOptionsResult.Success;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OnnxBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Models.Count == 0)
        {
            failures.Add("OnnxBackendOptions.Models must name at least one model.");
        }

        failures.AddRange(options.Models.Where(m => !File.Exists(m.Value)).Select(m => $"OnnxBackendOptions.Models[{m.Key}]: file '{m.Value}' does not exist."));
        failures.AddRange(options.ModelSha256.Where(m => !options.Models.ContainsKey(m.Key)).Select(m => $"OnnxBackendOptions.ModelSha256[{m.Key}]: no model '{m.Key}' in Models."));
        failures.AddRange(options.ModelSha256.Where(m => !IsSha256(m.Value)).Select(m => $"OnnxBackendOptions.ModelSha256[{m.Key}] must be 0x and 64 hex digits, not '{m.Value}'."));
        if (!Enum.IsDefined(options.Device))
        {
            failures.Add($"OnnxBackendOptions.Device must be Auto, Cpu or Cuda, not {options.Device}.");
        }

        if (options.CudaDeviceId is < 0 or > 63)
        {
            failures.Add($"OnnxBackendOptions.CudaDeviceId must be 0 to 63, not {options.CudaDeviceId}.");
        }

        if (options.IntraOpThreads is < 0 or > 1024 || options.InterOpThreads is < 0 or > 1024)
        {
            failures.Add($"OnnxBackendOptions.IntraOpThreads and InterOpThreads must be 0 to 1024, not {options.IntraOpThreads} and {options.InterOpThreads}.");
        }

        if (options.TimeoutSeconds is < 1 or > 3600)
        {
            failures.Add($"OnnxBackendOptions.TimeoutSeconds must be 1 to 3600, not {options.TimeoutSeconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OracleRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxConcurrency is < 1 or > 256)
        {
            failures.Add($"OracleRunnerOptions.MaxConcurrency must be 1 to 256, not {options.MaxConcurrency}.");
        }

        if (options.MaxBatchSize is < 1 or > 1024)
        {
            failures.Add($"OracleRunnerOptions.MaxBatchSize must be 1 to 1024, not {options.MaxBatchSize}.");
        }

        if (options.IdlePollMilliseconds is < 10 or > 60_000)
        {
            failures.Add($"OracleRunnerOptions.IdlePollMilliseconds must be 10 to 60000, not {options.IdlePollMilliseconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsSha256(string text) =>
        text.Length == 66 && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !text.AsSpan(2).ContainsAnyExcept(HexDigits);
}

/// <summary>Registers an oracle node.</summary>
public static class OracleBuilderExtensions
{
    /// <summary>
    /// Adds an oracle node: the ONNX backend (<see cref="IInferenceBackend"/>), the node key and its
    /// <see cref="AttestationSigner"/> (in the signing domain of <c>AddSigning</c>), and the <see cref="OracleRunner"/> as a
    /// hosted service. Options are validated at start. Register an <see cref="IOracleTaskSource"/> too, e.g. with
    /// <see cref="AddHttpTaskSource"/>. Safe to call more than once.
    /// </summary>
    public static IAnpmBuilder AddOracleNode(
        this IAnpmBuilder builder, Action<OracleNodeOptions> node, Action<OnnxBackendOptions> backend, Action<OracleRunnerOptions>? runner = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(backend);
        var services = builder.Services;
        services.AddOptions<OnnxBackendOptions>().Configure(backend).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OnnxBackendOptions>, OracleNodeOptionsValidator>());
        services.TryAddSingleton<OnnxInferenceBackend>();
        services.TryAddSingleton<IInferenceBackend>(static sp => sp.GetRequiredService<OnnxInferenceBackend>());
        return AddNode(builder, node, runner);
    }

    /// <summary>
    /// Adds an oracle node that runs its models with <typeparamref name="TBackend"/> — a GPU vendor's own engine —
    /// instead of the ONNX backend: the node key and its <see cref="AttestationSigner"/>, and the <see cref="OracleRunner"/>.
    /// The backend is a singleton resolved from the container (its own options are its business). Register an
    /// <see cref="IOracleTaskSource"/> too.
    /// </summary>
    /// <typeparam name="TBackend">The backend; it writes canonical outputs (<see cref="ModelIo"/>) so that honest nodes agree.</typeparam>
    public static IAnpmBuilder AddOracleNode<TBackend>(this IAnpmBuilder builder, Action<OracleNodeOptions> node, Action<OracleRunnerOptions>? runner = null)
        where TBackend : class, IInferenceBackend
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<IInferenceBackend, TBackend>();
        return AddNode(builder, node, runner);
    }

    private static IAnpmBuilder AddNode(IAnpmBuilder builder, Action<OracleNodeOptions> node, Action<OracleRunnerOptions>? runner)
    {
        ArgumentNullException.ThrowIfNull(node);
        builder.AddSigning(static signing => signing.AddMessageTypes(AnpmOracleMessages.All)); // what the node signs
        var services = builder.Services;
        services.AddOptions<OracleNodeOptions>().Configure(node).ValidateOnStart();
        var runnerOptions = services.AddOptions<OracleRunnerOptions>().ValidateOnStartWith<OracleRunnerOptions, OracleRunnerOptionsValidator>();
        if (runner is not null)
        {
            runnerOptions.Configure(runner);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OracleNodeOptions>, OracleNodeOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OracleRunnerOptions>, OracleNodeOptionsValidator>());
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<OracleNodeOptions>>().Value;
            var signer = options.Signer ?? (options.KeyFile is { Length: > 0 } file ? EthereumKey.FromFile(file) : EthereumKey.FromHex(options.KeyHex!));
            return new AttestationSigner(signer, sp.GetRequiredService<SignedRequestVerifier>());
        });
        services.TryAddSingleton<OracleRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OracleRunner>(static sp => sp.GetRequiredService<OracleRunner>()));
        return builder;
    }

    /// <summary>Adds the <see cref="HttpOracleTaskSource"/> for the host at <paramref name="hostAddress"/> and the pools <paramref name="poolIds"/>.</summary>
    /// <exception cref="ArgumentException">No pool, or an empty pool id.</exception>
    public static IAnpmBuilder AddHttpTaskSource(this IAnpmBuilder builder, Uri hostAddress, params string[] poolIds)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(hostAddress);
        ArgumentNullException.ThrowIfNull(poolIds);
        var options = new HttpOracleTaskSourceOptions();
        foreach (var pool in poolIds)
        {
            ArgumentException.ThrowIfNullOrEmpty(pool, nameof(poolIds));
            options.PoolIds.Add(pool);
        }

        if (options.PoolIds.Count == 0)
        {
            throw new ArgumentException("Name at least one pool.", nameof(poolIds));
        }

        builder.Services.TryAddSingleton<IOracleTaskSource>(sp => new HttpOracleTaskSource(
            new HttpClient { BaseAddress = hostAddress },
            sp.GetRequiredService<AttestationSigner>(),
            options,
            sp.GetService<TimeProvider>()));
        return builder;
    }
}
