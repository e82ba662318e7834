using System.Net;
using System.Numerics;
using System.Text.Json;
using Anpm.Gateway.Evm.Tests;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// The reference host in its <c>Evm</c> mode against anvil, configured only through <c>Anpm:Evm:*</c>: a plain token
/// transfer to the hot wallet buys credits once it is final; a router deposit with an action the host does not know is
/// refunded by a payout from the hot wallet, confirmed at finality; the solvency report's holdings are the wallet's
/// token balance on chain, and cover what the ledger owes.
/// </summary>
public sealed class EvmHostTests : IAsyncLifetime
{
    private TestChain _chain = null!;
    private string _keyFolder = string.Empty;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _keyFolder = Directory.CreateTempSubdirectory("anpm-evm-key-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _chain.DisposeAsync();
        Directory.Delete(_keyFolder, recursive: true);
    }

    [Fact]
    public async Task EvmMode_DepositBuysCreditsAtFinality_UnknownRouterActionRefundedFromTheHotWallet_SolvencyIsTheChainBalance()
    {
        var token = await _chain.DeployAsync("TestToken");
        var hot = await _chain.WalletAsync();
        var payer = await _chain.WalletAsync();
        var router = await _chain.DeployAsync("AnpmDepositRouter", token.Address, hot.Address, _chain.Owner.Address);
        await TestChain.SendAsync(_chain.Owner, token, "mint", payer.Address, new BigInteger(1_000_000));
        var keyFile = Path.Combine(_keyFolder, "hot.key");
        await File.WriteAllTextAsync(keyFile, hot.PrivateKeyHex);

        await using var host = TestHost.Start(null,
            ("Anpm:DevToken:Enabled", "false"),
            ("Anpm:Oracle:InProcess", "false"),
            ("Anpm:ExchangeRate:Credits", "1"),
            ("Anpm:ExchangeRate:TokenUnits", "1"),
            ("Anpm:Evm:Enabled", "true"),
            ("Anpm:Evm:RpcUrls:0", _chain.Node.Url),
            ("Anpm:Evm:Token", token.Address),
            ("Anpm:Evm:Router", router.Address),
            ("Anpm:Evm:Confirmations", "2"),
            ("Anpm:Evm:KeyFile", keyFile),
            ("Anpm:Evm:PollSeconds", "1"));

        // The host set its first exchange rate as it started; deposits are judged at their block's time, stamped in whole
        // seconds, so the first one goes a second later.
        await Task.Delay(1_100);

        // A plain transfer to the hot wallet buys credits once final (depth 2), and only then.
        await TestChain.SendAsync(payer, token, "transfer", hot.Address, new BigInteger(5_000));
        var pending = await EventuallyAsync(async () =>
        {
            using var view = JsonDocument.Parse(await host.Http.GetStringAsync($"/api/v1/evm/deposits?address={payer.Address}"));
            return view.RootElement.GetProperty("pending").GetArrayLength() == 1 ? view.RootElement.Clone() : (JsonElement?)null;
        });
        var deposit = pending.GetProperty("pending")[0];
        Assert.Equal(("5000", "Buy-Credits", 1, 2), (deposit.GetProperty("quantity").GetString(), deposit.GetProperty("action").GetString(),
            deposit.GetProperty("confirmations").GetInt32(), deposit.GetProperty("confirmationsRequired").GetInt32()));
        Assert.Equal((hot.Address.ToLowerInvariant(), router.Address.ToLowerInvariant()), (pending.GetProperty("custody").GetString(), pending.GetProperty("router").GetString()));
        Assert.Equal("0", await CreditsAsync(host, payer.Address));
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Http.GetAsync("/api/v1/evm/deposits?address=0x12")).StatusCode);
        await _chain.Node.MineAsync();
        await EventuallyAsync(async () => await CreditsAsync(host, payer.Address) == "5000");

        // A router deposit with an action code the host maps to nothing is refunded: the hot wallet pays it back.
        await TestChain.SendAsync(payer, token, "approve", router.Address, new BigInteger(700));
        await TestChain.SendAsync(payer, router, "deposit", TestChain.Bytes32("ref-1"), TestChain.Bytes32(string.Empty), (byte)9, new BigInteger(700));
        Assert.Equal(1_000_000 - 5_000 - 700, await _chain.BalanceAsync(token, payer.Address));
        await EventuallyAsync(async () =>
        {
            await _chain.Node.MineAsync();
            return await _chain.BalanceAsync(token, payer.Address) == 1_000_000 - 5_000;
        });
        await EventuallyAsync(async () =>
        {
            await _chain.Node.MineAsync();
            using var solvency = JsonDocument.Parse(await host.Http.GetStringAsync("/api/v1/audit/solvency"));
            var tokenView = solvency.RootElement.GetProperty("token");
            return tokenView.ValueKind == JsonValueKind.Object && tokenView.GetProperty("obligations").GetString() == "5000";
        });

        using var report = JsonDocument.Parse(await host.Http.GetStringAsync("/api/v1/audit/solvency"));
        var holdings = report.RootElement.GetProperty("token");
        Assert.Equal(((BigInteger)5_000).ToString(), holdings.GetProperty("holdings").GetString());
        Assert.True(holdings.GetProperty("solvent").GetBoolean());
        Assert.True(report.RootElement.GetProperty("ok").GetBoolean());
        host.Unhandled.AssertNone();
    }

    [Fact]
    public async Task EvmDepositsRoute_WithoutEvmMode_IsNotFound()
    {
        await using var host = TestHost.Start();
        var reply = await host.Http.GetAsync("/api/v1/evm/deposits");
        Assert.Equal(HttpStatusCode.NotFound, reply.StatusCode);
    }

    private static async Task<string> CreditsAsync(TestHost host, string address)
    {
        using var account = JsonDocument.Parse(await host.Http.GetStringAsync($"/api/v1/accounts/{address.ToLowerInvariant()}"));
        return account.RootElement.GetProperty("credits").GetString()!;
    }

    private static async Task<JsonElement> EventuallyAsync(Func<Task<JsonElement?>> read)
    {
        for (var i = 0; i < 60; i++)
        {
            if (await read() is { } found)
            {
                return found;
            }

            await Task.Delay(500);
        }

        Assert.Fail("Nothing came within 30 s.");
        return default;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 60; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(500);
        }

        Assert.True(await condition(), "The condition did not hold within 30 s.");
    }
}
