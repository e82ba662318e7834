using System.Numerics;
using System.Security.Cryptography;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>A fresh key on the test chain, funded with 100 ether by anvil, and a Nethereum client that signs with it.</summary>
public sealed class TestWallet
{
    private TestWallet(string privateKeyHex, Account account, Web3 web3)
    {
        PrivateKeyHex = privateKeyHex;
        Account = account;
        Web3 = web3;
    }

    /// <summary>The key, 64 hex digits (Nethereum's account drops leading zeros).</summary>
    public string PrivateKeyHex { get; }

    /// <summary>The key's account (address, signing).</summary>
    public Account Account { get; }

    /// <summary>A client of the chain signing with this wallet's key.</summary>
    public Web3 Web3 { get; }

    /// <summary>The wallet's address, checksummed.</summary>
    public string Address => Account.Address;

    /// <summary>Creates a wallet with a random key and gives it ether on the chain.</summary>
    public static async Task<TestWallet> CreateAsync(AnvilNode chain)
    {
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var account = new Account(key, (BigInteger)chain.ChainId);
        await chain.SetBalanceAsync(account.Address, BigInteger.Pow(10, 20));
        return new TestWallet(key, account, new Web3(account, chain.Url));
    }
}
