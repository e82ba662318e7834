using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Signing;

/// <summary>
/// The outcome of verifying a signed request; everything but <see cref="Valid"/> is a refusal (<see cref="SignedByDelegate"/>
/// until the caller finds the actor's delegation to the signer).
/// </summary>
public enum SignedRequestStatus
{
    /// <summary>The signature recovers to the message's actor and the deadline is within the window.</summary>
    Valid = 1,

    /// <summary>The primary type is not one of the verifier's message types (<see cref="SignedRequestOptions.MessageTypes"/>).</summary>
    UnknownType = 2,

    /// <summary>The message does not match its type (a missing, extra or ill-typed field).</summary>
    InvalidMessage = 3,

    /// <summary>The signature is malformed (length, hex, v, high s) or matches no public key.</summary>
    InvalidSignature = 4,

    /// <summary>The signature is valid but was made by someone other than the message's actor.</summary>
    SignerMismatch = 5,

    /// <summary>The deadline has passed.</summary>
    Expired = 6,

    /// <summary>The deadline is further ahead than <see cref="SignedRequestOptions.MaxLifetimeSeconds"/>.</summary>
    DeadlineTooFar = 7,

    /// <summary>
    /// The signature is valid and the deadline within the window, but the signer is not the message's actor: valid only
    /// where the actor delegated to the signer (a session key). Only when the caller asked for delegates.
    /// </summary>
    SignedByDelegate = 8,
}

/// <summary>The result of <see cref="SignedRequestVerifier.Verify(string, System.Text.Json.JsonElement, string?)"/>.</summary>
/// <param name="Status">Whether the request is valid, or why not.</param>
/// <param name="Actor">The message's actor (its first field), when the message could be read.</param>
/// <param name="Signer">The recovered signer, when the signature could be recovered.</param>
/// <param name="Digest">The EIP-712 digest that was signed, when the message could be hashed.</param>
/// <param name="Error">The problem in words; <see langword="null"/> when valid.</param>
public sealed record SignedRequestResult(SignedRequestStatus Status, Address Actor, Address Signer, byte[]? Digest, string? Error)
{
    /// <summary>Whether the request is valid; when not, <see cref="Error"/> says why.</summary>
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsValid => Status == SignedRequestStatus.Valid;
}

/// <summary>
/// Verifies signed requests: EIP-712 typed data of one of <see cref="SignedRequestOptions.MessageTypes"/> under the configured
/// domain, signed (<c>eth_signTypedData_v4</c>) by the message's actor, with a deadline within the allowed window.
/// </summary>
public sealed class SignedRequestVerifier
{
    private readonly Eip712TypedData _types;
    private readonly byte[] _domainSeparator;
    private readonly TimeProvider _timeProvider;
    private readonly ISecp256k1 _curve;
    private readonly int _maxLifetimeSeconds;

