using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Signing.Tests;

public sealed class SignedRequestVerifierTests
{
    private const string Manager = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    private const string UserKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    // Signed by ethers 6 (Wallet.signTypedData) under { name: ANPM, version: 1, chainId: 31337, verifyingContract: Manager }.
    private const string EthersMessage = """
        {"from":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","to":"0x5FbDB2315678afecb367f032d93F642f64180aa3","quantity":"1500000000000","action":"Buy-Credits","poolId":"","reference":"","nonce":"42","deadline":"1795219200"}
        """;

    private const string EthersSignature =
        "0xcb19f6d0d7a559a7275d2339a17a10102e4d2b8ab59bb21f1f1ce2d572dd938a45d2b239650b9ff5c398f8ee9fcd7698bde69d281bdd9229c2e894509aa764241c";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 20, 23, 30, 0, TimeSpan.Zero));

    // The wire contract's messages, as AddAnpmApi adds them.
    private SignedRequestVerifier Verifier(ISecp256k1? curve = null) =>
        new(Options.Create(new SignedRequestOptions { VerifyingContract = Manager }.AddMessageTypes(AnpmWireMessages.All)), _clock, curve);

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Theory]
    [MemberData(nameof(Backends.Names), MemberType = typeof(Backends))]
    public void EthersSignedTokenTransfer_ValidAndRecoversTheSender(string backend)
    {
        var result = Verifier(Backends.Get(backend)).Verify("TokenTransfer", Json(EthersMessage), EthersSignature);
        Assert.Equal(SignedRequestStatus.Valid, result.Status);
        Assert.Equal(Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), result.Signer);
        Assert.True(result.IsValid);
    }

    public static TheoryData<string> MessageTypes => new(AnpmWireMessages.All.Select(t => t[..t.IndexOf('(', StringComparison.Ordinal)]));

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void EveryMessageType_SignedByItsActor_Valid(string type)
    {
        using var key = EthereumKey.FromHex(UserKey);
        var message = SampleMessage(type, key.Address);
        var verifier = Verifier();
        var signature = key.SignHash(verifier.Digest(type, Json(message.ToJsonString())));
        var result = verifier.Verify(type, Json(message.ToJsonString()), signature.ToString());
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(key.Address, result.Actor);
    }

    [Fact]
    public void ApplicationsMessageTypes_VerifiedLikeTheWireContracts_AndRefusedWhenMalformed()
    {
        var options = new SignedRequestOptions { VerifyingContract = Manager }.AddMessageTypes(AnpmWireMessages.All).AddMessageTypes(AnpmWireMessages.All); // twice: once
        Assert.Equal(AnpmWireMessages.All.Count, options.MessageTypes.Count);
        options.MessageTypes.Add("Vote(address voter,string poolId,Choice choice,uint256 nonce,uint256 deadline)");
        options.MessageTypes.Add("Choice(bool yes,string note)");
        options.MessageTypes.Add(AnpmOracleMessages.TaskResult); // the same declaration again (two packages): counts once
        var verifier = new SignedRequestVerifier(Options.Create(options), _clock);
        using var key = EthereumKey.FromHex(UserKey);
        var deadline = _clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds();
        var vote = Json($$"""{"voter":"{{key.Address}}","poolId":"demo","choice":{"yes":true,"note":"go"},"nonce":"1","deadline":"{{deadline}}"}""");
        var result = verifier.Verify("Vote", vote, key.SignHash(verifier.Digest("Vote", vote)).ToString());
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(key.Address, result.Signer);
        Assert.Contains("\"Vote\":[", verifier.TypesJson, StringComparison.Ordinal);
        Assert.Equal(SignedRequestStatus.UnknownType, Verifier().Verify("Vote", vote, "0x").Status); // only where configured

        foreach (var (declaration, expected) in new[]
        {
            ("Pause(address admin,bool paused)", "'Pause' is already a message type, declared as Pause(address admin,bool paused,uint256 nonce,uint256 deadline)."),
            ("Poll(string title,address owner)", "'Poll' must start with its actor, an address field."),
            ("Poll(address owner,string)", "'Poll(address owner,string)' is not a declaration like Name(type field,…)."),
            ("Poll(address owner,Missing thing)", "Missing"),
        })
        {
            var bad = new SignedRequestOptions { VerifyingContract = Manager }.AddMessageTypes(AnpmWireMessages.All);
            bad.MessageTypes.Add(declaration);
            var failures = new SignedRequestOptionsValidator().Validate(null, bad).Failures!;
            Assert.Contains(failures, f => f.StartsWith("SignedRequestOptions.MessageTypes: ", StringComparison.Ordinal) && f.Contains(expected, StringComparison.Ordinal));
            Assert.Throws<OptionsValidationException>(() => new SignedRequestVerifier(Options.Create(bad), _clock));
        }
    }

    [Fact]
    public void TamperedMessage_SignerMismatchNamingBoth()
    {
        var message = JsonNode.Parse(EthersMessage)!;
        message["quantity"] = "1500000000001";
        var result = Verifier().Verify("TokenTransfer", Json(message.ToJsonString()), EthersSignature);
        Assert.Equal(SignedRequestStatus.SignerMismatch, result.Status);
        Assert.Contains("not by its from 0x70997970c51812dc3a010c7d01b50e0d17dc79c8", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherDomain_SignerMismatch()
    {
        var verifier = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = Manager, ChainId = 1 }.AddMessageTypes(AnpmWireMessages.All)), _clock);
        Assert.Equal(SignedRequestStatus.SignerMismatch, verifier.Verify("TokenTransfer", Json(EthersMessage), EthersSignature).Status);
    }

    [Fact]
    public void DeadlineWindow_ExpiredAndTooFarRefused()
    {
        _clock.Advance(TimeSpan.FromMinutes(31));
        var expired = Verifier().Verify("TokenTransfer", Json(EthersMessage), EthersSignature);
        Assert.Equal(SignedRequestStatus.Expired, expired.Status);
        Assert.Contains("passed", expired.Error, StringComparison.Ordinal);

        var early = new FakeTimeProvider(new DateTimeOffset(2026, 11, 20, 22, 59, 59, TimeSpan.Zero));
        var tooFar = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = Manager }.AddMessageTypes(AnpmWireMessages.All)), early)
            .Verify("TokenTransfer", Json(EthersMessage), EthersSignature);
        Assert.Equal(SignedRequestStatus.DeadlineTooFar, tooFar.Status);
        Assert.Contains("more than 3600 seconds ahead", tooFar.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EIP712Domain", SignedRequestStatus.UnknownType, "is not a message type this verifier knows (SignedRequestOptions.MessageTypes)")]
    [InlineData("Mail", SignedRequestStatus.UnknownType, "is not a message type this verifier knows (SignedRequestOptions.MessageTypes)")]
    public void UnknownType_Refused(string type, SignedRequestStatus expected, string error)
    {
        var result = Verifier().Verify(type, Json(EthersMessage), EthersSignature);
        Assert.Equal(expected, result.Status);
        Assert.Contains(error, result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("quantity", "\"-1\"", "message.quantity (uint256) is out of range")]
    [InlineData("from", "\"0xnothex\"", "TokenTransfer.from (address)")]
    [InlineData("extra", "1", "does not declare")]
    public void MalformedMessage_InvalidMessageNamingTheField(string field, string json, string expected)
    {
        var message = JsonNode.Parse(EthersMessage)!;
        message[field] = JsonNode.Parse(json);
        var result = Verifier().Verify("TokenTransfer", Json(message.ToJsonString()), EthersSignature);
        Assert.Equal(SignedRequestStatus.InvalidMessage, result.Status);
        Assert.Contains(expected.Replace("message.", "TokenTransfer.", StringComparison.Ordinal), result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("0x1234", "hex digits")]
    [InlineData("0xcb19f6d0d7a559a7275d2339a17a10102e4d2b8ab59bb21f1f1ce2d572dd938a45d2b239650b9ff5c398f8ee9fcd7698bde69d281bdd9229c2e894509aa764241e", "v = 30")]
    public void MalformedSignature_InvalidSignature(string? signature, string expected)
    {
        var result = Verifier().Verify("TokenTransfer", Json(EthersMessage), signature);
        Assert.Equal(SignedRequestStatus.InvalidSignature, result.Status);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Equal(Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), result.Actor);
    }

    [Fact]
    public void Options_Invalid_EveryFailureNamesItsOption()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new SignedRequestVerifier(
            Options.Create(new SignedRequestOptions { VerifyingContract = "0x12", ChainId = 0, MaxLifetimeSeconds = 0, Name = "" }), _clock));
        Assert.Contains(error.Failures, f => f.StartsWith("SignedRequestOptions.VerifyingContract:", StringComparison.Ordinal));
        Assert.Contains("SignedRequestOptions.ChainId must be at least 1.", error.Failures);
        Assert.Contains("SignedRequestOptions.MaxLifetimeSeconds must be 1 to 604800, not 0.", error.Failures);
        Assert.Contains("SignedRequestOptions.Name is required.", error.Failures);
    }

    [Fact]
    public void AddSigning_CalledTwice_OneVerifierFromOptions()
    {
        var services = new ServiceCollection();
        services.AddAnpm(anpm => anpm.AddSigning(o => o.VerifyingContract = Manager));
        services.AddAnpm(anpm => anpm.AddSigning());
        Assert.Single(services, d => d.ServiceType == typeof(SignedRequestVerifier));
        Assert.Single(services, d => d.ServiceType == typeof(ISecp256k1));
        using (var provider = services.BuildServiceProvider())
        {
            Assert.Same(provider.GetRequiredService<SignedRequestVerifier>(), provider.GetRequiredService<SignedRequestVerifier>());
            Assert.Same(Secp256k1Backends.Default, provider.GetRequiredService<ISecp256k1>());
        }

        // Disposing the provider must leave the process-wide backend usable.
        using var key = EthereumKey.FromHex(UserKey);
        Assert.NotNull(key.SignHash(new byte[32]));
    }

    private static JsonObject SampleMessage(string type, Address actor)
    {
        var declaration = AnpmWireMessages.All.Single(t => t.StartsWith(type + "(", StringComparison.Ordinal));
        var message = new JsonObject();
        foreach (var field in declaration[(declaration.IndexOf('(', StringComparison.Ordinal) + 1)..^1].Split(','))
        {
            var parts = field.Split(' ');
            message[parts[1]] = parts[0] switch
            {
                "address" => message.Count == 0 ? actor.ToString() : Manager,
                "bool" => true,
                "bytes32" => "0x" + new string('a', 64),
                "uint8" => 5,
                _ when parts[1] == "deadline" => "1795219200",
                "uint256" => "12345",
                _ => "text " + parts[1],
            };
        }

        return message;
    }
}
