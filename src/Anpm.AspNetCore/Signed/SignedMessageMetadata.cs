using Anpm.Signing;

namespace Anpm.AspNetCore;

/// <summary>What a signed route requires: its EIP-712 message type, its extra body field and the roles its signer must hold.</summary>
/// <param name="Type">The message type, one of Anpm's or of <see cref="SignedRequestOptions.AdditionalTypes"/>.</param>
/// <param name="Extra">The extra body field whose hash the message carries (e.g. <c>input</c>), if any; for the OpenAPI document.</param>
/// <param name="Roles">The roles the signer must hold one of; <see cref="AnpmRole.None"/> for anyone.</param>
public sealed record SignedMessageMetadata(string Type, string? Extra, AnpmRole Roles);

/// <summary>
/// Marks a signed route whose handler writes only through the store: its (signer, nonce) is claimed in the first unit of
/// work it commits (an exact replay runs it again, and the claim's insert then answers with the first answer) instead of
/// before the handler.
/// </summary>
internal sealed class ClaimInFirstCommit
{
    public static ClaimInFirstCommit Instance { get; } = new();
}
