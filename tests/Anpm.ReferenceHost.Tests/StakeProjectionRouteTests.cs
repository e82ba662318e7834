using System.Net;

namespace Anpm.ReferenceHost.Tests;

/// <summary>The what-if APR route: a projection for the demo pool, and bad input answered with its code.</summary>
public sealed class StakeProjectionRouteTests
{
    [Fact]
    public async Task Projection_ForAnAmount_UnknownPoolAndBadAmountsRefused()
    {
        await using var host = TestHost.Start();
        var projection = await host.GetAsync("/api/v1/pools/demo/stakes/projection?amount=3000000000000");
        Assert.Equal(("3000000000000", 0m, "0", 0), (projection.GetProperty("amount").GetString(), projection.GetProperty("apr").GetDecimal(),
            projection.GetProperty("projectedRewards").GetString(), projection.GetProperty("runwayDays").GetInt32())); // the demo reserve is not funded
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync("/api/v1/pools/nowhere/stakes/projection?amount=1")).StatusCode);
        foreach (var bad in new[] { "", "?amount=", "?amount=0", "?amount=-1", "?amount=1.5", "?amount=abc" })
        {
            var reply = await host.Http.GetAsync("/api/v1/pools/demo/stakes/projection" + bad);
            Assert.True(reply.StatusCode == HttpStatusCode.BadRequest, $"{bad}: {reply.StatusCode}");
        }
    }
}
