using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Nethereum.Hex.HexTypes;
using Nethereum.KeyStore;
using Nethereum.Model;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;
using Nethereum.Web3;

namespace Anpm.Gateway.Evm;

/// <summary>An EIP-1559 transaction to sign: chain, nonce, recipient (a contract for a call), value, call data, gas limit and fees.</summary>
public sealed record EvmTransactionRequest(ulong ChainId, long Nonce, string To, BigInteger Value, string Data, BigInteger GasLimit, Eip1559Fees Fees);

/// <summary>A signed transaction: its bytes as broadcast (0x, lower-case hex) and its hash (the Keccak-256 of those bytes).</summary>
public sealed record EvmSignedTransaction(string RawTransaction, string Hash)
{
    /// <summary>The signed transaction of raw bytes, its hash computed from them.</summary>
    /// <param name="rawTransaction">The signed transaction, with or without 0x.</param>
    public static EvmSignedTransaction FromRaw(string rawTransaction)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rawTransaction);
        var hex = rawTransaction.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? rawTransaction[2..] : rawTransaction;
        var bytes = Convert.FromHexString(hex);
        return new EvmSignedTransaction("0x" + Convert.ToHexStringLower(bytes), "0x" + Convert.ToHexStringLower(Keccak256.Hash(bytes)));
    }
}

/// <summary>
/// Signs the hot wallet's transactions. <see cref="EvmKeySigner"/> holds a key in this process (a key file: development,
/// tests, small deployments); <see cref="JsonRpcTransactionSigner"/> asks an external signer (Clef, Web3Signer, a KMS
/// bridge) over <c>eth_signTransaction</c>, so the key never enters this process. Implementations never put a key in a
/// message, a log or an exception.
/// </summary>
public interface IEvmTransactionSigner
{
    /// <summary>The wallet's address.</summary>
    Address Address { get; }

    /// <summary>Signs a transaction.</summary>
    Task<EvmSignedTransaction> SignAsync(EvmTransactionRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A signer holding the wallet's secp256k1 key in this process, read from a key file: 64 hex digits (0x optional), or an
/// encrypted Web3 Secret Storage (keystore v3) JSON file with its password. The key is never printed.
/// </summary>
public sealed class EvmKeySigner : IEvmTransactionSigner
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private readonly EthECKey _key;

    private EvmKeySigner(EthECKey key)
    {
        _key = key;
        Address = Address.Parse(key.GetPublicAddress());
    }

    /// <inheritdoc />
    public Address Address { get; }

    /// <summary>A signer of a key given as 64 hex digits (0x optional).</summary>
    /// <exception cref="FormatException">It is not 32 bytes of hex, or not a valid secp256k1 key (the message never repeats it).</exception>
    public static EvmKeySigner FromHex(string privateKeyHex)
    {
        ArgumentNullException.ThrowIfNull(privateKeyHex);
        var hex = privateKeyHex.Trim();
        hex = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (hex.Length != 64 || hex.AsSpan().ContainsAnyExcept(HexDigits))
        {
            throw new FormatException("A private key is 64 hex digits (0x optional); the value given is not (it is not repeated here).");
        }

        return FromBytes(Convert.FromHexString(hex));
    }

    /// <summary>
    /// A signer of the key in a file: 64 hex digits, or keystore v3 JSON decrypted with <paramref name="password"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="FormatException">The file holds neither; or the password does not open the keystore.</exception>
    public static EvmKeySigner FromKeyFile(string path, string? password = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = File.ReadAllText(path).Trim();
        if (!text.StartsWith('{'))
        {
            try
            {
                return FromHex(text);
            }
            catch (FormatException)
            {
                throw new FormatException($"The key file '{path}' holds neither 64 hex digits nor keystore JSON.");
            }
        }

        if (password is null)
        {
            throw new FormatException($"The key file '{path}' is an encrypted keystore; its password is required.");
        }

        byte[] key;
        try
        {
            key = new KeyStoreService().DecryptKeyStoreFromJson(password, text);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            throw new FormatException($"The keystore '{path}' could not be opened with the password given ({exception.GetType().Name}).");
        }

        return FromBytes(key);
    }

    /// <inheritdoc />
    public Task<EvmSignedTransaction> SignAsync(EvmTransactionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var transaction = new Transaction1559(
            request.ChainId, request.Nonce, request.Fees.MaxPriorityFeePerGas, request.Fees.MaxFeePerGas, request.GasLimit,
            request.To, request.Value, request.Data, []);
        var raw = new Transaction1559Signer().SignTransaction(_key, transaction);
        return Task.FromResult(EvmSignedTransaction.FromRaw(raw));
    }

    /// <inheritdoc />
    public override string ToString() => $"key signer of {Address}";

    private static EvmKeySigner FromBytes(byte[] key)
    {
        try
        {
            return new EvmKeySigner(new EthECKey(key, true));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            throw new FormatException($"The key is not a valid secp256k1 private key ({exception.GetType().Name}).");
        }
        finally
        {
            Array.Clear(key);
        }
    }
}

/// <summary>
/// A signer outside this process that implements <c>eth_signTransaction</c> for the wallet (Clef, Web3Signer, a node
/// with the account unlocked): the key stays there; this process only sees signed transactions.
/// </summary>
/// <param name="url">The signer's JSON-RPC endpoint.</param>
/// <param name="address">The wallet it signs for.</param>
public sealed class JsonRpcTransactionSigner(string url, Address address) : IEvmTransactionSigner
{
    private readonly Web3 _web3 = new(url);

    /// <inheritdoc />
    public Address Address { get; } = address;

    /// <inheritdoc />
    public async Task<EvmSignedTransaction> SignAsync(EvmTransactionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var input = new TransactionInput
        {
            From = Address.ToString(),
            To = request.To,
            Value = new HexBigInteger(request.Value),
            Data = request.Data,
            Gas = new HexBigInteger(request.GasLimit),
            Nonce = new HexBigInteger(request.Nonce),
            MaxFeePerGas = new HexBigInteger(request.Fees.MaxFeePerGas),
            MaxPriorityFeePerGas = new HexBigInteger(request.Fees.MaxPriorityFeePerGas),
            ChainId = new HexBigInteger(request.ChainId),
            Type = new HexBigInteger(2),
        };
        var raw = await _web3.Client.SendRequestAsync<string>(new Nethereum.JsonRpc.Client.RpcRequest(Guid.NewGuid().ToString("N"), "eth_signTransaction", input))
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return EvmSignedTransaction.FromRaw(raw);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"external signer of {Address}");
}
