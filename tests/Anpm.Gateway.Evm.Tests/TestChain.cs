using System.Numerics;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Util;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>A deployed contract: its address and ABI; <see cref="For"/> gives the client of one wallet.</summary>
public sealed record Deployed(string Address, string Abi)
{
    /// <summary>The contract as seen by <paramref name="wallet"/>'s client.</summary>
    public Contract For(TestWallet wallet) => wallet.Web3.Eth.GetContract(Abi, Address);
}

/// <summary>
/// A local chain with a deployer wallet: deploys the compiled contracts, sends calls with a fixed gas limit (so a
/// reverting call is mined with status 0 instead of failing its estimate), and reads revert data by <c>eth_call</c>.
/// </summary>
public sealed class TestChain : IAsyncDisposable
{
    private static readonly HexBigInteger Gas = new(300_000);

    private TestChain(AnvilNode node, TestWallet owner)
    {
        Node = node;
        Owner = owner;
    }

    /// <summary>The anvil node.</summary>
    public AnvilNode Node { get; }

    /// <summary>The wallet that deploys and owns the contracts.</summary>
    public TestWallet Owner { get; }

    /// <summary>Starts anvil (see <see cref="AnvilNode.StartAsync"/>) with a funded deployer.</summary>
    public static async Task<TestChain> StartAsync(ulong chainId = 31337)
    {
        var node = await AnvilNode.StartAsync(chainId);
        return new TestChain(node, await TestWallet.CreateAsync(node));
    }

    /// <summary>A new funded wallet.</summary>
    public Task<TestWallet> WalletAsync() => TestWallet.CreateAsync(Node);

    /// <summary>Deploys a compiled contract by name with constructor arguments.</summary>
    public async Task<Deployed> DeployAsync(string name, params object[] arguments)
    {
        var compiled = await TestContracts.GetAsync(name);
        var receipt = await Owner.Web3.Eth.DeployContract.SendRequestAndWaitForReceiptAsync(compiled.Abi, compiled.Bytecode, Owner.Address, new HexBigInteger(5_000_000), null, arguments);
        Assert.Equal(1, (int)receipt.Status.Value);
        return new Deployed(receipt.ContractAddress, compiled.Abi);
    }

    /// <summary>Sends a call from a wallet and waits for its receipt (mined even when it reverts).</summary>
    public static Task<TransactionReceipt> SendAsync(TestWallet from, Deployed contract, string function, params object[] arguments) =>
        contract.For(from).GetFunction(function).SendTransactionAndWaitForReceiptAsync(from.Address, Gas, null, null, arguments);

    /// <summary>The revert data of a call run as an <c>eth_call</c> from the wallet (0x, selector, arguments).</summary>
    public async Task<string> RevertDataAsync(TestWallet from, Deployed contract, string function, params object[] arguments)
    {
        var data = contract.For(from).GetFunction(function).GetData(arguments);
        var error = await Assert.ThrowsAsync<AnvilRpcException>(() => Node.RpcAsync("eth_call", new { from = from.Address, to = contract.Address, data }, "latest"));
        return error.RevertData;
    }

    /// <summary>An ERC-20 balance, read through the gateway's own client.</summary>
    public Task<BigInteger> BalanceAsync(Deployed token, string owner) =>
        new NethereumChainClient(Node.Url).GetTokenBalanceAsync(token.Address, owner, null, CancellationToken.None);

    /// <summary>A bytes32 with <paramref name="text"/> in ASCII, padded with zeros.</summary>
    public static byte[] Bytes32(string text)
    {
        var bytes = new byte[32];
        System.Text.Encoding.ASCII.GetBytes(text).CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>The 4-byte selector of a function or error signature, 0x-hex.</summary>
    public static string Selector(string signature) => "0x" + new Sha3Keccack().CalculateHash(signature)[..8];

    /// <summary>Stops anvil.</summary>
    public ValueTask DisposeAsync() => Node.DisposeAsync();
}
