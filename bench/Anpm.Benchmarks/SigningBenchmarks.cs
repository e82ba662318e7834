using System.Runtime.InteropServices;
using System.Text.Json;
using Anpm.AspNetCore;
using Anpm.Abstractions;
using Anpm.Signing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// Recovering a signer's address from a signed hash: Anpm on libsecp256k1 and on BouncyCastle, and Nethereum 6 by default
/// (BouncyCastle) and with its managed switch (<c>EthECKey.SignRecoverable</c>: NBitcoin.Secp256k1), beside a raw
/// libsecp256k1 P/Invoke baseline doing the same work (parse the compact signature, recover, serialize, Keccak-256 to an
/// address); EIP-712 digests of a TokenTransfer request; and recovering a TokenTransfer's signer from the typed data:
/// Anpm (digest + recover on libsecp256k1) against Nethereum's <c>RecoverFromSignatureV4</c> on the same document.
/// </summary>
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public unsafe class SigningBenchmarks
{
    private const string Library = "libsecp256k1.so.1";
    private readonly byte[] _hash = Keccak256.Hash("anpm benchmark"u8);
    private EthereumSignature _signature = null!;
    private NativeSecp256k1 _native = null!;
    private nint _context;
    private SignedRequestVerifier _verifier = null!;
    private JsonElement _message;
    private string _document = string.Empty;
    private string _typedSignature = string.Empty;
    private Nethereum.Signer.EthECDSASignature _nethereumSignature = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (!NativeSecp256k1.TryLoad(out var native, out var error))
        {
            throw new InvalidOperationException(error);
        }

        _native = native!;
        _context = secp256k1_context_create(1);
        using var key = EthereumKey.FromHex("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
        _signature = key.SignHash(_hash);
        _verifier = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5FbDB2315678afecb367f032d93F642f64180aa3" }.AddMessageTypes(AnpmWireMessages.All)), TimeProvider.System);
        _message = JsonDocument.Parse("""
            {"from":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","to":"0x5FbDB2315678afecb367f032d93F642f64180aa3","quantity":"1500000000000","action":"Buy-Credits","poolId":"","reference":"","nonce":"42","deadline":"1795219200"}
            """).RootElement;
        _nethereumSignature = Nethereum.Signer.EthECDSASignatureFactory.FromComponents(_signature.RS[..32].ToArray(), _signature.RS[32..].ToArray(), _signature.V);
        _document = $$"""
            {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
            "TokenTransfer":[{"name":"from","type":"address"},{"name":"to","type":"address"},{"name":"quantity","type":"uint256"},{"name":"action","type":"string"},{"name":"poolId","type":"string"},{"name":"reference","type":"string"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"}]},
            "primaryType":"TokenTransfer","domain":{"name":"ANPM","version":"1","chainId":31337,"verifyingContract":"0x5FbDB2315678afecb367f032d93F642f64180aa3"},"message":{{_message.GetRawText()}}}
            """;
        _typedSignature = key.SignHash(_verifier.Digest("TokenTransfer", _message)).ToString();
        if (Nethereum_Eip712_RecoverSigner() != Anpm_Eip712_RecoverSigner() || Nethereum_Default_Recover() != Anpm_Native_Recover())
        {
            throw new InvalidOperationException("Nethereum and Anpm recover different signers.");
        }
    }

    /// <summary>Nethereum's process-wide switch to its managed NBitcoin.Secp256k1 code (each benchmark runs in its own process).</summary>
    [GlobalSetup(Target = nameof(Nethereum_ManagedSwitch_Recover))]
    public void SetupManagedSwitch()
    {
        Setup();
        Nethereum.Signer.EthECKey.SignRecoverable = true;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _native.Dispose();
        secp256k1_context_destroy(_context);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Recover")]
    public Address RawLibsecp256k1_Recover()
    {
        var recoverable = stackalloc byte[65];
        var publicKey = stackalloc byte[64];
        var serialized = stackalloc byte[65];
        nuint length = 65;
        fixed (byte* signature = _signature.RS)
        fixed (byte* hash = _hash)
        {
            if (secp256k1_ecdsa_recoverable_signature_parse_compact(_context, recoverable, signature, _signature.RecoveryId) != 1
                || secp256k1_ecdsa_recover(_context, publicKey, recoverable, hash) != 1
                || secp256k1_ec_pubkey_serialize(_context, serialized, &length, publicKey, 2) != 1)
            {
                throw new InvalidOperationException("Recovery failed.");
            }
        }

        return Address.FromPublicKey(new ReadOnlySpan<byte>(serialized + 1, 64));
    }

    [Benchmark]
    [BenchmarkCategory("Recover")]
    public Address Anpm_Native_Recover() => Recover(_native);

    [Benchmark]
    [BenchmarkCategory("Recover")]
    public Address Anpm_Managed_Recover() => Recover(ManagedSecp256k1.Instance);

    [Benchmark]
    [BenchmarkCategory("Recover")]
    public Address Nethereum_Default_Recover() =>
        Address.Parse(Nethereum.Signer.EthECKey.RecoverFromSignature(_nethereumSignature, _hash).GetPublicAddress());

    [Benchmark]
    [BenchmarkCategory("Recover")]
    public Address Nethereum_ManagedSwitch_Recover() =>
        Address.Parse(Nethereum.Signer.EthECKey.RecoverFromSignature(_nethereumSignature, _hash).GetPublicAddress());

    [Benchmark]
    [BenchmarkCategory("Eip712")]
    public byte[] Eip712_TokenTransferDigest() => _verifier.Digest("TokenTransfer", _message);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Eip712Recover")]
    public Address Anpm_Eip712_RecoverSigner() =>
        SignatureRecovery.TryRecoverAddress(_verifier.Digest("TokenTransfer", _message), EthereumSignature.Parse(_typedSignature), out var signer, out var error, _native)
            ? signer : throw new InvalidOperationException(error);

    [Benchmark]
    [BenchmarkCategory("Eip712Recover")]
    public Address Nethereum_Eip712_RecoverSigner() =>
        Address.Parse(Nethereum.Signer.EIP712.Eip712TypedDataSigner.Current.RecoverFromSignatureV4(_document, _typedSignature));

    private Address Recover(ISecp256k1 curve) =>
        SignatureRecovery.TryRecoverAddress(_hash, _signature, out var signer, out var error, curve) ? signer : throw new InvalidOperationException(error);

#pragma warning disable SA1300 // libsecp256k1's names.
    [DllImport(Library)]
    private static extern nint secp256k1_context_create(uint flags);

    [DllImport(Library)]
    private static extern void secp256k1_context_destroy(nint context);

    [DllImport(Library)]
    private static extern int secp256k1_ecdsa_recoverable_signature_parse_compact(nint context, byte* signature, byte* input, int recoveryId);

    [DllImport(Library)]
    private static extern int secp256k1_ecdsa_recover(nint context, byte* publicKey, byte* signature, byte* hash);

    [DllImport(Library)]
    private static extern int secp256k1_ec_pubkey_serialize(nint context, byte* output, nuint* outputLength, byte* publicKey, uint flags);
#pragma warning restore SA1300

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(12).WithId("Signing"));
    }
}
