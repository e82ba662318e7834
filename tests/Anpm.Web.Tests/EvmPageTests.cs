using System.Numerics;
using System.Text.Json;
using Anpm.Gateway.Evm.Tests;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;

namespace Anpm.Web.Tests;

/// <summary>
/// The reference host in Evm mode against anvil, with its token and deposit router, and a browser whose injected wallet
/// signs and sends real transactions (the test holds the key, as a wallet extension would).
/// </summary>
public sealed class EvmBrowserHost : IAsyncLifetime
{
    private readonly string _keys = Directory.CreateTempSubdirectory("anpm-web-evm-").FullName;

    public TestChain Chain { get; private set; } = null!;

    public Deployed Token { get; private set; } = null!;

    public BrowserHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Chain = await TestChain.StartAsync();
        Token = await Chain.DeployAsync("TestToken");
        var hot = await Chain.WalletAsync();
        var router = await Chain.DeployAsync("AnpmDepositRouter", Token.Address, hot.Address, Chain.Owner.Address);
        var keyFile = Path.Combine(_keys, "hot.key");
        await File.WriteAllTextAsync(keyFile, hot.PrivateKeyHex);
        await Chain.Node.RpcAsync("evm_setIntervalMining", 1); // a block a second: deposits reach depth 2 on their own
        Host = new BrowserHost(web =>
        {
            foreach (var (key, value) in new[]
            {
                ("Anpm:DevToken:Enabled", "false"), ("Anpm:Oracle:InProcess", "false"), ("Anpm:Evm:Enabled", "true"),
                ("Anpm:Evm:RpcUrls:0", Chain.Node.Url), ("Anpm:Evm:Token", Token.Address), ("Anpm:Evm:Router", router.Address),
                ("Anpm:Evm:Confirmations", "2"), ("Anpm:Evm:KeyFile", keyFile), ("Anpm:Evm:PollSeconds", "1"),
            })
            {
                web.UseSetting(key, value);
            }
        });
        await Host.InitializeAsync();
        await Chain.Node.RpcAsync("evm_increaseTime", 2); // deposits are judged at their block's time (whole seconds): after the host's first rate
    }

    /// <summary>
    /// A page whose injected wallet (<c>window.ethereum</c>) holds <paramref name="wallet"/>'s key: it signs Anpm's typed
    /// data, signs and sends transactions, and passes reads (chain id, receipts) to the chain.
    /// </summary>
    public async Task<IPage> WalletPageAsync(TestWallet wallet)
    {
        var key = Anpm.Signing.EthereumKey.FromHex("0x" + wallet.PrivateKeyHex);
        var page = await Host.InjectedWalletPageAsync(
            key,
            async transaction =>
            {
                using var json = JsonDocument.Parse(transaction);
                var input = new TransactionInput(json.RootElement.GetProperty("data").GetString(), json.RootElement.GetProperty("to").GetString(), wallet.Address, new HexBigInteger(300_000), null);
                return await wallet.Web3.Eth.TransactionManager.SendTransactionAsync(input);
            },
            async (method, parameters) => (await Chain.Node.RpcAsync(method, JsonSerializer.Deserialize<object?[]>(parameters)!)).GetRawText());
        page.SetDefaultTimeout(30_000);
        page.Close += (_, _) => key.Dispose();
        return page;
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Chain.DisposeAsync();
        Directory.Delete(_keys, recursive: true);
    }
}

/// <summary>The pages in Evm mode: a user pays with the browser wallet through the router, sees the deposit pending, then credited.</summary>
public sealed class EvmPageTests(EvmBrowserHost evm) : IClassFixture<EvmBrowserHost>
{
    private static ILocator ById(IPage page, string testId) => page.GetByTestId(testId);

    [Fact]
    public async Task BuyCredits_ApproveAndDepositWithTheBrowserWallet_PendingUntilFinal_ThenCredited()
    {
        var user = await evm.Chain.WalletAsync();
        await TestChain.SendAsync(evm.Chain.Owner, evm.Token, "mint", user.Address, 5 * BigInteger.Pow(10, 12));
        var page = await evm.WalletPageAsync(user);
        await BrowserHost.CaptureOnFailureAsync(page, "evm-credits", async () =>
        {
            await page.GotoAsync("/#/credits");
            await Assertions.Expect(ById(page, "token-balance")).ToHaveTextAsync("5 APUS");
            await Assertions.Expect(ById(page, "pending-deposits-none")).ToBeVisibleAsync();
            await ById(page, "buy-amount").FillAsync("2");
            await ById(page, "buy").ClickAsync();
            await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("2 APUS sent on chain");

            // Pending (a confirmation or so) until depth 2, then credited: 2,000 credits at 1,000 per APUS.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && await ById(page, "credit-balance").TextContentAsync() != "2,000 credits")
            {
                await Task.Delay(100);
                await page.ReloadAsync();
                await ById(page, "credit-balance").WaitForAsync();
            }

            await Assertions.Expect(ById(page, "credit-balance")).ToHaveTextAsync("2,000 credits");
            await Assertions.Expect(ById(page, "pending-deposits-none")).ToBeVisibleAsync();
            await Assertions.Expect(ById(page, "token-balance")).ToHaveTextAsync("3 APUS");
            await BrowserHost.ScreenshotAsync(page, "evm-credits");
        });
    }

