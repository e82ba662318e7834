using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.ReferenceHost;

/// <summary>
/// The host's configuration, section <c>Anpm</c> (docs/reference/configuration.md). In Development the roles default to
/// generated development keys and the chain to 31337; anywhere else the host refuses to start unless
/// <see cref="RequiredOutsideDevelopment"/> are all configured.
/// </summary>
public sealed class AnpmHostOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Anpm";

    /// <summary>The settings a host outside Development must have: it never runs on development keys or a development chain.</summary>
    public static readonly IReadOnlyList<string> RequiredOutsideDevelopment = ["Anpm:ChainId", "Anpm:ManagerAddress", "Anpm:Admins", "Anpm:Feeder", "Anpm:Treasury", "Anpm:Gateway"];

    /// <summary><c>Anpm:ChainId</c>: the EIP-712 domain's chain id. Default in Development 31337; required elsewhere.</summary>
    public ulong? ChainId { get; set; }

    /// <summary><c>Anpm:ManagerAddress</c>: the EIP-712 verifying contract and the address tokens are sent to. Default in Development: a development key.</summary>
    public string? ManagerAddress { get; set; }

    /// <summary><c>Anpm:Admins</c>: admin addresses. Default: a development key.</summary>
    public List<string> Admins { get; } = [];

    /// <summary><c>Anpm:Feeder</c>: sets exchange rates. Default: a development key.</summary>
    public string? Feeder { get; set; }

    /// <summary><c>Anpm:Treasury</c>: receives revenue and leftovers, funds rewards. Default: a development key.</summary>
    public string? Treasury { get; set; }

    /// <summary><c>Anpm:Gateway</c>: signs credit notices in production. Default: a development key.</summary>
    public string? Gateway { get; set; }

    /// <summary><c>Anpm:DataFolder</c>: where the SQLite file and the development keys live. Default <c>data</c>.</summary>
    public string DataFolder { get; set; } = "data";

    /// <summary><c>Anpm:Storage</c>.</summary>
    public StorageSettings Storage { get; } = new();

    /// <summary><c>Anpm:DevToken</c>.</summary>
    public DevTokenSettings DevToken { get; } = new();

    /// <summary><c>Anpm:Oracle</c>.</summary>
    public OracleSettings Oracle { get; } = new();

    /// <summary><c>Anpm:Contributions</c>.</summary>
    public ContributionSettings Contributions { get; } = new();

    /// <summary><c>Anpm:Pools</c>.</summary>
    public PoolSettings Pools { get; } = new();

    /// <summary><c>Anpm:ExchangeRate</c>.</summary>
    public ExchangeRateSettings ExchangeRate { get; } = new();

    /// <summary><c>Anpm:Token</c>: symbol and decimals of the token.</summary>
    public TokenSettings Token { get; } = new();

    /// <summary>The EVM token gateway: deposits read from the chain, payouts sent from a hot wallet (instead of the development token or a pulling gateway).</summary>
    public EvmSettings Evm { get; } = new();

    public sealed class EvmSettings
    {
        /// <summary>Turns the EVM gateway on. Default off.</summary>
        public bool Enabled { get; set; }

        /// <summary>JSON-RPC endpoints of the chain's nodes, in order of preference (at least one).</summary>
        public List<string> RpcUrls { get; } = [];

        /// <summary>The token's chain id; default <c>Anpm:ChainId</c>.</summary>
        public ulong? ChainId { get; set; }

        /// <summary>The ERC-20 token contract.</summary>
        public string? Token { get; set; }

        /// <summary>Anpm's deposit router, when deposits go through it (optional).</summary>
        public string? Router { get; set; }

        /// <summary>Blocks a deposit or payout needs on it, itself included, to be final; 0 uses the chain's <c>finalized</c> tag. Default 0.</summary>
        public int Confirmations { get; set; }

        /// <summary>The first block to read deposits from when nothing has been recorded yet. Default 0.</summary>
        public long StartBlock { get; set; }

        /// <summary>The hot wallet's key file (64 hex digits, or keystore JSON with <see cref="KeyPassword"/>); or use <see cref="SignerUrl"/>.</summary>
        public string? KeyFile { get; set; }

        /// <summary>The keystore's password (set it from the environment or a secret store, never in a committed file).</summary>
        public string? KeyPassword { get; set; }

        /// <summary>An external signer's JSON-RPC endpoint (<c>eth_signTransaction</c>), with <see cref="SignerAddress"/>; instead of <see cref="KeyFile"/>.</summary>
        public string? SignerUrl { get; set; }

        /// <summary>The address the external signer signs for.</summary>
        public string? SignerAddress { get; set; }

        /// <summary>The most a payout may pay per gas, in gwei. Default 500.</summary>
        public decimal MaxFeePerGasGwei { get; set; } = 500;

        /// <summary>The largest single payout, in base units; larger ones are held for an operator. Default: no limit.</summary>
        public string? MaxTransferAmount { get; set; }

        /// <summary>The most the hot wallet pays in any 24 hours, in base units; what would pass it waits. Default: no limit.</summary>
        public string? MaxDailyAmount { get; set; }

        /// <summary>How often the chain is read (deposits, payouts), in seconds. Default 12.</summary>
        public int PollSeconds { get; set; } = 12;
    }

    public sealed class StorageSettings
    {
        /// <summary><c>Anpm:Storage:Provider</c>: Sqlite, Postgres or InMemory. Default Sqlite.</summary>
        public string Provider { get; set; } = "Sqlite";

        /// <summary><c>Anpm:Storage:ConnectionString</c>. Default: <c>anpm.db</c> in the data folder (SQLite).</summary>
        public string? ConnectionString { get; set; }
    }

    public sealed class DevTokenSettings
    {
        /// <summary><c>Anpm:DevToken:Enabled</c>. Default: on in Development.</summary>
        public bool? Enabled { get; set; }

        /// <summary><c>Anpm:DevToken:FaucetMax</c>: most whole tokens per faucet request. Default 100000.</summary>
        public long FaucetMax { get; set; } = 100_000;
    }

    public sealed class OracleSettings
    {
        /// <summary><c>Anpm:Oracle:InProcess</c>: an oracle node inside the host. Default: on in Development.</summary>
        public bool? InProcess { get; set; }

        /// <summary><c>Anpm:Oracle:KeyHex</c>: the in-process node's private key; required outside Development (a development key otherwise).</summary>
        public string? KeyHex { get; set; }

        /// <summary><c>Anpm:Oracle:PoolId</c>: the pool the in-process node serves. Default <c>demo</c>.</summary>
        public string PoolId { get; set; } = "demo";
    }

    public sealed class ContributionSettings
    {
        /// <summary><c>Anpm:Contributions:PaymentTimeoutSeconds</c>. Default 3600.</summary>
        public int PaymentTimeoutSeconds { get; set; } = 3600;

        /// <summary>How long after its payment time an unpaid contribution waits more before it is canceled (the token's delay to finality). Default: 3600 in Evm mode, else 0.</summary>
        public int? PaymentGraceSeconds { get; set; }
    }

    public sealed class PoolSettings
    {
        /// <summary><c>Anpm:Pools:OpenCreation</c>: anyone may create pools. Default false.</summary>
        public bool OpenCreation { get; set; }
    }

    public sealed class ExchangeRateSettings
    {
        /// <summary><c>Anpm:ExchangeRate:Credits</c>. Default 1000.</summary>
        public string Credits { get; set; } = "1000";

        /// <summary><c>Anpm:ExchangeRate:TokenUnits</c>. Default one whole token.</summary>
        public string? TokenUnits { get; set; }
    }

    public sealed class TokenSettings
    {
        /// <summary><c>Anpm:Token:Symbol</c>. Default APUS.</summary>
        public string Symbol { get; set; } = "APUS";

        /// <summary><c>Anpm:Token:Decimals</c> (0 to 30). Default 12.</summary>
        public int Decimals { get; set; } = 12;
    }
}

