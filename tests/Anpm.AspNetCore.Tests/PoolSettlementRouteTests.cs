using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.AspNetCore.Tests;

/// <summary>
/// The admin routes over a pool larger than one settlement page: the signed request changes the status and settles one
/// page in its one transaction, the job settles the rest, a close after the window answers 202 until the last payout is
/// sent.
/// </summary>
public sealed class PoolSettlementRouteTests : IAsyncLifetime
{
    private static readonly Address Treasury = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    private readonly EthereumKey _admin = EthereumKey.Generate();
    private ApiApp _app = null!;
    private int _nonce;

    public async Task InitializeAsync() => _app = await ApiApp.StartAsync(
        app => app.MapGroup("/api/v1").MapAnpmApi(string.Empty),
        api =>
        {
            api.Admins.Add(_admin.Address);
        },
        services => services
            .Configure<ContributionOptions>(o => o.SettlementBatchSize = 2)
            .AddAnpmJobs(jobs => jobs.Enabled = false), // the test runs the pool-settlement job's work itself
        Treasury);

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _admin.Dispose();
    }

    [Fact]
    public async Task CancelAndClose_APageInTheRequest_TheRestByTheJob_CloseAnswers202UntilDone()
    {
        var services = _app.Services;
        var config = "{\"name\":\"Big\",\"contribution\":{\"startUtc\":\"2020-01-01T00:00:00Z\",\"endUtc\":\"2099-01-01T00:00:00Z\",\"amountLimit\":\"1000000\",\"destination\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"}}";
        Assert.Equal(CreatePoolResult.Created, (await services.GetRequiredService<PoolRegistry>().CreateAsync(PoolId.Parse("big"), _admin.Address, config)).Result);
        var notices = services.GetRequiredService<TokenNoticeProcessor>();
        for (var i = 0; i < 5; i++)
        {
            var notice = new TokenNotice
            {
                MessageId = "m" + i, Sender = Treasury, Quantity = new TokenAmount(100 + (ulong)i), Action = "Contribute", PoolId = "big",
                Reference = string.Empty, ReceivedAt = _app.Clock.GetUtcNow(), Outcome = string.Empty,
            };
            Assert.Equal("contribution-paid", (await notices.ApplyAsync(notice)).Outcome);
        }

        var canceled = await SetStatusAsync(PoolStatus.Canceled);
        Assert.Equal((HttpStatusCode.OK, "Canceled"), (canceled.Status, canceled.Body.GetProperty("status").GetString()));
        Assert.Equal(3, canceled.Body.GetProperty("totals").GetProperty("contributions").GetProperty("Paid").GetInt32()); // one page of two settled

        var settling = await SetStatusAsync(PoolStatus.Closed);
        Assert.Equal(HttpStatusCode.Conflict, settling.Status);
        Assert.Contains("still settling", settling.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var contributions = services.GetRequiredService<ContributionService>();
        Assert.Equal(3, await contributions.SettlePoolsAsync());
        _app.Clock.Advance(TimeSpan.FromDays(31));
        var closing = await SetStatusAsync(PoolStatus.Closed);
        Assert.Equal((HttpStatusCode.Accepted, "Canceled"), (closing.Status, closing.Body.GetProperty("status").GetString()));
        Assert.Equal(3, await contributions.SettlePoolsAsync());
        var closed = await _app.Http.GetStringAsync(new Uri("/api/v1/pools/big", UriKind.Relative));
        Assert.Equal("Closed", JsonNode.Parse(closed)!["status"]!.GetValue<string>());
        Assert.Equal(5, JsonNode.Parse(closed)!["totals"]!["contributions"]!["PendingPayout"]!.GetValue<int>()); // every refund on its way
        await LedgerAssert.InvariantHoldsAsync(services.GetRequiredService<Ledger>());
    }

    private Task<(HttpStatusCode Status, System.Text.Json.JsonElement Body, bool Replayed)> SetStatusAsync(PoolStatus status) =>
        _app.PostAsync("/api/v1/admin/pools/big/status", _app.Sign(_admin, "SetPoolStatus", new JsonObject
        {
            ["admin"] = _admin.Address.ToString(), ["poolId"] = "big", ["status"] = (int)status, ["reason"] = "test",
            ["nonce"] = (++_nonce).ToString(CultureInfo.InvariantCulture), ["deadline"] = _app.Deadline(),
        }));
}