    [Fact]
    public async Task Campaign_ContributionPaidOnChainThroughTheRouter_CanceledPool_RefundPaidOnChain()
    {
        var admin = await evm.Host.PageAsync(evm.Host.RoleKey("admin"));
        await BrowserHost.CaptureOnFailureAsync(admin, "evm-admin", async () =>
        {
            await admin.GotoAsync("/#/admin");
            await admin.GetByTestId("new-pool-id").FillAsync("chain-camp");
            await admin.GetByTestId("new-pool-name").FillAsync("On-chain campaign");
            await admin.GetByTestId("new-pool-limit").FillAsync("50");
            await admin.GetByTestId("create-pool").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("create-result")).ToHaveTextAsync("Pool chain-camp created (Active).");
        });

        var user = await evm.Chain.WalletAsync();
        await TestChain.SendAsync(evm.Chain.Owner, evm.Token, "mint", user.Address, 10 * BigInteger.Pow(10, 12));
        var page = await evm.WalletPageAsync(user);
        await BrowserHost.CaptureOnFailureAsync(page, "evm-contributions", async () =>
        {
            // The page creates the pending contribution, then pays it through the router with its id as the reference.
            await page.GotoAsync("/#/contributions");
            await ById(page, "contribute-amount-chain-camp").FillAsync("4");
            await ById(page, "contribute-chain-camp").ClickAsync();
            await Assertions.Expect(ById(page, "contribute-result-chain-camp")).ToContainTextAsync("A contribution of 4 APUS sent on chain");
            await ReloadUntilContainsAsync(page, "my-contributions", "Paid");
        });

        await BrowserHost.CaptureOnFailureAsync(admin, "evm-admin-cancel", async () =>
        {
            await admin.ReloadAsync();
            await admin.GetByTestId("status-pool").SelectOptionAsync("chain-camp");
            await admin.GetByTestId("status-value").SelectOptionAsync("5");
            await admin.GetByTestId("set-status").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("status-result")).ToHaveTextAsync("Pool chain-camp is Canceled.");
        });

        await BrowserHost.CaptureOnFailureAsync(page, "evm-refund", async () =>
        {
            await page.ReloadAsync();
            await page.Locator("[data-testid^='claim-c']").First.ClickAsync();
            await ReloadUntilContainsAsync(page, "my-contributions", "RefundPaidout"); // paid from the hot wallet, final at depth 2
            Assert.Equal(10 * BigInteger.Pow(10, 12), await evm.Chain.BalanceAsync(evm.Token, user.Address));
            await BrowserHost.ScreenshotAsync(page, "evm-contributions");
        });
    }

    // Reloads the page until the element contains the text (money that arrives in the background), at most 40 s.
    private static async Task ReloadUntilContainsAsync(IPage page, string testId, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (DateTime.UtcNow < deadline && !((await ById(page, testId).TextContentAsync()) ?? string.Empty).Contains(text, StringComparison.Ordinal))
        {
            await Task.Delay(100);
            await page.ReloadAsync();
            await ById(page, testId).WaitForAsync();
        }

        await Assertions.Expect(ById(page, testId)).ToContainTextAsync(text);
    }

    [Fact]
    public async Task Deposit_ShowsAsPendingWithItsConfirmations()
    {
        var user = await evm.Chain.WalletAsync();
        await TestChain.SendAsync(evm.Chain.Owner, evm.Token, "mint", user.Address, BigInteger.Pow(10, 12));
        await evm.Chain.Node.RpcAsync("evm_setIntervalMining", 0); // hold the chain still: the deposit stays at 1 confirmation
        try
        {
            var page = await evm.WalletPageAsync(user);
            await BrowserHost.CaptureOnFailureAsync(page, "evm-pending", async () =>
            {
                await page.GotoAsync("/#/credits");
                await ById(page, "buy-amount").FillAsync("1");
                var click = ById(page, "buy").ClickAsync();
                await WaitThenMineAsync(); // approve, then deposit: each mined on request
                await click;
                await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("sent on chain");
                var deadline = DateTime.UtcNow.AddSeconds(90);
                while (DateTime.UtcNow < deadline && await ById(page, "pending-deposits").CountAsync() == 0)
                {
                    await Task.Delay(100);
                    await page.ReloadAsync();
                    await ById(page, "credit-balance").WaitForAsync();
                }

                await Assertions.Expect(ById(page, "pending-deposits")).ToContainTextAsync("Buy-Credits");
                await Assertions.Expect(ById(page, "pending-deposits")).ToContainTextAsync("1 of 2");
                await BrowserHost.ScreenshotAsync(page, "evm-pending");
            });
        }
        finally
        {
            await evm.Chain.Node.RpcAsync("evm_setIntervalMining", 1);
        }

        async Task WaitThenMineAsync()
        {
            // The page sends approve and waits for its receipt, then sends the deposit: mine each as it arrives.
            for (var i = 0; i < 200; i++)
            {
                await Task.Delay(100);
                var pending = await evm.Chain.Node.RpcAsync("eth_getBlockByNumber", "pending", false);
                if (pending.GetProperty("transactions").GetArrayLength() > 0)
                {
                    await evm.Chain.Node.MineAsync();
                }

                if ((long)AnvilNode.ParseQuantity((await evm.Chain.Node.RpcAsync("eth_getTransactionCount", user.Address, "latest")).GetString()!) == 2)
                {
                    return;
                }
            }
        }
    }
}
