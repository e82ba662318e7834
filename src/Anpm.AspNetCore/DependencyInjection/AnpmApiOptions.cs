using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>How outgoing token transfers leave the outbox.</summary>
public enum OutboxDelivery
{
    /// <summary>The token gateway pulls them (<c>POST …/gateway/outbox/pull</c>) and confirms each; no job dispatches.</summary>
    GatewayPull = 0,

    /// <summary>The outbox-dispatch job sends them through the registered <see cref="Anpm.Credits.ITokenGateway"/>; the pull route refuses.</summary>
    Dispatch = 1,
}

/// <summary>The API's options: roles, limits, how the outbox is delivered, the jobs and health checks; validated at start-up.</summary>
public sealed class AnpmApiOptions
{
    /// <summary>The most transfers one outbox pull returns.</summary>
    public const int MaxPull = 100;

    /// <summary>The admins: pause the system, set any pool's status, set amounts to distribute, create pools.</summary>
    public IList<Address> Admins { get; } = [];

    /// <summary>The exchange-rate feeder (admins may set rates too).</summary>
    public Address? Feeder { get; set; }

    /// <summary>The token gateway: signs credit notices, pulls and confirms outgoing transfers.</summary>
    public Address? Gateway { get; set; }

    /// <summary>Whether anyone may create pools (otherwise admins only). Default false.</summary>
    public bool OpenPoolCreation { get; set; }

    /// <summary>The token's symbol, shown by <c>GET /config</c> (its decimals are the ledger's for APUS). Default APUS.</summary>
    public string TokenSymbol { get; set; } = "APUS";

    /// <summary>The largest request body accepted, in bytes, however it arrives (chunked bodies are counted). Default 1 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 1 << 20;

    /// <summary>The longest string a signed message's field may hold. Default 256.</summary>
    public int MaxStringLength { get; set; } = 256;

    /// <summary>How outgoing token transfers leave the outbox. Default <see cref="OutboxDelivery.GatewayPull"/>.</summary>
    public OutboxDelivery OutboxDelivery { get; set; }

    /// <summary>
    /// Whether an outside token gateway is heard: its credit notices and outbox confirmations are applied. Set it false
    /// when the application's own in-process token is the gateway (e.g. a development token): then no notice can credit
    /// tokens nobody paid and no confirmation can drop a transfer the token has not paid; both answer 409
    /// <c>invalid_state</c>. Default true.
    /// </summary>
    public bool AcceptGatewayRequests { get; set; } = true;

    /// <summary>More public settings <c>GET /config</c> shows, e.g. <c>devToken</c>; values serialize as JSON.</summary>
    public IDictionary<string, object?> PublicSettings { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>Where <c>MapAnpmApi</c> maps the health checks (JSON report); <see langword="null"/> maps none. Default <c>/healthz</c>.</summary>
    public string? HealthPath { get; set; } = "/healthz";

    /// <summary>
    /// The oracle backlog health check: degraded when at least this many tasks wait with nobody working on them for
    /// longer than <see cref="OracleBacklogAge"/>. Default 100.
    /// </summary>
    public int OracleBacklogThreshold { get; set; } = 100;

    /// <summary>How long a waiting task counts as backlog. Default 5 min.</summary>
    public TimeSpan OracleBacklogAge { get; set; } = TimeSpan.FromMinutes(5);

}

/// <summary>Validates <see cref="AnpmApiOptions"/>; each failure names the option.</summary>
public sealed class AnpmApiOptionsValidator : IValidateOptions<AnpmApiOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AnpmApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxBodyBytes is < 1024 or > 64 << 20)
        {
            failures.Add($"AnpmApiOptions.MaxBodyBytes must be 1024 to {64 << 20}, not {options.MaxBodyBytes}.");
        }

        if (options.MaxStringLength is < 16 or > 65_536)
        {
            failures.Add($"AnpmApiOptions.MaxStringLength must be 16 to 65536, not {options.MaxStringLength}.");
        }

        if (!Enum.IsDefined(options.OutboxDelivery))
        {
            failures.Add($"AnpmApiOptions.OutboxDelivery must be GatewayPull or Dispatch, not {options.OutboxDelivery}.");
        }

        if (string.IsNullOrWhiteSpace(options.TokenSymbol))
        {
            failures.Add("AnpmApiOptions.TokenSymbol is required.");
        }

        if (options.HealthPath is { } path && !path.StartsWith('/'))
        {
            failures.Add($"AnpmApiOptions.HealthPath must start with '/', not '{path}'.");
        }

        if (options.OracleBacklogThreshold < 1 || options.OracleBacklogAge <= TimeSpan.Zero)
        {
            failures.Add("AnpmApiOptions.OracleBacklogThreshold must be at least 1 and OracleBacklogAge positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
