using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Signing;

/// <summary>The EIP-712 domain requests are signed under, and the deadline window; validated at start-up.</summary>
public sealed class SignedRequestOptions
{
    /// <summary>The domain name. Default <c>ANPM</c>.</summary>
    public string Name { get; set; } = "ANPM";

    /// <summary>The domain version. Default <c>1</c>.</summary>
    public string Version { get; set; } = "1";

    /// <summary>The chain id. Default 31337 (a development chain).</summary>
    public ulong ChainId { get; set; } = 31337;

    /// <summary>The verifying contract: the pool manager's address. Required.</summary>
    public string VerifyingContract { get; set; } = string.Empty;

    /// <summary>How far ahead a request's <c>deadline</c> may be, in seconds. Default 3600; 1 to 604 800.</summary>
    public int MaxLifetimeSeconds { get; set; } = 3600;

    /// <summary>
    /// The message types the verifier accepts, in EIP-712 notation, e.g.
    /// <c>Vote(address voter,string poolId,bool yes,uint256 nonce,uint256 deadline)</c>. The packages that define messages
    /// add theirs when registered (<c>AddAnpmApi</c> the wire contract's, <c>AddInference</c> and <c>AddOracleNode</c> the
    /// oracles'), and an application adds its own. A message's first field is its actor (an <c>address</c>); a
    /// <c>deadline</c> field is checked against the window; struct fields may name other declarations here; a declaration
    /// given twice counts once, two different ones of one name are refused (<see cref="Eip712Messages.TryCreate"/>).
    /// </summary>
    public IList<string> MessageTypes { get; } = [];

    /// <summary>Adds the declarations not in <see cref="MessageTypes"/> yet (a package's catalogue, added each time it is registered).</summary>
    /// <param name="declarations">The declarations, in EIP-712 notation.</param>
    /// <returns>These options, for chaining.</returns>
    public SignedRequestOptions AddMessageTypes(IEnumerable<string> declarations)
    {
        ArgumentNullException.ThrowIfNull(declarations);
        foreach (var declaration in declarations)
        {
            if (!MessageTypes.Contains(declaration))
            {
                MessageTypes.Add(declaration);
            }
        }

        return this;
    }
}

/// <summary>Validates <see cref="SignedRequestOptions"/>; every failure names the option.</summary>
public sealed class SignedRequestOptionsValidator : IValidateOptions<SignedRequestOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SignedRequestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.Name)} is required.");
        }

        if (string.IsNullOrWhiteSpace(options.Version))
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.Version)} is required.");
        }

        if (options.ChainId == 0)
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.ChainId)} must be at least 1.");
        }

        if (!Address.TryParse(options.VerifyingContract, out _, out var error))
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.VerifyingContract)}: {error}");
        }

        if (!Eip712Messages.TryCreate(options.MessageTypes, out _, out var typesError))
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.MessageTypes)}: {typesError}");
        }

        if (options.MaxLifetimeSeconds is < 1 or > 604_800)
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.MaxLifetimeSeconds)} must be 1 to 604800, not {options.MaxLifetimeSeconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
