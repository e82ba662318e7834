using Anpm.Abstractions;

namespace Anpm.Signing;

/// <summary>
/// Signs 32-byte hashes with one Ethereum key, wherever the key lives: an <see cref="EthereumKey"/> in memory (a key
/// file), a Nethereum <c>EthECKey</c> (<see cref="NethereumKeySigner"/>), or a KMS or HSM behind Nethereum's
/// <c>IEthExternalSigner</c> (<see cref="NethereumExternalSigner"/>). Every signature it returns is canonical (low s) and
/// recovers to <see cref="Address"/>.
/// </summary>
public interface IEthereumSigner
{
    /// <summary>The signer's address.</summary>
    Address Address { get; }

    /// <summary>Signs a 32-byte hash.</summary>
    /// <exception cref="ArgumentException"><paramref name="hash"/> is not 32 bytes.</exception>
    /// <exception cref="AnpmException">A remote signer failed or answered with a signature that is not its own.</exception>
    ValueTask<EthereumSignature> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default);
}