/// <summary>Validates the host's options, each failure naming its configuration key.</summary>
public sealed class AnpmHostOptionsValidator : IValidateOptions<AnpmHostOptions>
{
    /// <summary>Validates the options of a host in Development.</summary>
    public ValidateOptionsResult Validate(string? name, AnpmHostOptions options) => Validate(options, development: true);

    /// <summary>Validates the options; outside Development every one of <see cref="AnpmHostOptions.RequiredOutsideDevelopment"/> must be set.</summary>
    public static ValidateOptionsResult Validate(AnpmHostOptions options, bool development)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Address(string key, string? value)
        {
            if (value is not null && !Abstractions.Address.TryParse(value, out _, out var error))
            {
                failures.Add($"{key}: {error}");
            }
        }

        if (options.ChainId == 0)
        {
            failures.Add("Anpm:ChainId must be a positive chain id.");
        }

        if (!Abstractions.PoolId.TryParse(options.Oracle.PoolId, out _, out var poolError))
        {
            failures.Add("Anpm:Oracle:PoolId: " + poolError);
        }

        Address("Anpm:ManagerAddress", options.ManagerAddress);
        Address("Anpm:Feeder", options.Feeder);
        Address("Anpm:Treasury", options.Treasury);
        Address("Anpm:Gateway", options.Gateway);
        for (var i = 0; i < options.Admins.Count; i++)
        {
            Address($"Anpm:Admins:{i}", options.Admins[i]);
        }

        if (options.Storage.Provider is not ("Sqlite" or "Postgres" or "InMemory"))
        {
            failures.Add($"Anpm:Storage:Provider must be Sqlite, Postgres or InMemory, not '{options.Storage.Provider}'.");
        }

