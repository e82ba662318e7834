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
    /// The application's own message types, verified like Anpm's: declarations in EIP-712 notation, e.g.
    /// <c>Vote(address voter,string poolId,bool yes,uint256 nonce,uint256 deadline)</c>. The first field is the actor
    /// (an <c>address</c>); a <c>deadline</c> field is checked like Anpm's; a name may not repeat one of
    /// <see cref="AnpmMessageTypes.All"/>. Struct fields may name other declarations here.
    /// </summary>
    public IList<string> AdditionalTypes { get; } = [];
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

        if (!AnpmMessageTypes.TryCreate(options.AdditionalTypes, out _, out var typesError))
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.AdditionalTypes)}: {typesError}");
        }

        if (options.MaxLifetimeSeconds is < 1 or > 604_800)
        {
            failures.Add($"{nameof(SignedRequestOptions)}.{nameof(SignedRequestOptions.MaxLifetimeSeconds)} must be 1 to 604800, not {options.MaxLifetimeSeconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
