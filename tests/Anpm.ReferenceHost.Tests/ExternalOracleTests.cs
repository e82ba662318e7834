using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Oracle;
using Anpm.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// A GPU vendor's oracle node, built from the packages as the README shows (AddSigning with the host's domain,
/// AddOracleNode, the HTTP task source), serving the host's demo pool over its oracle routes; the in-process oracle is off.
/// </summary>
public sealed class ExternalOracleTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _node = TestKey.New();

    public void Dispose()
    {
        _user.Dispose();
        _node.Dispose();
    }

    [Fact]
    public async Task ExternalNode_ListedByTheAdmin_RunsTheTask_WithAVerifiableAttestation()
    {
        await using var host = TestHost.Start(null, ("Anpm:Oracle:InProcess", "false"));
        var eip712 = await host.GetAsync("/api/v1/eip712");
        await host.ListOracleAsync(_node.Address);
        var taskId = await host.AddDigitsTaskAsync(_user, 4);

        // The node: its own process in real life; here its own host, talking to the reference host over HTTP.
        var domain = eip712.GetProperty("domain");
        var node = Host.CreateDefaultBuilder().ConfigureServices(services => services
            .AddAnpm(anpm => anpm
                .AddSigning(o =>
                {
                    o.ChainId = ulong.Parse(domain.GetProperty("chainId").GetRawText(), CultureInfo.InvariantCulture);
                    o.VerifyingContract = domain.GetProperty("verifyingContract").GetString()!;
                })
                .AddOracleNode(o => o.KeyHex = _node.Hex, o => o.Models["digits"] = HostSetup.DigitsModel().Path, o => o.IdlePollMilliseconds = 100))
            .AddSingleton<IOracleTaskSource>(sp => new HttpOracleTaskSource(
                host.Factory.CreateClient(), sp.GetRequiredService<AttestationSigner>(), new HttpOracleTaskSourceOptions { PoolIds = { "demo" } }))).Build();
        await node.StartAsync();
        try
        {
            await host.DoneByAsync(taskId, _node.Address);
        }
        finally
        {
            await node.StopAsync();
            node.Dispose();
        }
    }
}

/// <summary>The oracle routes by hand: a claim, a signed failure (the task goes back to the queue), a foreign report refused.</summary>
public sealed class OracleRouteTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _node = TestKey.New();
    private readonly TestKey _other = TestKey.New();

    public void Dispose()
    {
        _user.Dispose();
        _node.Dispose();
        _other.Dispose();
    }

    [Fact]
    public async Task Claim_Failure_ForeignReport_AndNothingLeftToClaim()
    {
        await using var host = TestHost.Start(null, ("Anpm:Oracle:InProcess", "false"));
        var admin = host.Role("admin");
        var nonce = 0;
        string Nonce() => (++nonce).ToString(CultureInfo.InvariantCulture);
        foreach (var oracle in new[] { _node, _other })
        {
            Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/pools/demo/oracles", host.Sign(admin, "SetOracle", new JsonObject
            {
                ["owner"] = admin.Address.ToString(), ["poolId"] = "demo", ["oracle"] = oracle.Address.ToString(), ["active"] = true, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }))).Status);
        }

        JsonObject Claim(TestKey oracle) => new() { ["oracle"] = oracle.Address.ToString(), ["poolId"] = "demo", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline() };
        Assert.Equal(HttpStatusCode.NoContent, (await host.PostAsync("/api/v1/oracle/pools/demo/claim", host.Sign(_node, "ClaimTask", Claim(_node)))).Status);
        await host.GiveCreditsAsync(_user.Address, 10, PoolId.Parse("demo"));
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(1, 64)) + "]}}}";
        var added = await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_user, "AddTask", new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10", ["nonce"] = "1",
            ["deadline"] = TestHost.Deadline(),
        }, ("input", input)));
        var taskId = added.Text("taskId");

        var claimed = await host.PostAsync("/api/v1/oracle/pools/demo/claim", host.Sign(_node, "ClaimTask", Claim(_node)));
        Assert.Equal((HttpStatusCode.OK, taskId, input), (claimed.Status, claimed.Text("taskId"), claimed.Text("input")));
        var leaseId = claimed.Text("leaseId");
        var failure = new JsonObject { ["oracle"] = _node.Address.ToString(), ["taskId"] = taskId, ["leaseId"] = leaseId, ["reason"] = "GPU fell over" };
        var foreign = new JsonObject { ["oracle"] = _other.Address.ToString(), ["taskId"] = taskId, ["leaseId"] = leaseId, ["reason"] = "not mine" };
        var refused = await host.PostAsync($"/api/v1/oracle/tasks/{taskId}/failure", host.Sign(_other, "TaskFailure", foreign));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (refused.Status, refused.Code));
        var failed = await host.PostAsync($"/api/v1/oracle/tasks/{taskId}/failure", host.Sign(_node, "TaskFailure", failure));
        Assert.True(failed.Status == HttpStatusCode.OK, failed.ToString());
        Assert.Equal("Pending", failed.Text("status")); // back in the queue for another oracle

        // The node already attempted it; the other oracle gets it.
        Assert.Equal(HttpStatusCode.NoContent, (await host.PostAsync("/api/v1/oracle/pools/demo/claim", host.Sign(_node, "ClaimTask", Claim(_node)))).Status);
        var second = await host.PostAsync("/api/v1/oracle/pools/demo/claim", host.Sign(_other, "ClaimTask", Claim(_other)));
        Assert.Equal((HttpStatusCode.OK, taskId), (second.Status, second.Text("taskId")));
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }
}
