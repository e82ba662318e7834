using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.AspNetCore.Tests;

/// <summary>An integrator's own signed route with its own EIP-712 type goes through the same pipeline as Anpm's.</summary>
public sealed class SignedRouteTests : IAsyncLifetime
{
    private readonly EthereumKey _voter = EthereumKey.Generate();
    private readonly EthereumKey _admin = EthereumKey.Generate();
    private ApiApp _app = null!;

    public sealed record VoteCast(Address Voter, string PoolId, bool Yes, long Votes);

    // The integrator's handler: counts the signer's vote in a checkpoint of the store (the command's one write).
    private static async Task<Results<Ok<VoteCast>, ProblemHttpResult>> CastAsync(SignedRequest request, CancellationToken ct)
    {
        if (request.Text("poolId").Length == 0)
        {
            return AnpmProblems.Invalid("message.poolId is required.");
        }

        var votes = await CountVoteAsync(request.UnitOfWork, $"votes:{request.Text("poolId")}:{(request.Boolean("yes") ? "yes" : "no")}", ct);
        return TypedResults.Ok(new VoteCast(request.Signer, request.Text("poolId"), request.Boolean("yes"), votes));
    }

    // Votes twice, reads both back, then refuses when the pool is "refuse": every step is in the request's one unit of
    // work, so the read sees both writes and the refusal keeps nothing of them.
    private static async Task<Results<Ok<VoteCast>, ProblemHttpResult>> CastTwiceAsync(SignedRequest request, CancellationToken ct)
    {
        var name = $"votes:{request.Text("poolId")}:twice";
        for (var i = 0; i < 2; i++)
        {
            await CountVoteAsync(request.UnitOfWork, name, ct);
        }

        var seen = (await request.UnitOfWork.Checkpoints.GetCheckpointAsync(name, cancellationToken: ct))?.Value ?? 0;
        return request.Text("poolId") == "refuse"
            ? AnpmProblems.InvalidState($"Refused after writing {seen} votes.")
            : TypedResults.Ok(new VoteCast(request.Signer, request.Text("poolId"), request.Boolean("yes"), seen));
    }

    private static async Task<long> CountVoteAsync(IAnpmUnitOfWork unitOfWork, string name, CancellationToken ct)
    {
        var current = await unitOfWork.Checkpoints.GetCheckpointAsync(name, cancellationToken: ct);
        if (current is null)
        {
            await unitOfWork.Checkpoints.TryInsertCheckpointAsync(name, 1, ct);
            return 1;
        }

        await unitOfWork.Checkpoints.UpdateCheckpointAsync(name, current.Value + 1, current.Version, ct);
        return current.Value + 1;
    }

    // A handler that touches no store (it could send an e-mail or call another service): it must still run once per
    // (signer, nonce), however often the message arrives.
    private int _calls;

    private Ok<VoteCast> CountCall(SignedRequest request)
    {
        var calls = Interlocked.Increment(ref _calls);
        Thread.Sleep(20); // long enough for concurrent copies to overlap
        return TypedResults.Ok(new VoteCast(request.Signer, request.Text("poolId"), request.Boolean("yes"), calls));
    }

