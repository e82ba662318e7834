using System.Numerics;
using System.Text.Json;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Util;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// Anpm's deposit router on a local chain: one call moves the payer's tokens to custody and records the action, pool
/// and reference; a reference is used once; pausing stops deposits only; a fee-taking token is refused; and the router
/// has no function that moves anyone's tokens but the payer's own deposit.
/// </summary>
public sealed class DepositRouterTests : IAsyncLifetime
{
    private TestChain _chain = null!;
    private TestWallet _owner = null!;
    private TestWallet _payer = null!;
    private string _custody = string.Empty;
    private Deployed _token = null!;
    private Deployed _router = null!;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _owner = _chain.Owner;
        _payer = await _chain.WalletAsync();
        _custody = (await _chain.WalletAsync()).Address;
        _token = await DeployAsync("TestToken");
        _router = await DeployAsync("AnpmDepositRouter", _token.Address, _custody, _owner.Address);
        await SendAsync(_payer, _token, "mint", _payer.Address, new BigInteger(1_000));
    }

    public async Task DisposeAsync() => await _chain.DisposeAsync();

    [Fact]
    public async Task Deposit_MovesThePayersTokensToCustody_AndRecordsActionPoolAndReference()
    {
        var reference = Bytes32(1);
        var pool = Bytes32(7);
        await SendAsync(_payer, _token, "approve", _router.Address, new BigInteger(600));
        var receipt = await SendAsync(_payer, _router, "deposit", reference, pool, (byte)2, new BigInteger(600));

        Assert.Equal(1, (int)receipt.Status.Value);
        Assert.Equal(600, await BalanceAsync(_custody));
        Assert.Equal(400, await BalanceAsync(_payer.Address));
        Assert.Equal(0, await BalanceAsync(_router.Address)); // the router never holds tokens
        var deposited = Assert.Single(receipt.DecodeAllEvents<DepositedEvent>()).Event;
        Assert.Equal(reference, deposited.Ref);
        Assert.Equal(_payer.Address, deposited.Payer, ignoreCase: true);
        Assert.Equal(pool, deposited.PoolId);
        Assert.Equal(2, deposited.Action);
        Assert.Equal(600, deposited.Amount);
        Assert.True(await _router.For(_payer).GetFunction("used").CallAsync<bool>(reference));
    }

    [Fact]
    public async Task ReusedReference_Reverts_AndMovesNothing()
    {
        var reference = Bytes32(2);
        await SendAsync(_payer, _token, "approve", _router.Address, new BigInteger(1_000));
        await SendAsync(_payer, _router, "deposit", reference, Bytes32(7), (byte)1, new BigInteger(100));

        var revert = await RevertDataAsync(_payer, _router, "deposit", reference, Bytes32(8), (byte)1, new BigInteger(50));
        Assert.Equal(Selector("ReferenceUsed(bytes32)") + Convert.ToHexStringLower(reference), revert);
        var failed = await SendAsync(_payer, _router, "deposit", reference, Bytes32(8), (byte)1, new BigInteger(50));
        Assert.Equal(0, (int)failed.Status.Value);
        Assert.Equal(100, await BalanceAsync(_custody));
        Assert.Equal(900, await BalanceAsync(_payer.Address));
    }

    [Fact]
    public async Task Pause_StopsDepositsOnly_AndOnlyTheOwnerPauses()
    {
        await SendAsync(_payer, _token, "approve", _router.Address, new BigInteger(1_000));
        Assert.StartsWith(Selector("OwnableUnauthorizedAccount(address)"), await RevertDataAsync(_payer, _router, "pause"));

        Assert.Equal(1, (int)(await SendAsync(_owner, _router, "pause")).Status.Value);
        Assert.Equal(Selector("EnforcedPause()"), await RevertDataAsync(_payer, _router, "deposit", Bytes32(3), Bytes32(7), (byte)1, new BigInteger(10)));
        Assert.Equal(0, await BalanceAsync(_custody));

        Assert.Equal(1, (int)(await SendAsync(_owner, _router, "unpause")).Status.Value);
        Assert.Equal(1, (int)(await SendAsync(_payer, _router, "deposit", Bytes32(3), Bytes32(7), (byte)1, new BigInteger(10))).Status.Value);
        Assert.Equal(10, await BalanceAsync(_custody));
    }

    [Fact]
    public async Task ZeroAmount_AndAFeeTakingToken_AreRefused()
    {
        await SendAsync(_payer, _token, "approve", _router.Address, new BigInteger(1_000));
        Assert.Equal(Selector("ZeroAmount()"), await RevertDataAsync(_payer, _router, "deposit", Bytes32(4), Bytes32(7), (byte)1, BigInteger.Zero));

        var feeToken = await DeployAsync("FeeOnTransferToken");
        var feeRouter = await DeployAsync("AnpmDepositRouter", feeToken.Address, _custody, _owner.Address);
        await SendAsync(_payer, feeToken, "mint", _payer.Address, new BigInteger(1_000));
        await SendAsync(_payer, feeToken, "approve", feeRouter.Address, new BigInteger(1_000));
        var revert = await RevertDataAsync(_payer, feeRouter, "deposit", Bytes32(5), Bytes32(7), (byte)1, new BigInteger(500));
        Assert.Equal(Selector("InexactTransfer(uint256,uint256)") + Word(500) + Word(495), revert);
    }

    [Fact]
    public async Task TheRouterHasNoFunctionThatMovesAnyonesTokens()
    {
        // Every state-changing function of the router's ABI: deposits (from the caller's own allowance), pausing and the
        // two-step ownership transfer. A sweep, a withdrawal or an owner transfer would fail this test.
        using var abi = JsonDocument.Parse((await TestContracts.GetAsync("AnpmDepositRouter")).Abi);
        var writers = abi.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "function" && e.GetProperty("stateMutability").GetString() is "nonpayable" or "payable")
            .Select(e => e.GetProperty("name").GetString())
            .Order(StringComparer.Ordinal);
        Assert.Equal(["acceptOwnership", "deposit", "pause", "renounceOwnership", "transferOwnership", "unpause"], writers);
    }

    [Fact]
    public async Task Deploying_RefusesAZeroTokenOrCustody()
    {
        var router = await TestContracts.GetAsync("AnpmDepositRouter");
        var zero = AddressUtil.ZERO_ADDRESS;
        foreach (var (token, custody) in new[] { (zero, _custody), (_token.Address, zero) })
        {
            var data = _owner.Web3.Eth.DeployContract.GetData(router.Bytecode, router.Abi, token, custody, _owner.Address);
            var error = await Assert.ThrowsAsync<AnvilRpcException>(() => _chain.Node.RpcAsync("eth_call", new { from = _owner.Address, data }, "latest"));
            Assert.Equal(Selector("ZeroAddress()"), error.RevertData);
        }
    }

    private Task<Deployed> DeployAsync(string name, params object[] arguments) => _chain.DeployAsync(name, arguments);

    private static Task<TransactionReceipt> SendAsync(TestWallet from, Deployed contract, string function, params object[] arguments) =>
        TestChain.SendAsync(from, contract, function, arguments);

    private Task<string> RevertDataAsync(TestWallet from, Deployed contract, string function, params object[] arguments) =>
        _chain.RevertDataAsync(from, contract, function, arguments);

    private async Task<long> BalanceAsync(string address) => (long)await _chain.BalanceAsync(_token, address);

    private static byte[] Bytes32(byte last)
    {
        var bytes = new byte[32];
        bytes[31] = last;
        return bytes;
    }

    private static string Selector(string signature) => TestChain.Selector(signature);

    private static string Word(long value) => value.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);

    [Event("Deposited")]
    private sealed class DepositedEvent : IEventDTO
    {
        [Parameter("bytes32", "ref", 1, true)]
        public byte[] Ref { get; set; } = [];

        [Parameter("address", "payer", 2, true)]
        public string Payer { get; set; } = string.Empty;

        [Parameter("bytes32", "poolId", 3, true)]
        public byte[] PoolId { get; set; } = [];

        [Parameter("uint8", "action", 4, false)]
        public byte Action { get; set; }

        [Parameter("uint256", "amount", 5, false)]
        public BigInteger Amount { get; set; }
    }
}
