using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Gateway.Evm.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// docs/getting-started/evm-gateway.md followed end to end, as an operator would, on anvil: deploy the router with
/// <c>tools/evm/deploy-router.mjs</c>, configure the host (<c>Anpm:Evm:*</c> only — the development token is off by
/// itself in Evm mode), pay through the router with <c>tools/evm/deposit.mjs</c>, a deep reorg halts crediting, the admin
/// resumes it from an anchor (<c>ResumeDeposits</c>), a payout the token refuses fails on chain, the admin lists it
/// (an admin's read) and retries it (<c>RetryPayout</c>) once the cause is gone — each with its audit event.
/// </summary>
public sealed class EvmRunbookTests : IAsyncLifetime
{
    private const string Whole = "000000000000";
    private TestChain _chain = null!;
    private string _folder = string.Empty;
    private int _nonce;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _folder = Directory.CreateTempSubdirectory("anpm-runbook-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _chain.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task TheOperatorRunbook_DeployConfigureDeposit_HaltResume_FailedPayoutRetried()
    {
        var unit = BigInteger.Pow(10, 12);
        var token = await _chain.DeployAsync("PausableTestToken"); // a token that can refuse transfers (e.g. a paused or blocked one)
        var hot = await _chain.WalletAsync();
        var payer = await _chain.WalletAsync();
        await TestChain.SendAsync(_chain.Owner, token, "mint", payer.Address, 100 * unit);
        var deployerKey = await KeyFileAsync("deployer.key", _chain.Owner.PrivateKeyHex);
        var hotKey = await KeyFileAsync("hot.key", hot.PrivateKeyHex);
        var payerKey = await KeyFileAsync("payer.key", payer.PrivateKeyHex);

        // 1. Deploy the router: custody = the hot wallet.
        var deployed = JsonDocument.Parse(await ToolAsync("deploy-router.mjs", "--rpc", _chain.Node.Url, "--key-file", deployerKey, "--token", token.Address, "--custody", hot.Address)).RootElement;
        var router = deployed.GetProperty("router").GetString()!;
        Assert.Equal("31337", deployed.GetProperty("chainId").GetString());
        Assert.Contains("holds no contract", await ToolFailsAsync("deploy-router.mjs", "--rpc", _chain.Node.Url, "--key-file", deployerKey, "--token", hot.Address, "--custody", hot.Address), StringComparison.Ordinal);

        // 2. Configure the host: Evm settings only (the development token goes off by itself in Evm mode).
        await using var host = TestHost.Start(null, null,
            ("Anpm:Oracle:InProcess", "false"), ("Anpm:Evm:Enabled", "true"), ("Anpm:Evm:RpcUrls:0", _chain.Node.Url), ("Anpm:Evm:Token", token.Address),
            ("Anpm:Evm:Router", router), ("Anpm:Evm:Confirmations", "2"), ("Anpm:Evm:KeyFile", hotKey), ("Anpm:Evm:PollSeconds", "1"));
        await _chain.Node.RpcAsync("evm_increaseTime", 2); // deposits are judged at their block's time: after the host's first rate
        Assert.False((await host.GetAsync("/api/v1/config")).GetProperty("devToken").GetBoolean());
        var admin = host.Role("admin");
        using var user = TestKey.FromHex("0x" + payer.PrivateKeyHex);
        var webhooks = host.Services.GetRequiredService<WebhookService>(); // a receiver of the audit trail (down: its deliveries list the events)
        Assert.Equal(WebhookEndpointResult.Registered, (await webhooks.RegisterAsync("audit", "http://127.0.0.1:9/audit", WebhookSignature.NewSecret(),
            [AnpmEventTypes.DepositsResumed, AnpmEventTypes.PayoutRetried])).Result);

        // 3. Pay through the router (as the pages do): credited once final.
        var paid = JsonDocument.Parse(await ToolAsync("deposit.mjs", "--rpc", _chain.Node.Url, "--key-file", payerKey, "--router", router, "--action", "Buy-Credits",
            "--amount", (2 * unit).ToString(CultureInfo.InvariantCulture), "--ref", "order-1")).RootElement;
        var depositBlock = paid.GetProperty("block").GetInt64();
        await MinedUntilAsync(async () => (await host.GetAsync($"/api/v1/accounts/{user.Address}")).GetProperty("credits").GetString() != "0");

        // 4. A reorg deeper than the confirmations replaces the credited blocks, the deposit's included: crediting halts.
        var cursor = await MinedUntilAsync(async () => (await host.GetAsync("/api/v1/evm/deposits")).GetProperty("cursor") is { ValueKind: JsonValueKind.Number } c ? (true, c.GetInt64()) : (false, 0L));
        var headBefore = await _chain.Node.BlockNumberAsync();
        Assert.True(cursor >= depositBlock);
        await _chain.Node.RpcAsync("anvil_reorg", (int)(headBefore - depositBlock + 1), Array.Empty<object>());
        var halted = await MinedUntilAsync(async () => (await host.GetAsync("/api/v1/evm/deposits")).GetProperty("halted").GetString() is { } reason ? (true, reason) : (false, string.Empty));
        Assert.Contains("A reorg replaced credited block", halted, StringComparison.Ordinal);
        var solvency = await host.GetAsync("/api/v1/audit/solvency");
        Assert.False(solvency.GetProperty("ok").GetBoolean()); // the credited deposit is gone from the chain: an incident, reconciled by the operator
        Assert.Equal((2 * unit).ToString(), solvency.GetProperty("token").GetProperty("shortfall").GetString());

        // 5. Resume from the anchor (the highest block still canonical), with the reason kept.
        var anchor = depositBlock - 1;
        var wrongAnchor = await host.PostAsync("/api/v1/admin/evm/deposits/resume", host.Sign(admin, "ResumeDeposits", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["anchor"] = (cursor + 10).ToString(CultureInfo.InvariantCulture), ["reason"] = "too high",
        })));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (wrongAnchor.Status, wrongAnchor.Code));
        var resumed = await host.PostAsync("/api/v1/admin/evm/deposits/resume", host.Sign(admin, "ResumeDeposits", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["anchor"] = anchor.ToString(CultureInfo.InvariantCulture), ["reason"] = "order-1 lost in the reorg; written off",
        })));
        Assert.True(resumed.Status == HttpStatusCode.OK, resumed.ToString());
        Assert.Equal(anchor, resumed.Body.GetProperty("anchor").GetInt64());
        var notHalted = await host.PostAsync("/api/v1/admin/evm/deposits/resume", host.Sign(admin, "ResumeDeposits", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["anchor"] = anchor.ToString(CultureInfo.InvariantCulture), ["reason"] = "again",
        })));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (notHalted.Status, notHalted.Code));

        // Crediting runs again: a stake through the router is credited.
        await TestChain.SendAsync(_chain.Owner, token, "mint", payer.Address, 100 * unit); // the reorg took the first mint back with its block
        await ToolAsync("deposit.mjs", "--rpc", _chain.Node.Url, "--key-file", payerKey, "--router", router, "--action", "Stake", "--pool", "demo", "--amount", (3 * unit).ToString(CultureInfo.InvariantCulture));
        await MinedUntilAsync(async () => (await host.GetAsync($"/api/v1/pools/demo/stakes/{user.Address}")).GetProperty("staked").GetString() == "3" + Whole);

        // 6. The token refuses transfers; an unstake's payout reverts and fails on chain.
        await TestChain.SendAsync(_chain.Owner, token, "pause");
        var unstaked = await host.PostAsync("/api/v1/pools/demo/stakes/unstake", host.Sign(user, "Unstake", Dated(new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "1" + Whole,
        })));
        Assert.True(unstaked.Status == HttpStatusCode.OK, unstaked.ToString());
        var failed = await MinedUntilAsync(async () =>
            (await host.GetSignedAsync("/api/v1/admin/outbox?state=FailedOnChain", admin)).GetProperty("transfers") is { } list && list.GetArrayLength() == 1 ? (true, list[0].Clone()) : (false, default));
        Assert.Equal(("1" + Whole, "FailedOnChain"), (failed.GetProperty("amount").GetString(), failed.GetProperty("state").GetString()));
        var transferId = failed.GetProperty("transferId").GetString()!;

        // 7. The cause is gone: the admin retries it; it is paid and confirmed.
        await TestChain.SendAsync(_chain.Owner, token, "unpause");
        var before = await _chain.BalanceAsync(token, payer.Address);
        var retried = await host.PostAsync($"/api/v1/admin/outbox/{transferId}/retry", host.Sign(admin, "RetryPayout", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["transferId"] = transferId, ["reason"] = "the token was unpaused",
        })));
        Assert.Equal((HttpStatusCode.OK, "Pending"), (retried.Status, retried.Text("state")));
        await MinedUntilAsync(async () => (await host.GetSignedAsync("/api/v1/admin/outbox?state=Confirmed", admin)).GetProperty("transfers").EnumerateArray()
            .Any(t => t.GetProperty("transferId").GetString() == transferId));
        Assert.Equal(before + unit, await _chain.BalanceAsync(token, payer.Address));

        // The audit trail: who did what and why, as events (delivered to webhooks like every other).
        var store = host.Services.GetRequiredService<IAnpmStore>();
        var deliveries = await MinedUntilAsync(async () => await webhooks.ListDeliveriesAsync("audit", null, 10) is var d && d.Count == 2 ? (true, d) : (false, d));
        var events = new List<AnpmEvent>();
        foreach (var delivery in deliveries)
        {
            events.Add((await store.RunReadAsync(delivery.EventId, static (u, id, ct) => u.Events.GetEventAsync(id, ct)))!);
        }

        var resumedEvent = JsonNode.Parse(events.Single(e => e.Type == AnpmEventTypes.DepositsResumed).Data)!;
        Assert.Equal(admin.Address.ToString(), resumedEvent["by"]!.GetValue<string>());
        Assert.Equal("order-1 lost in the reorg; written off", resumedEvent["reason"]!.GetValue<string>());
        var retriedEvent = JsonNode.Parse(events.Single(e => e.Type == AnpmEventTypes.PayoutRetried).Data)!;
        Assert.Equal((transferId, "the token was unpaused"), (retriedEvent["transferId"]!.GetValue<string>(), retriedEvent["reason"]!.GetValue<string>()));
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Ledger>());
        host.Unhandled.AssertNone();
    }

    private JsonObject Dated(JsonObject message)
    {
        message["nonce"] = (++_nonce).ToString(CultureInfo.InvariantCulture);
        message["deadline"] = TestHost.Deadline();
        return message;
    }

    private async Task<string> KeyFileAsync(string name, string hex)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllTextAsync(path, hex);
        return path;
    }

    // Mines a block at a time (the host polls every second) until the read is done; fails after 90 s.
    private async Task<T> MinedUntilAsync<T>(Func<Task<(bool Done, T Value)>> read)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var (done, value) = await read();
            if (done)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "The host did not get there within 90 s.");
            await _chain.Node.MineAsync();
            await Task.Delay(200);
        }
    }

    private Task<bool> MinedUntilAsync(Func<Task<bool>> condition) =>
        MinedUntilAsync(async () => await condition() is var done ? (done, done) : default);

    private static async Task<string> ToolAsync(string script, params string[] arguments)
    {
        var (code, output, errors) = await RunToolAsync(script, arguments);
        Assert.True(code == 0, $"{script} exited {code}: {errors}");
        return output;
    }

    private static async Task<string> ToolFailsAsync(string script, params string[] arguments)
    {
        var (code, _, errors) = await RunToolAsync(script, arguments);
        Assert.Equal(1, code);
        return errors;
    }

    private static async Task<(int Code, string Output, string Errors)> RunToolAsync(string script, string[] arguments)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = Anpm.Testing.Repository.Path("tools", "evm"), RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output, await errors);
    }
}