    public async Task InitializeAsync() => _app = await ApiApp.StartAsync(app =>
    {
        var api = app.MapGroup("/api/v1");
        api.MapAnpmApi(string.Empty); // Anpm's routes beside the integrator's, under the same prefix
        api.MapPost("/votes", CastAsync).RequireSignedMessage("Vote");
        api.MapPost("/admin/votes", CastAsync).RequireSignedMessage("Vote", roles: AnpmRole.Admin);
        api.MapPost("/votes/twice", CastTwiceAsync).RequireSignedMessage("Vote");
        api.MapPost("/votes/counted", CountCall).RequireSignedMessage("Vote");
    }, api => api.Admins.Add(_admin.Address));

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _voter.Dispose();
        _admin.Dispose();
    }

    private JsonObject Vote(EthereumKey key, bool yes, int nonce, string pool = "demo") => new()
    {
        ["voter"] = key.Address.ToString(), ["poolId"] = pool, ["yes"] = yes, ["nonce"] = nonce.ToString(CultureInfo.InvariantCulture), ["deadline"] = _app.Deadline(),
    };

    private async Task<long> VotesAsync(string name) =>
        (await _app.Services.GetRequiredService<IAnpmStore>().RunAsync(name, static (u, n, c) => u.Checkpoints.GetCheckpointAsync(n, cancellationToken: c)))?.Value ?? 0;

    [Fact]
    public async Task OwnType_VerifiedAppliedOnce_ReplayedAndConflicting()
    {
        var body = _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 1));
        var cast = await _app.PostAsync("/api/v1/votes", body);
        Assert.Equal((HttpStatusCode.OK, false, 1), (cast.Status, cast.Replayed, cast.Body.GetProperty("votes").GetInt32()));
        var replay = await _app.PostAsync("/api/v1/votes", body);
        Assert.Equal((HttpStatusCode.OK, true, cast.Body.GetRawText()), (replay.Status, replay.Replayed, replay.Body.GetRawText()));
        var other = await _app.PostAsync("/api/v1/votes", _app.Sign(_voter, "Vote", Vote(_voter, yes: false, nonce: 1)));
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (other.Status, other.Body.GetProperty("code").GetString()));
        Assert.Equal((1L, 0L), (await VotesAsync("votes:demo:yes"), await VotesAsync("votes:demo:no")));

        // The type is in the EIP-712 document the clients sign with.
        var eip712 = await _app.Http.GetStringAsync("/api/v1/eip712");
        Assert.Contains("\"Vote\":[{\"name\":\"voter\",\"type\":\"address\"}", eip712, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OwnType_RefusedBeforeTheHandler_NothingApplied()
    {
        using var stranger = EthereumKey.Generate();
        var forged = _app.Sign(stranger, "Vote", Vote(_voter, yes: true, nonce: 2)); // signed by someone else
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.PostAsync("/api/v1/votes", forged)).Status);
        var late = Vote(_voter, yes: true, nonce: 3);
        late["deadline"] = _app.Clock.GetUtcNow().AddSeconds(-1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        Assert.Equal("signature_expired", (await _app.PostAsync("/api/v1/votes", _app.Sign(_voter, "Vote", late))).Body.GetProperty("code").GetString());
        var longPool = await _app.PostAsync("/api/v1/votes", _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 4, pool: new string('p', 257))));
        Assert.Equal(HttpStatusCode.BadRequest, longPool.Status);
        Assert.Contains("message.poolId is longer than 256 characters", longPool.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var huge = _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 5), ("padding", new string('x', 1 << 20)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _app.PostAsync("/api/v1/votes", huge)).Status);
        var notAdmin = await _app.PostAsync("/api/v1/admin/votes", _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 6)));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (notAdmin.Status, notAdmin.Body.GetProperty("code").GetString()));
        Assert.Contains("is not an admin", notAdmin.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var refusedByHandler = await _app.PostAsync("/api/v1/votes", _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 7, pool: string.Empty)));
        Assert.Equal(HttpStatusCode.BadRequest, refusedByHandler.Status);
        Assert.Equal(0, await VotesAsync("votes:demo:yes"));

        // A refusal claims nothing: the nonce of the refused request is still free.
        Assert.Equal(HttpStatusCode.OK, (await _app.PostAsync("/api/v1/votes", _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 7)))).Status);
        Assert.Equal(HttpStatusCode.OK, (await _app.PostAsync("/api/v1/admin/votes", _app.Sign(_admin, "Vote", Vote(_admin, yes: true, nonce: 1)))).Status);
        Assert.Equal(2, await VotesAsync("votes:demo:yes"));
    }

    [Fact]
    public async Task ConcurrentCopiesAndRivals_OfTheOwnType_OneApplied()
    {
        var body = _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 9));
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            _app.PostAsync("/api/v1/votes", i % 2 == 0 ? body : _app.Sign(_voter, "Vote", Vote(_voter, yes: false, nonce: 9)))));
        var applied = replies.Where(r => r.Status == HttpStatusCode.OK && !r.Replayed).ToList();
        Assert.Single(applied);
        var yes = applied[0].Body.GetProperty("yes").GetBoolean();
        Assert.All(replies.Where(r => r.Status == HttpStatusCode.OK), r => Assert.Equal(yes, r.Body.GetProperty("yes").GetBoolean()));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
        Assert.Equal((yes ? 1L : 0L, yes ? 0L : 1L), (await VotesAsync("votes:demo:yes"), await VotesAsync("votes:demo:no")));
    }

    [Fact]
    public async Task OneTransactionPerSignedRequest_LaterUnitsSeeEarlierWrites_ARefusalKeepsNothing()
    {
        // Two writing units of work and a read: the read sees both writes (they are one transaction), and the answer is
        // recorded in it too, so a replay gives the same answer.
        var body = _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 20, pool: "twice"));
        var cast = await _app.PostAsync("/api/v1/votes/twice", body);
        Assert.Equal((HttpStatusCode.OK, 2), (cast.Status, cast.Body.GetProperty("votes").GetInt32()));
        var replay = await _app.PostAsync("/api/v1/votes/twice", body);
        Assert.Equal((true, cast.Body.GetRawText()), (replay.Replayed, replay.Body.GetRawText()));
        Assert.Equal(2, await VotesAsync("votes:twice:twice"));

        // A refusal after the writes: none of them is kept, and the nonce stays free.
        var refused = await _app.PostAsync("/api/v1/votes/twice", _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 21, pool: "refuse")));
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Contains("after writing 2 votes", refused.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await VotesAsync("votes:refuse:twice"));
        var again = await _app.PostAsync("/api/v1/votes/twice", _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 21, pool: "twice")));
        Assert.Equal((HttpStatusCode.OK, false, 4), (again.Status, again.Replayed, again.Body.GetProperty("votes").GetInt32()));
    }

    [Fact]
    public async Task AHandlerThatWritesNothing_RunsOncePerNonce_ReplaysAnswerTheFirstAnswer()
    {
        var body = _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 30));
        var first = await _app.PostAsync("/api/v1/votes/counted", body);
        Assert.Equal((HttpStatusCode.OK, false, 1), (first.Status, first.Replayed, first.Body.GetProperty("votes").GetInt32()));
        for (var i = 0; i < 2; i++)
        {
            var replay = await _app.PostAsync("/api/v1/votes/counted", body);
            Assert.Equal((HttpStatusCode.OK, true, first.Body.GetRawText()), (replay.Status, replay.Replayed, replay.Body.GetRawText()));
        }

        var other = await _app.PostAsync("/api/v1/votes/counted", _app.Sign(_voter, "Vote", Vote(_voter, yes: false, nonce: 30)));
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (other.Status, other.Body.GetProperty("code").GetString()));
        Assert.Equal(1, Volatile.Read(ref _calls));

        // Concurrent copies and rivals of a new nonce: the handler runs once.
        var next = _app.Sign(_voter, "Vote", Vote(_voter, yes: true, nonce: 31));
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            _app.PostAsync("/api/v1/votes/counted", i % 2 == 0 ? next : _app.Sign(_voter, "Vote", Vote(_voter, yes: false, nonce: 31)))));
        Assert.Single(replies, r => r.Status == HttpStatusCode.OK && !r.Replayed);
        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.Conflict, r.Status.ToString()));
        Assert.Equal(2, Volatile.Read(ref _calls));
    }
}
