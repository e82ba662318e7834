// Embeds Anpm in a console app from the published packages: SQLite, credits, a pool with the digits model, and an
// oracle node in the same process. Buys credits, moves them into the pool, runs a digits task and verifies its result.
// Usage: dotnet run -- <digits.onnx> <a 64-number pixel vector, comma separated>
using System.Security.Cryptography;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Oracle;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Storage.Sqlite;
using Anpm.Tensors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var (modelPath, pixels) = (args[0], args[1]);
var folder = Directory.CreateTempSubdirectory("anpm-consumer-").FullName;
using var managerKey = EthereumKey.Generate();
using var oracleKey = EthereumKey.Generate();
var user = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
var treasury = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
var pool = PoolId.Parse("demo");

var builder = Host.CreateApplicationBuilder();
builder.Services.AddAnpm(anpm => anpm
    .UseSqlite($"Data Source={Path.Combine(folder, "anpm.db")}")
    .AddLedger(o => o.Assets[WellKnownAssets.Apus.ToString()] = 12)
    .AddSigning(o => { o.ChainId = 31337; o.VerifyingContract = managerKey.Address.ToString(); })
    .AddPools(o => o.Treasury = treasury)
    .AddCredits(o => o.Treasury = treasury)
    .AddInference()
    .AddOracleNode(node => node.KeyHex = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), backend => backend.Models["digits"] = modelPath));

// The background jobs (Anpm.Hosting): outbox dispatch, lease sweeps, expiries, settlement — without them nothing ever
// sends a payout or frees an expired lease. Outgoing token transfers go to your token gateway; this app sends none.
builder.Services.AddAnpmJobs();
builder.Services.AddSingleton<ITokenGateway, NoGateway>();

// The node takes the pool's tasks in-process: claim, result and failure go straight to the InferenceService.
builder.Services.AddSingleton<IOracleTaskSource>(sp =>
{
    var inference = sp.GetRequiredService<InferenceService>();
    var node = sp.GetRequiredService<AttestationSigner>().Oracle;
    return new InProcessTaskSource(
        async ct => await inference.ClaimAsync(node, pool, ct) is { Result: ClaimTaskResult.Leased } claim
            ? new OracleTask(claim.Task!.Id, claim.Lease!.Id, claim.Lease.ExpiresAt, claim.Task.Model, claim.Task.ModelHash, claim.Task.Input)
            : null,
        async (task, result, signature, ct) => await inference.SubmitResultAsync(node, task.TaskId, task.LeaseId, task.ModelHash, result.OutputHash, result.Output, signature, ct),
        async (task, reason, signature, ct) => await inference.SubmitFailureAsync(node, task.TaskId, task.LeaseId, reason, signature, ct));
});

using var host = builder.Build();
await host.StartAsync(); // migrates the SQLite file, loads the model, starts the oracle node
var services = host.Services;
var oracle = services.GetRequiredService<AttestationSigner>().Oracle;
var backend = services.GetRequiredService<OnnxInferenceBackend>();
Console.WriteLine($"onnxruntime={backend.RuntimeVersion} device={backend.Models["digits"].Device}");

// The pool: the digits model at 10 credits a task, served by our node.
var sha256 = "0x" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(modelPath)));
var created = await services.GetRequiredService<PoolRegistry>().CreateAsync(pool, treasury,
    $$$"""{"name":"Demo","inference":{"models":[{"id":"digits","sha256":"{{{sha256}}}","price":"10"}],"oracles":["{{{oracle}}}"]}}""");
Check(created.Result == CreatePoolResult.Created, $"pool: {created.Result} {created.Error}");

// Buy credits: 1000 credits per token; the token's notice (here made by hand) gives the user 2000 credits for 2 tokens.
var credits = services.GetRequiredService<CreditService>();
await credits.SetExchangeRateAsync(treasury, new TokenAmount(1000), TokenAmount.Parse("1", 12), effectiveAt: null);
var notice = await services.GetRequiredService<TokenNoticeProcessor>().ApplyAsync(new TokenNotice
{
    MessageId = "tx-1", Sender = user, Quantity = TokenAmount.Parse("2", 12), Action = "Buy-Credits", PoolId = "", Reference = "",
    ReceivedAt = default, Outcome = "",
});
Console.WriteLine($"notice={notice.Outcome}");

var moved = await credits.TransferToPoolAsync(TransferId.Parse("move-1"), user, pool, new TokenAmount(30));
Console.WriteLine($"moved={moved.Result} account={moved.AccountCredits} pool={moved.PoolCredits}");

// A digits task; the node runs it, signs the result, and the pool accepts it.
var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + pixels + "]}}}";
var inference = services.GetRequiredService<InferenceService>();
var added = await inference.AddTaskAsync("consumer:1", user, pool, "digits", input, new TokenAmount(10));
Check(added.Result == AddTaskResult.Added, $"task: {added.Result} {added.Error}");
TaskView? view = null;
for (var i = 0; i < 200 && view?.Task.Status is not (InferenceTaskStatus.Done or InferenceTaskStatus.Failed); i++)
{
    await Task.Delay(100);
    view = await inference.GetTaskAsync(added.Task!.Id);
}

Check(view!.Task.Status == InferenceTaskStatus.Done, $"task ended {view.Task.Status}: {view.Task.FailureReason}");

// Verify the result as a user would: the attestation recovers to the oracle, and its output hash is the output's.
var attestation = view.Attestations.Single();
var message = JsonSerializer.SerializeToElement(new
{
    oracle = attestation.Oracle.ToString(), taskId = view.Task.Id, leaseId = attestation.LeaseId, modelHash = attestation.ModelHash, outputHash = attestation.OutputHash,
});
var verified = services.GetRequiredService<SignedRequestVerifier>().Verify("TaskResult", message, attestation.Signature);
var hashMatches = ModelIo.OutputHash(view.Task.Output!) == attestation.OutputHash;
using var output = JsonDocument.Parse(view.Task.Output!);
var label = BitConverter.ToInt64(Convert.FromBase64String(output.RootElement.GetProperty("outputs").GetProperty("label").GetProperty("data").GetString()!));
Console.WriteLine($"label={label} verified={verified.IsValid && verified.Signer == oracle && hashMatches} charged={view.CreditsCharged}");
var audit = await services.GetRequiredService<Ledger>().CheckInvariantAsync();
Console.WriteLine($"ledger={(audit.IsSound ? "sound" : string.Join("; ", audit.Problems))}");
await host.StopAsync();
Directory.Delete(folder, recursive: true);

static void Check(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException(what);
    }
}

sealed class NoGateway : ITokenGateway
{
    public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
        new(new GatewaySendResult(GatewaySendStatus.RetryLater));
}