        if (options.Storage.Provider == "Postgres" && string.IsNullOrWhiteSpace(options.Storage.ConnectionString))
        {
            failures.Add("Anpm:Storage:ConnectionString is required with the Postgres provider.");
        }

        if (options.DevToken.FaucetMax is < 1 or > 1_000_000_000)
        {
            failures.Add($"Anpm:DevToken:FaucetMax must be 1 to 1000000000, not {options.DevToken.FaucetMax}.");
        }

        if (options.Contributions.PaymentGraceSeconds is < 0 or > 86_400)
        {
            failures.Add($"Anpm:Contributions:PaymentGraceSeconds must be 0 to 86400, not {options.Contributions.PaymentGraceSeconds}.");
        }

        if (options.Contributions.PaymentTimeoutSeconds < 1)
        {
            failures.Add($"Anpm:Contributions:PaymentTimeoutSeconds must be at least 1, not {options.Contributions.PaymentTimeoutSeconds}.");
        }

        if (!TokenAmount.TryParse(options.ExchangeRate.Credits, out var credits) || credits.IsZero)
        {
            failures.Add($"Anpm:ExchangeRate:Credits must be a whole number of at least 1, not '{options.ExchangeRate.Credits}'.");
        }

        if (options.ExchangeRate.TokenUnits is { } units && (!TokenAmount.TryParse(units, out var parsed) || parsed.IsZero))
        {
            failures.Add($"Anpm:ExchangeRate:TokenUnits must be a whole number of at least 1, not '{units}'.");
        }

        if (options.Token.Decimals is < 0 or > 30 || string.IsNullOrWhiteSpace(options.Token.Symbol))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Anpm:Token:Decimals must be 0 to 30 and Anpm:Token:Symbol not empty (got {options.Token.Decimals}, '{options.Token.Symbol}')."));
        }

        if (options.Evm.Enabled)
        {
            var evm = options.Evm;
            if (options.DevToken.Enabled == true)
            {
                failures.Add("Anpm:Evm:Enabled and Anpm:DevToken:Enabled cannot both be on: one token gateway moves the money.");
            }

            if (evm.RpcUrls.Count == 0 || evm.RpcUrls.Any(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                failures.Add("Anpm:Evm:RpcUrls must list at least one http(s) JSON-RPC endpoint.");
            }

            if (evm.Token is null)
            {
                failures.Add("Anpm:Evm:Token is required: the ERC-20 contract's address.");
            }

            Address("Anpm:Evm:Token", evm.Token);
            Address("Anpm:Evm:Router", evm.Router);
            Address("Anpm:Evm:SignerAddress", evm.SignerAddress);
            if ((evm.KeyFile is null) == (evm.SignerUrl is null) || (evm.SignerUrl is null) != (evm.SignerAddress is null))
            {
                failures.Add("Anpm:Evm needs either KeyFile (with KeyPassword for a keystore) or SignerUrl with SignerAddress, not both.");
            }

            foreach (var (key, value) in new[] { ("Anpm:Evm:MaxTransferAmount", evm.MaxTransferAmount), ("Anpm:Evm:MaxDailyAmount", evm.MaxDailyAmount) })
            {
                if (value is not null && (!TokenAmount.TryParse(value, out var limit) || limit.IsZero))
                {
                    failures.Add($"{key} must be a whole number of base units of at least 1, not '{value}'.");
                }
            }

            if (evm.Confirmations is < 0 or > 10_000 || evm.StartBlock < 0 || evm.PollSeconds is < 1 or > 3600 || evm.MaxFeePerGasGwei is <= 0 or > 1_000_000)
            {
                failures.Add("Anpm:Evm: Confirmations must be 0 to 10000, StartBlock at least 0, PollSeconds 1 to 3600 and MaxFeePerGasGwei above 0 and at most 1000000.");
            }
        }

        if (!development)
        {
            var configured = new Dictionary<string, bool>
            {
                ["Anpm:ChainId"] = options.ChainId is not null,
                ["Anpm:ManagerAddress"] = options.ManagerAddress is not null,
                ["Anpm:Admins"] = options.Admins.Count > 0,
                ["Anpm:Feeder"] = options.Feeder is not null,
                ["Anpm:Treasury"] = options.Treasury is not null,
                ["Anpm:Gateway"] = options.Gateway is not null,
            };
            failures.AddRange(AnpmHostOptions.RequiredOutsideDevelopment.Where(key => !configured[key])
                .Select(key => $"{key} is required outside Development (development keys and chain 31337 are for Development only)."));
            if (options.Oracle.InProcess == true && options.Oracle.KeyHex is null)
            {
                failures.Add("Anpm:Oracle:KeyHex is required outside Development when Anpm:Oracle:InProcess is on.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