    /// <summary>Creates a verifier for a domain.</summary>
    /// <param name="options">The domain and the deadline window.</param>
    /// <param name="timeProvider">The clock deadlines are checked against.</param>
    /// <param name="curve">The secp256k1 implementation; <see cref="Secp256k1Backends.Default"/> when null.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    public SignedRequestVerifier(IOptions<SignedRequestOptions> options, TimeProvider timeProvider, ISecp256k1? curve = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var value = options.Value;
        var validation = new SignedRequestOptionsValidator().Validate(Options.DefaultName, value);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SignedRequestOptions), validation.Failures);
        }

        if (!Eip712Messages.TryCreate(value.MessageTypes, out var typesJson, out var typesError))
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SignedRequestOptions), [typesError]);
        }

        TypesJson = typesJson;
        using var types = JsonDocument.Parse(typesJson);
        if (!Eip712TypedData.TryCreate(types.RootElement, out var typedData, out var error))
        {
            throw new InvalidOperationException("The message types are malformed: " + error);
        }

        _types = typedData;
        _timeProvider = timeProvider;
        _curve = curve ?? Secp256k1Backends.Default;
        _maxLifetimeSeconds = value.MaxLifetimeSeconds;
        using var domain = JsonDocument.Parse(DomainJson(value));
        _domainSeparator = _types.HashStruct("EIP712Domain", domain.RootElement);
    }

    /// <summary>The types this verifier knows (<see cref="SignedRequestOptions.MessageTypes"/>) as the <c>types</c> object of an <c>eth_signTypedData_v4</c> document.</summary>
    public string TypesJson { get; }

    /// <summary>The domain separator, computed once.</summary>
    public ReadOnlySpan<byte> DomainSeparator => _domainSeparator;

    /// <summary>The EIP-712 digest of a message of one of the verifier's types under this domain.</summary>
    /// <exception cref="FormatException">The type is unknown or the message does not match it; the message names the field.</exception>
    public byte[] Digest(string primaryType, JsonElement message)
    {
        ArgumentNullException.ThrowIfNull(primaryType);
        if (primaryType == "EIP712Domain" || !_types.Types.ContainsKey(primaryType))
        {
            throw new FormatException($"'{primaryType}' is not a message type this verifier knows (SignedRequestOptions.MessageTypes).");
        }

        return Eip712TypedData.Digest(_domainSeparator, _types.HashStruct(primaryType, message));
    }

    /// <summary>Verifies a signed request.</summary>
    /// <param name="primaryType">The message type, e.g. <c>TransferCredits</c>.</param>
    /// <param name="message">The message's fields.</param>
    /// <param name="signature"><c>0x</c> + 130 hex digits.</param>
    /// <returns>The status, with the actor, signer and digest where they could be determined, and the problem in words.</returns>
    public SignedRequestResult Verify(string primaryType, JsonElement message, string? signature) => Verify(primaryType, message, signature, acceptDelegate: false);

    /// <summary>Verifies a signed request that the actor's delegate (a session key) may have signed.</summary>
    /// <param name="primaryType">The message type, e.g. <c>AddTask</c>.</param>
    /// <param name="message">The message's fields.</param>
    /// <param name="signature"><c>0x</c> + 130 hex digits.</param>
    /// <param name="acceptDelegate">
    /// Whether a valid signature by another address than the actor is <see cref="SignedRequestStatus.SignedByDelegate"/>
    /// (its deadline checked like the actor's) instead of <see cref="SignedRequestStatus.SignerMismatch"/>; the caller
    /// then judges the delegation.
    /// </param>
    /// <returns>The status, with the actor, signer and digest where they could be determined, and the problem in words.</returns>
    public SignedRequestResult Verify(string primaryType, JsonElement message, string? signature, bool acceptDelegate)
    {
        if (primaryType is null || primaryType == "EIP712Domain" || !_types.Types.TryGetValue(primaryType, out var fields))
        {
            return new(SignedRequestStatus.UnknownType, Address.Zero, Address.Zero, null, $"'{primaryType}' is not a message type this verifier knows (SignedRequestOptions.MessageTypes).");
        }

        byte[] digest;
        try
        {
            digest = Eip712TypedData.Digest(_domainSeparator, _types.HashStruct(primaryType, message));
        }
        catch (FormatException exception)
        {
            return new(SignedRequestStatus.InvalidMessage, Address.Zero, Address.Zero, null, exception.Message);
        }

        if (fields[0].Type != "address")
        {
            return new(SignedRequestStatus.UnknownType, Address.Zero, Address.Zero, null, $"'{primaryType}' is a struct type, not a signed message (its first field is not an address).");
        }

        // The message was hashed, so its first field is a valid address.
        var actor = Address.Parse(message.GetProperty(fields[0].Name).GetString()!);
        if (!EthereumSignature.TryParse(signature, out var parsed, out var signatureError))
        {
            return new(SignedRequestStatus.InvalidSignature, actor, Address.Zero, digest, signatureError);
        }

        if (!SignatureRecovery.TryRecoverAddress(digest, parsed, out var signer, out var recoveryError, _curve))
        {
            return new(SignedRequestStatus.InvalidSignature, actor, Address.Zero, digest, recoveryError);
        }

        if (signer != actor && !acceptDelegate)
        {
            return new(SignedRequestStatus.SignerMismatch, actor, signer, digest,
                $"The request is signed by {signer}, not by its {fields[0].Name} {actor}.");
        }

        if (fields.Any(f => f.Name == "deadline"))
        {
            var deadline = ReadInteger(message.GetProperty("deadline"));
            var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
            if (deadline < now)
            {
                return new(SignedRequestStatus.Expired, actor, signer, digest, $"The deadline {deadline} passed at {now} (unix seconds).");
            }

            if (deadline > now + _maxLifetimeSeconds)
            {
                return new(SignedRequestStatus.DeadlineTooFar, actor, signer, digest,
                    $"The deadline {deadline} is more than {_maxLifetimeSeconds} seconds ahead of {now} (unix seconds).");
            }
        }

        return signer == actor
            ? new(SignedRequestStatus.Valid, actor, signer, digest, null)
            : new(SignedRequestStatus.SignedByDelegate, actor, signer, digest, $"The request is signed by {signer}, not by its {fields[0].Name} {actor}.");
    }

    private static string DomainJson(SignedRequestOptions options) => new System.Text.Json.Nodes.JsonObject
    {
        ["name"] = options.Name,
        ["version"] = options.Version,
        ["chainId"] = options.ChainId.ToString(CultureInfo.InvariantCulture),
        ["verifyingContract"] = options.VerifyingContract,
    }.ToJsonString();

    // The message was hashed, so the value is a valid uint256 in one of the accepted spellings.
    private static BigInteger ReadInteger(JsonElement value) =>
        Eip712TypedData.TryParseInteger(value, out var number) ? number : throw new FormatException("Not an integer.");
}
