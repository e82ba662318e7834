using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// The end-to-end flows with every request signed by ethers 6 (run by Node from the test) from the domain and types the host
/// publishes at <c>GET /api/v1/eip712</c> — what a wallet integration does.
/// </summary>
public sealed class EthersSignedFlowTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _destination = TestKey.New();

    public void Dispose()
    {
        _user.Dispose();
        _destination.Dispose();
    }

    private static async Task<RequestSigner> EthersAsync(TestHost host)
    {
        var eip712 = await host.GetAsync("/api/v1/eip712");
        var folder = Path.Combine(TestHost.RepositoryRoot(), "tests", "node");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "ethers")))
        {
            throw new InvalidOperationException($"ethers is not installed in {folder}; run 'npm ci --ignore-scripts' there (eng/test.sh does).");
        }

        return async (key, type, message, extra) =>
        {
            var request = new JsonObject
            {
                ["key"] = key.Hex, ["domain"] = JsonNode.Parse(eip712.GetProperty("domain").GetRawText()), ["types"] = JsonNode.Parse(eip712.GetProperty("types").GetRawText()),
                ["primaryType"] = type, ["message"] = message.DeepClone(),
            };
            var file = Path.GetTempFileName();
            try
            {
                await File.WriteAllTextAsync(file, request.ToJsonString());
                var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("sign-typed.mjs");
                start.ArgumentList.Add(file);
                using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await process.WaitForExitAsync(timeout.Token);
                Assert.True(process.ExitCode == 0, "ethers failed: " + await error);
                return TestHost.Envelope(message, (await output).Trim(), extra);
            }
            finally
            {
                File.Delete(file);
            }
        };
    }

    [Fact]
    public async Task CampaignPool_SignedByEthers()
    {
        await using var host = TestHost.Start();
        await EndToEndFlows.CampaignAsync(host, await EthersAsync(host), _user, _destination);
    }

    [Fact]
    public async Task CanceledCampaignAndRewardFunding_SignedByEthers()
    {
        await using var host = TestHost.Start();
        await EndToEndFlows.CanceledCampaignAndRewardFundingAsync(host, await EthersAsync(host), _user, _destination);
    }

    [Fact]
    public async Task CreditsInferenceAndStaking_SignedByEthers()
    {
        await using var host = TestHost.Start();
        await EndToEndFlows.CreditsInferenceAndStakingAsync(host, await EthersAsync(host), _user);
    }

    [Fact]
    public async Task SessionKey_GrantAndDelegatedTasksSignedByEthers()
    {
        await using var host = TestHost.Start();
        using var backend = TestKey.New();
        await EndToEndFlows.SessionKeyAsync(host, await EthersAsync(host), _user, backend);
    }
}
