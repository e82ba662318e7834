using Anpm.Abstractions;
using System.Net;
using System.Text;
using System.Text.Json;
using Anpm.Signing;
using Microsoft.Extensions.Options;
using Anpm.Tensors;

namespace Anpm.Oracle.Tests;

/// <summary>The HTTP task source speaks the wire contract's oracle routes, with messages the host's verifier accepts.</summary>
public sealed class HttpOracleTaskSourceTests : IDisposable
{
    private readonly EthereumKey _key = EthereumKey.Generate();
    private readonly SignedRequestVerifier _domain = new(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }.AddMessageTypes(AnpmOracleMessages.All)), TimeProvider.System);

    public void Dispose() => _key.Dispose();

    private sealed class Host(Func<HttpRequestMessage, JsonElement, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<(string Path, JsonElement Body)> Seen { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
            Seen.Add((request.RequestUri!.AbsolutePath, body));
            return answer(request, body);
        }
    }

    [Fact]
    public async Task ClaimResultAndFailure_SignedAsTheHostExpects()
    {
        var host = new Host((request, body) =>
        {
            var path = request.RequestUri!.AbsolutePath;
            var type = path.EndsWith("/claim", StringComparison.Ordinal) ? "ClaimTask" : path.EndsWith("/result", StringComparison.Ordinal) ? "TaskResult" : "TaskFailure";
            var verified = _domain.Verify(type, body.GetProperty("message"), body.GetProperty("signature").GetString());
            if (!verified.IsValid || verified.Signer != _key.Address)
            {
                return new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent(verified.Error ?? "bad") };
            }

            return type == "ClaimTask"
                ? new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent("""{"taskId":"t1","leaseId":"l1","leaseExpiresAt":"2030-01-01T00:00:00Z","model":"digits","modelHash":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","input":"{}"}""", Encoding.UTF8, "application/json"),
                }
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        });
        using var http = new HttpClient(host) { BaseAddress = new Uri("http://127.0.0.1:5000/") };
        var signer = new AttestationSigner(_key, _domain);
        var source = new HttpOracleTaskSource(http, signer, new HttpOracleTaskSourceOptions { PoolIds = { "demo" } });
        var task = (await source.ClaimAsync(CancellationToken.None))!;
        Assert.Equal(new OracleTask("t1", "l1", new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), "digits", "0x" + new string('a', 64), "{}"), task);
        var result = new InferenceResult("{\"outputs\":{}}", ModelIo.OutputHash("{\"outputs\":{}}"));
        await source.SubmitResultAsync(task, result, await signer.SignResultAsync(task, result.OutputHash), CancellationToken.None);
        await source.SubmitFailureAsync(task, "oom", await signer.SignFailureAsync(task, "oom"), CancellationToken.None);
        Assert.Equal(["/api/v1/oracle/pools/demo/claim", "/api/v1/oracle/tasks/t1/result", "/api/v1/oracle/tasks/t1/failure"], host.Seen.Select(s => s.Path));
        Assert.Equal("{\"outputs\":{}}", host.Seen[1].Body.GetProperty("output").GetString());
        Assert.Equal("demo", host.Seen[0].Body.GetProperty("message").GetProperty("poolId").GetString());
        var second = await source.ClaimAsync(CancellationToken.None); // another nonce
        Assert.NotEqual(host.Seen[0].Body.GetProperty("message").GetProperty("nonce").GetString(), host.Seen[3].Body.GetProperty("message").GetProperty("nonce").GetString());
        Assert.NotNull(second);
    }

    [Fact]
    public async Task NoTask_Null_AndRefusals_Thrown()
    {
        var status = HttpStatusCode.NoContent;
        using var http = new HttpClient(new Host((_, _) => new HttpResponseMessage(status) { Content = new StringContent("{\"code\":\"conflict\"}") })) { BaseAddress = new Uri("http://127.0.0.1:5000/") };
        var source = new HttpOracleTaskSource(http, new AttestationSigner(_key, _domain), new HttpOracleTaskSourceOptions { PoolIds = { "demo" } });
        Assert.Null(await source.ClaimAsync(CancellationToken.None));
        status = HttpStatusCode.Conflict;
        var error = await Assert.ThrowsAsync<HttpRequestException>(async () => await source.ClaimAsync(CancellationToken.None));
        Assert.Contains("refused the claim in pool demo (409)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralPools_ClaimedInTurn_EmptyOnesSkipped()
    {
        var tasks = new Dictionary<string, int> { ["a"] = 0, ["b"] = 2, ["c"] = 1 };
        var host = new Host((request, body) =>
        {
            var pool = body.GetProperty("message").GetProperty("poolId").GetString()!;
            if (tasks[pool] == 0)
            {
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }

            tasks[pool]--;
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent($$"""{"taskId":"{{pool}}{{tasks[pool]}}","leaseId":"l","leaseExpiresAt":"2030-01-01T00:00:00Z","model":"m","modelHash":"0x","input":"{}"}""", Encoding.UTF8, "application/json"),
            };
        });
        using var http = new HttpClient(host) { BaseAddress = new Uri("http://127.0.0.1:5000/") };
        var source = new HttpOracleTaskSource(http, new AttestationSigner(_key, _domain), new HttpOracleTaskSourceOptions { PoolIds = { "a", "b", "c" } });
        var claimed = new List<string>();
        while (await source.ClaimAsync(CancellationToken.None) is { } task)
        {
            claimed.Add(task.TaskId);
        }

        Assert.Equal(["b1", "c0", "b0"], claimed); // b, then c (the next pool first), then b again: no pool starves another
        Assert.All(tasks.Values, left => Assert.Equal(0, left));
        var refused = Assert.Throws<OptionsValidationException>(() => new HttpOracleTaskSource(http, new AttestationSigner(_key, _domain), new HttpOracleTaskSourceOptions()));
        Assert.Contains("PoolIds", refused.Message, StringComparison.Ordinal);
        refused = Assert.Throws<OptionsValidationException>(() => new HttpOracleTaskSource(http, new AttestationSigner(_key, _domain), new HttpOracleTaskSourceOptions { PoolIds = { "a" }, ClaimLifetimeSeconds = 0 }));
        Assert.Contains("ClaimLifetimeSeconds is 0", refused.Message, StringComparison.Ordinal);
    }
}
