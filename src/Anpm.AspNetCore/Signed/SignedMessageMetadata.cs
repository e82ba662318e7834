using Anpm.Signing;

namespace Anpm.AspNetCore;

/// <summary>What a signed route requires: its EIP-712 message type, its extra body field and the roles its signer must hold.</summary>
/// <param name="Type">The message type, one of <see cref="SignedRequestOptions.MessageTypes"/> (the wire contract's, <see cref="AnpmWireMessages"/>, or the application's own).</param>
/// <param name="Extra">The extra body field whose hash the message carries (e.g. <c>input</c>), if any; for the OpenAPI document.</param>
/// <param name="Roles">The roles the signer must hold one of; <see cref="AnpmRole.None"/> for anyone.</param>
public sealed record SignedMessageMetadata(string Type, string? Extra, AnpmRole Roles);
