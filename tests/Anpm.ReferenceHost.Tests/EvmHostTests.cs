using System.Net;
using System.Numerics;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
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

        await using var host = await StartEvmHostAsync(token, router, keyFile, null, ("Anpm:ExchangeRate:Credits", "1"), ("Anpm:ExchangeRate:TokenUnits", "1"));

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
            Assert.True(solvency.RootElement.GetProperty("ok").GetBoolean(), $"A refund on its way is no incident: {solvency.RootElement}");
            // Holdings are read at the listener's credited height: wait until it has passed the refund too.
            return tokenView.ValueKind == JsonValueKind.Object && tokenView.GetProperty("obligations").GetString() == "5000" && tokenView.GetProperty("holdings").GetString() == "5000";
        });

        using var report = JsonDocument.Parse(await host.Http.GetStringAsync("/api/v1/audit/solvency"));
        var holdings = report.RootElement.GetProperty("token");
        Assert.Equal(((BigInteger)5_000).ToString(), holdings.GetProperty("holdings").GetString());
        Assert.True(holdings.GetProperty("solvent").GetBoolean());
        Assert.True(report.RootElement.GetProperty("ok").GetBoolean());
        host.Unhandled.AssertNone();
    }

    /// <summary>
    /// Both seeds' money flows with real token transfers: ANPM's buy credits, stake and unstake (paid back on chain);
    /// Aigang's contribute → fund (the collection paid to the destination on chain) → the destination sends the proceeds
    /// back → distribute → the contributor's claim paid on chain → the pool closes; and contribute over the limit (the
    /// excess refunded on chain) → cancel → the refund claim paid on chain. Every deposit is credited at depth 2 and every
    /// payout confirmed at depth 2; at the end the ledger owes exactly what the hot wallet holds on chain.
    /// </summary>
    [Fact]
    public async Task EvmMode_BothSeedsMoneyFlows_WithRealTokenTransfers_SolvencyEqualsTheChain()
    {
        const string Whole = "000000000000";
        var unit = BigInteger.Pow(10, 12);
        var token = await _chain.DeployAsync("TestToken");
        var hot = await _chain.WalletAsync();
        var router = await _chain.DeployAsync("AnpmDepositRouter", token.Address, hot.Address, _chain.Owner.Address);
        var (userWallet, destinationWallet) = (await _chain.WalletAsync(), await _chain.WalletAsync());
        await TestChain.SendAsync(_chain.Owner, token, "mint", userWallet.Address, 30 * unit);
        await TestChain.SendAsync(_chain.Owner, token, "mint", destinationWallet.Address, 5 * unit);
        var keyFile = Path.Combine(_keyFolder, "hot.key");
        await File.WriteAllTextAsync(keyFile, hot.PrivateKeyHex);
        await _chain.Node.RpcAsync("evm_setIntervalMining", 1); // a block a second: deposits and payouts reach depth 2

        var logs = new CapturedLogs();
        await using var host = await StartEvmHostAsync(token, router, keyFile, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs),
            ("Logging:LogLevel:Default", "Debug"), ("Logging:LogLevel:Microsoft", "Debug"));
        using var user = TestKey.FromHex("0x" + userWallet.PrivateKeyHex);
        var admin = host.Role("admin");
        var store = host.Services.GetRequiredService<Anpm.Abstractions.IAnpmStore>();
        var nonce = 0;
        string Nonce() => (++nonce).ToString(System.Globalization.CultureInfo.InvariantCulture);

        // A deposit through the router (approve, then deposit); its notice's outcome once it is final.
        async Task<string> DepositAsync(TestWallet from, BigInteger amount, byte action, string pool, string? contributionId = null)
        {
            // A pending contribution is paid with its id as the reference; anything else with 32 random bytes (only a key).
            var reference = contributionId is null ? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) : TestChain.Bytes32(contributionId);
            await TestChain.SendAsync(from, token, "approve", router.Address, amount);
            await TestChain.SendAsync(from, router, "deposit", reference, TestChain.Bytes32(pool), action, amount);
            var id = Anpm.Gateway.Evm.EvmMessageIds.ForRouterDeposit(_chain.Node.ChainId, router.Address, reference);
            var notice = await EventuallyAsync(async () => await store.RunReadAsync(id, static (u, id, ct) => u.Notices.GetNoticeAsync(id, ct)) is { } n
                ? JsonDocument.Parse(JsonSerializer.Serialize(new { n.Outcome })).RootElement.Clone() : (JsonElement?)null);
            return notice.GetProperty("Outcome").GetString()!;
        }

        async Task ChainBalanceIsAsync(string address, BigInteger expected) =>
            await EventuallyAsync(async () => await _chain.BalanceAsync(token, address) == expected);

        // ANPM: buy credits, stake, unstake (the unstaked tokens paid back on chain).
        Assert.Equal("credits-bought:1000", await DepositAsync(userWallet, unit, 0, ""));
        Assert.Equal("staked", await DepositAsync(userWallet, 2 * unit, 2, "demo"));
        var unstaked = await host.PostAsync("/api/v1/pools/demo/stakes/unstake", host.Sign(user, "Unstake", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "1" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.OK, "1" + Whole), (unstaked.Status, unstaked.Text("staked")));
        await ChainBalanceIsAsync(userWallet.Address, 28 * unit); // 30 − 1 − 2 + 1

        // Aigang: a campaign; a contribution created through the API, paid through the router; funding pays the destination on chain.
        var config = "{\"name\":\"Campaign\",\"contribution\":{\"startUtc\":\"2026-01-01T00:00:00Z\",\"endUtc\":\"2099-01-01T00:00:00Z\",\"amountLimit\":\"50" + Whole
            + "\",\"destination\":\"" + destinationWallet.Address.ToLowerInvariant() + "\",\"prizeCalculator\":\"pro-rata\"}}";
        await CreatePoolAsync("camp", config);
        var pendingContribution = await host.PostAsync("/api/v1/pools/camp/contributions", host.Sign(user, "CreateContribution", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "camp", ["amount"] = "10" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.Created, 32), (pendingContribution.Status, pendingContribution.Text("contributionId").Length));
        Assert.Equal("contribution-paid", await DepositAsync(userWallet, 10 * unit, 1, "camp", pendingContribution.Text("contributionId")));
        Assert.Equal(HttpStatusCode.OK, (await SetStatusAsync("camp", 3)).Status); // Funding
        await ChainBalanceIsAsync(destinationWallet.Address, 15 * unit); // 5 + the 10 collected
        Assert.Equal("distribution-received", await DepositAsync(destinationWallet, 15 * unit, 4, "camp"));
        var distributing = await host.PostAsync("/api/v1/admin/pools/camp/distributing", host.Sign(admin, "SetAmountDistributing", new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["poolId"] = "camp", ["amount"] = "15" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.OK, "Distributing"), (distributing.Status, distributing.Text("status")));
        Assert.Equal(HttpStatusCode.OK, (await ClaimAsync(pendingContribution.Text("contributionId"))).Status);
        await ChainBalanceIsAsync(userWallet.Address, 33 * unit); // 28 − 10 + 15
        await TestHost.EventuallyAsync(() => host.GetAsync("/api/v1/pools/camp"), p => p.GetProperty("status").GetString() == "Closed");

        // Aigang's other ending: over the limit (the excess refunded on chain), canceled, the refund claimed on chain.
        await CreatePoolAsync("camp2", config.Replace("\"50" + Whole, "\"5" + Whole, StringComparison.Ordinal));
        Assert.Equal("contribution-paid-partly", await DepositAsync(userWallet, 7 * unit, 1, "camp2"));
        await ChainBalanceIsAsync(userWallet.Address, 28 * unit); // 33 − 7 + 2 refunded at once
        Assert.Equal(HttpStatusCode.OK, (await SetStatusAsync("camp2", 5)).Status); // Canceled
        var refundable = (await host.GetAsync($"/api/v1/accounts/{user.Address}")).GetProperty("contributions").EnumerateArray()
            .Single(c => c.GetProperty("poolId").GetString() == "camp2").GetProperty("contributionId").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await ClaimAsync(refundable)).Status);
        await ChainBalanceIsAsync(userWallet.Address, 33 * unit);

        // The ledger owes exactly what the hot wallet holds: 1 bought (revenue) + 1 still staked.
        var solvency = await TestHost.EventuallyAsync(() => host.GetAsync("/api/v1/audit/solvency"),
            r => r.GetProperty("token").GetProperty("obligations").GetString() == (2 * unit).ToString() && r.GetProperty("token").GetProperty("holdings").GetString() == (2 * unit).ToString());
        Assert.True(solvency.GetProperty("ok").GetBoolean(), solvency.ToString());
        Assert.Equal((2 * unit).ToString(), solvency.GetProperty("token").GetProperty("holdings").GetString());
        Assert.Equal(2 * unit, await _chain.BalanceAsync(token, hot.Address));
        host.Unhandled.AssertNone();

        // The hot wallet's key never reached a log line, at any level down to Debug, nor an exception logged with one.
        Assert.True(logs.Count > 100, $"only {logs.Count} log lines were captured");
        Assert.False(logs.Contains(hot.PrivateKeyHex), "the hot wallet's key appears in the host's logs");

        async Task CreatePoolAsync(string poolId, string poolConfig)
        {
            var created = await host.PostAsync("/api/v1/pools", host.Sign(admin, "CreatePool", new JsonObject
            {
                ["owner"] = admin.Address.ToString(), ["poolId"] = poolId, ["configHash"] = TestHost.Keccak(poolConfig), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }, ("config", poolConfig)));
            Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        }

        async Task<Reply> SetStatusAsync(string poolId, int status) =>
            await host.PostAsync($"/api/v1/admin/pools/{poolId}/status", host.Sign(admin, "SetPoolStatus", new JsonObject
            {
                ["admin"] = admin.Address.ToString(), ["poolId"] = poolId, ["status"] = status, ["reason"] = "e2e", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));

        async Task<Reply> ClaimAsync(string contributionId) =>
            await host.PostAsync($"/api/v1/contributions/{contributionId}/claim", host.Sign(user, "ClaimContribution", new JsonObject
            {
                ["account"] = user.Address.ToString(), ["contributionId"] = contributionId, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));
    }

    // The host in Evm mode on the test chain: depth 2, a poll a second, the hot wallet's key file; more settings after.
    private async Task<TestHost> StartEvmHostAsync(Deployed token, Deployed router, string keyFile, Action<IServiceCollection>? services, params (string Key, string Value)[] more)
    {
        var host = TestHost.Start(null, services,
        [
            ("Anpm:DevToken:Enabled", "false"), ("Anpm:Oracle:InProcess", "false"), ("Anpm:Evm:Enabled", "true"),
            ("Anpm:Evm:RpcUrls:0", _chain.Node.Url), ("Anpm:Evm:Token", token.Address), ("Anpm:Evm:Router", router.Address),
            ("Anpm:Evm:Confirmations", "2"), ("Anpm:Evm:KeyFile", keyFile), ("Anpm:Evm:PollSeconds", "1"), .. more,
        ]);

        // The host set its first exchange rate as it started; deposits are judged at their block's time, stamped in whole
        // seconds: the chain's clock moves two seconds on, so no deposit's block is stamped before that rate.
        await _chain.Node.RpcAsync("evm_increaseTime", 2);
        return host;
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

    // TestHost.EventuallyAsync (a poll every 100 ms, 90 s at most), failing when nothing came.
    private static async Task<JsonElement> EventuallyAsync(Func<Task<JsonElement?>> read) =>
        await TestHost.EventuallyAsync(read, found => found is not null) ?? throw new Xunit.Sdk.XunitException("Nothing came within 90 s.");

    private static async Task EventuallyAsync(Func<Task<bool>> condition) =>
        Assert.True(await TestHost.EventuallyAsync(condition, held => held), "The condition did not hold within 90 s.");
}
