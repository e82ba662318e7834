using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.Web.Tests;

/// <summary>
/// The web pages in a real browser: every flow by clicking, as a user with the built-in development wallet (and an
/// admin with the host's development admin key). A screenshot of each page is saved under artifacts/web-screenshots.
/// </summary>
public sealed class PageTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private static string NewKey() => "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static ILocator ById(IPage page, string testId) => page.GetByTestId(testId);

    /// <summary>
    /// Mints 100 dev tokens to a new page wallet by clicking the faucet on the Credits page, and waits for the page's own
    /// refresh after it (the new balance drawn), so that the refresh never redraws the page under what a test types next.
    /// </summary>
    private static async Task FaucetAsync(IPage page)
    {
        await page.GotoAsync("/#/credits");
        await ById(page, "faucet").ClickAsync();
        await Assertions.Expect(ById(page, "faucet-result")).ToContainTextAsync("You now hold");
        await Assertions.Expect(ById(page, "token-balance")).ToHaveTextAsync("100 APUS");
    }

    /// <summary>Reloads the page until the element shows <paramref name="text"/> (money that arrives in the background), at most 90 s.</summary>
    private static async Task ReloadUntilAsync(IPage page, string testId, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && await ById(page, testId).TextContentAsync() != text)
        {
            await Task.Delay(100);
            await page.ReloadAsync();
            await ById(page, testId).WaitForAsync();
        }

        await Assertions.Expect(ById(page, testId)).ToHaveTextAsync(text);
    }

    [Fact]
    public async Task Credits_FaucetAndBuy_BalanceRateAndHistory_ErrorsInPlainWords()
    {
        var page = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(page, "credits", async () =>
        {
            await FaucetAsync(page);
            await Assertions.Expect(ById(page, "exchange-rate")).ToHaveTextAsync("1,000 credits per APUS");
            await ById(page, "buy-amount").FillAsync("1.5");
            await Assertions.Expect(ById(page, "buy-preview")).ToHaveTextAsync("You get 1,500 credits.");
            await ById(page, "buy").ClickAsync();
            await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("Bought: 1500 credits. Your token balance is 98.5 APUS.");
            await page.ReloadAsync();
            await Assertions.Expect(ById(page, "credit-balance")).ToHaveTextAsync("1,500 credits");
            await Assertions.Expect(ById(page, "history")).ToContainTextAsync("purchase");
            await AssertNoStrayTextAsync(page); // the hidden cards (no Evm deposits) leave nothing behind

            // More than the wallet holds: refused in plain words, nothing changed.
            await ById(page, "buy-amount").FillAsync("1000");
            await ById(page, "buy").ClickAsync();
            await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("Not enough balance");
            await ById(page, "buy-amount").FillAsync("abc");
            await ById(page, "buy").ClickAsync();
            await Assertions.Expect(ById(page, "buy-result")).ToHaveTextAsync("\"abc\" is not an amount of APUS.");
            await page.ReloadAsync();
            await Assertions.Expect(ById(page, "credit-balance")).ToHaveTextAsync("1,500 credits");
            await BrowserHost.ScreenshotAsync(page, "credits");
        });
    }

    [Fact]
    public async Task Pool_MoveCredits_ThenTryIt_DrawADigit_TheRightLabelWithAVerifiedAttestation()
    {
        var page = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(page, "try-it", async () =>
        {
            await FaucetAsync(page);
            await ById(page, "buy").ClickAsync(); // 1 APUS = 1,000 credits
            await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("Bought");

            await page.GotoAsync("/#/pools");
            await Assertions.Expect(ById(page, "pool-status-demo")).ToHaveTextAsync("Active");
            // The landing page says what Anpm is and where to start.
            await Assertions.Expect(page.Locator("main")).ToContainTextAsync("Anpm runs AI compute pools");
            await Assertions.Expect(ById(page, "start-steps")).ToContainTextAsync("get test APUS from the faucet");
            await Assertions.Expect(ById(page, "start-steps")).ToContainTextAsync("move credits into it");
            await Assertions.Expect(ById(page, "start-steps")).ToContainTextAsync("contribute");
            await BrowserHost.ScreenshotAsync(page, "pools");
            await ById(page, "pool-link-demo").ClickAsync();
            await ById(page, "move-amount").FillAsync("30");
            await ById(page, "move-in").ClickAsync();
            await Assertions.Expect(ById(page, "move-result")).ToHaveTextAsync("Your credits: 970 credits; in demo: 30 credits.");
            await Assertions.Expect(ById(page, "snippet-curl")).ToContainTextAsync("/api/v1/pools/demo/tasks");

            // Draw a held-out sample of the digits data set (cells of 8 or more inked) on the pad.
            using var vectors = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(BrowserHost.RepositoryRoot(), "tools", "models", "digits.vectors.json")));
            const int sample = 6;
            var expected = vectors.RootElement.GetProperty("trueLabels")[sample].GetInt32();
            var pixels = vectors.RootElement.GetProperty("inputs")[sample].EnumerateArray().Select(p => p.GetDouble()).ToArray();
            await page.GotoAsync("/#/try");
            await ById(page, "send-task").ClickAsync();
            await Assertions.Expect(ById(page, "task-progress")).ToHaveTextAsync("Draw a digit first.");
            for (var cell = 0; cell < 64; cell++)
            {
                if (pixels[cell] >= 8)
                {
                    await ById(page, $"cell-{cell}").ClickAsync();
                }
            }

            await ById(page, "send-task").ClickAsync();
            await Assertions.Expect(ById(page, "digit-label")).ToHaveTextAsync(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 90_000 });
            await Assertions.Expect(ById(page, "attestation-verified")).ToHaveTextAsync("Attestation verified");
            await Assertions.Expect(ById(page, "task-progress")).ToHaveTextAsync("Done: 10 credits charged.");
            await Assertions.Expect(ById(page, "pool-credits")).ToHaveTextAsync("You have 20 credits in this pool."); // not the 30 it read before the charge
            await AssertNoStrayTextAsync(page);
            await BrowserHost.ScreenshotAsync(page, "try-it");

            await page.GotoAsync("/#/pools/demo");
            await Assertions.Expect(ById(page, "pool-credits")).ToHaveTextAsync("20 credits");
            await Assertions.Expect(ById(page, "consume-history")).ToContainTextAsync("Done");
            await Assertions.Expect(ById(page, "stats-chart")).ToBeVisibleAsync();
            await BrowserHost.ScreenshotAsync(page, "pool");
        });
    }

    [Fact]
    public async Task Credits_LowBalanceAlert_SetInAPool_ShowsLowAfterAWithdrawal()
    {
        var page = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(page, "alerts", async () =>
        {
            await FaucetAsync(page);
            await ById(page, "buy").ClickAsync();
            await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("Bought");
            await page.GotoAsync("/#/pools/demo");
            await ById(page, "move-amount").FillAsync("30");
            await ById(page, "move-in").ClickAsync();
            await Assertions.Expect(ById(page, "move-result")).ToContainTextAsync("in demo: 30 credits");
            await Assertions.Expect(ById(page, "pool-credits")).ToHaveTextAsync("30 credits"); // the page's own refresh came: it cannot redraw the next one under us

            await page.GotoAsync("/#/credits");
            await ById(page, "alert-threshold-demo").FillAsync("2.5");
            await ById(page, "alert-save-demo").ClickAsync();
            await Assertions.Expect(ById(page, "alert-result")).ToHaveTextAsync("\"2.5\" is not a whole number of credits.");
            await ById(page, "alert-threshold-demo").FillAsync("25");
            await ById(page, "alert-save-demo").ClickAsync();
            await Assertions.Expect(ById(page, "alert-result")).ToHaveTextAsync("Alert in demo at 25 credits.");
            await Assertions.Expect(ById(page, "grants")).ToContainTextAsync("purchased"); // bought credits: a paid grant without expiry
            await Assertions.Expect(ById(page, "alert-state-demo")).ToHaveTextAsync("ok", new() { Timeout = 60_000 });

            await page.GotoAsync("/#/pools/demo");
            await ById(page, "move-amount").FillAsync("10");
            await ById(page, "move-out").ClickAsync();
            await Assertions.Expect(ById(page, "move-result")).ToContainTextAsync("in demo: 20 credits");
            await Assertions.Expect(ById(page, "pool-credits")).ToHaveTextAsync("20 credits");
            await page.GotoAsync("/#/credits");
            await Assertions.Expect(ById(page, "alert-state-demo")).ToHaveTextAsync("low");
            await BrowserHost.ScreenshotAsync(page, "alerts");
        });
    }

    [Fact]
    public async Task Pool_AllowASessionKeyForABackend_ThenRevokeIt()
    {
        var page = await host.PageAsync(NewKey());
        var backend = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        await BrowserHost.CaptureOnFailureAsync(page, "session-key", async () =>
        {
            await page.GotoAsync("/#/pools/demo");
            await ById(page, "session-delegate").FillAsync("0x1234");
            await ById(page, "session-grant").ClickAsync();
            await Assertions.Expect(ById(page, "session-result")).ToHaveTextAsync("The backend key address must be 0x and 40 hex digits.");
            await ById(page, "session-delegate").FillAsync(backend);
            await ById(page, "session-hours").FillAsync("0");
            await ById(page, "session-grant").ClickAsync();
            await Assertions.Expect(ById(page, "session-result")).ToHaveTextAsync("Hours must be a whole number from 1 to 8760.");
            await ById(page, "session-hours").FillAsync("2");
            await ById(page, "session-cap").FillAsync("0");
            await ById(page, "session-grant").ClickAsync();
            await Assertions.Expect(ById(page, "session-result")).ToContainTextAsync("\"0\" is not a whole number of credits.");
            await ById(page, "session-cap").FillAsync("30");
            await ById(page, "session-grant").ClickAsync();
            await Assertions.Expect(ById(page, "session-result")).ToContainTextAsync("may spend 30 credits here until");
            await Assertions.Expect(ById(page, "session-keys")).ToContainTextAsync("Active", new() { Timeout = 60_000 });
            await Assertions.Expect(ById(page, "snippet-session-key")).ToContainTextAsync("spend_cap_reached");
            await BrowserHost.ScreenshotAsync(page, "session-key");
            await ById(page, "session-revoke-" + backend).ClickAsync();
            await Assertions.Expect(ById(page, "session-result")).ToContainTextAsync("revoked");
            await Assertions.Expect(ById(page, "session-keys")).ToContainTextAsync("Revoked", new() { Timeout = 60_000 });
        });
    }

    [Fact]
    public async Task Stake_ThenWithdraw()
    {
        var page = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(page, "stake", async () =>
        {
            await FaucetAsync(page);
            await page.GotoAsync("/#/stake");
            await ById(page, "stake-amount-demo").FillAsync("3");
            // The what-if APR follows the amount: the demo pool's reserve is not funded, so it pays nothing yet.
            await Assertions.Expect(ById(page, "whatif-demo")).ToContainTextAsync("What if: staking 3 APUS now earns about 0.00 % a year");
            await Assertions.Expect(ById(page, "whatif-demo")).ToContainTextAsync("the reward reserve pays 0 more days");
            await ById(page, "stake-demo").ClickAsync();
            await Assertions.Expect(ById(page, "stake-result-demo")).ToHaveTextAsync("Staked 3 APUS.");
            await Assertions.Expect(ById(page, "staked-demo")).ToHaveTextAsync("3 APUS", new() { Timeout = 60_000 });
            await ById(page, "stake-amount-demo").FillAsync("1");
            await ById(page, "unstake-demo").ClickAsync();
            await Assertions.Expect(ById(page, "stake-result-demo")).ToContainTextAsync("Withdrawn: 1 APUS is on its way back to you. Still staked: 2 APUS.");
            await ById(page, "claim-rewards-demo").ClickAsync();
            await Assertions.Expect(ById(page, "stake-result-demo")).ToContainTextAsync("Not enough balance");
            await ReloadUntilAsync(page, "stake-token-balance", "98 APUS"); // 100 − 3 + 1 back through the outbox
            await BrowserHost.ScreenshotAsync(page, "stake");
        });
    }

    [Fact]
    public async Task Admin_SeesAPayoutThatFailedOnChain_AndRetriesItWithAReason()
    {
        // A payout the chain refused (as the EVM gateway records it): owed from a funded account, failed on chain.
        var id = Anpm.Abstractions.TransferId.Parse("web-failed-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        var from = Anpm.Abstractions.AccountId.Parse("web:payouts");
        var apus = Anpm.Abstractions.WellKnownAssets.Apus;
        var ledger = host.Services.GetRequiredService<Anpm.Credits.Ledger>();
        await ledger.CreateAccountsAsync([.. Anpm.Credits.SystemAccounts.For(apus), new Anpm.Abstractions.NewAccount(from, apus, Anpm.Abstractions.AccountFlags.DebitsMustNotExceedCredits)]);
        await ledger.CreateTransferAsync(new Anpm.Abstractions.TransferRequest
        {
            Id = Anpm.Abstractions.TransferId.Parse("fund-" + id), DebitAccountId = Anpm.Credits.SystemAccounts.Issuance(apus), CreditAccountId = from, Asset = apus,
            Amount = new Anpm.Abstractions.TokenAmount(2_000_000_000_000), Kind = Anpm.Abstractions.TransferKind.Parse("deposit"),
        });
        var outbox = host.Services.GetRequiredService<Anpm.Credits.Outbox>();
        await using (var unitOfWork = await host.Services.GetRequiredService<Anpm.Abstractions.IAnpmStore>().BeginAsync())
        {
            await outbox.EnqueueAsync(unitOfWork, id, from, Anpm.Abstractions.Address.Parse("0x00000000000000000000000000000000000000bb"), apus,
                new Anpm.Abstractions.TokenAmount(2_000_000_000_000), Anpm.Abstractions.TransferKind.Parse("payout"), "web test");
            Assert.Equal(Anpm.Credits.FailedTransferResult.Done, await outbox.FailOnChainAsync(unitOfWork, id, "0xreverted"));
            await unitOfWork.CommitAsync();
        }

        var admin = await host.PageAsync(host.RoleKey("admin"));
        await BrowserHost.CaptureOnFailureAsync(admin, "failed-payouts", async () =>
        {
            await admin.GotoAsync("/#/admin");
            await Assertions.Expect(ById(admin, "failed-payouts")).ToContainTextAsync(id.ToString()); // read with the admin's signed read token
            await Assertions.Expect(ById(admin, "failed-payouts")).ToContainTextAsync("2 APUS");
            await ById(admin, $"payout-retry-{id}").ClickAsync();
            await Assertions.Expect(ById(admin, "payout-result")).ToHaveTextAsync("Say why first (the reason is kept with the action).");
            await ById(admin, "payout-reason").FillAsync("the recipient was unpaused");
            await ById(admin, $"payout-retry-{id}").ClickAsync();
            await Assertions.Expect(ById(admin, "payout-result")).ToHaveTextAsync($"Payout {id} is sent again (Pending).");
            await AssertNoStrayTextAsync(admin);
            await BrowserHost.ScreenshotAsync(admin, "failed-payouts");
        });
    }

    [Fact]
    public async Task Admin_CreatesACampaign_UserContributes_AdminCancels_UserClaimsTheRefund()
    {
        var admin = await host.PageAsync(host.RoleKey("admin"));
        var user = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(admin, "admin", async () =>
        {
            await admin.GotoAsync("/#/admin");
            await Assertions.Expect(admin.GetByTestId("nav-admin")).ToBeVisibleAsync();
            await admin.GetByTestId("new-pool-id").FillAsync("spring");
            await admin.GetByTestId("new-pool-name").FillAsync("Spring campaign");
            await admin.GetByTestId("new-pool-limit").FillAsync("50");
            await admin.GetByTestId("create-pool").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("create-result")).ToHaveTextAsync("Pool spring created (Active).");

            // The page redraws a second after a change (the new pool joins the lists, the form starts afresh): wait for
            // that, then send the same id with another config.
            await Assertions.Expect(admin.GetByTestId("status-pool").Locator("option", new() { HasText = "Spring campaign" })).ToHaveCountAsync(1);
            await admin.GetByTestId("new-pool-id").FillAsync("spring");
            await admin.GetByTestId("new-pool-name").FillAsync("Another campaign");
            await admin.GetByTestId("create-pool").ClickAsync(); // the same id with another config: refused in words
            await Assertions.Expect(admin.GetByTestId("create-result")).ToContainTextAsync("This was already done differently");
            await BrowserHost.ScreenshotAsync(admin, "admin");
        });

        await BrowserHost.CaptureOnFailureAsync(user, "contributions", async () =>
        {
            await FaucetAsync(user);
            await Assertions.Expect(ById(user, "nav-admin")).ToBeHiddenAsync();
            await user.GotoAsync("/#/contributions");
            await ById(user, "contribute-amount-spring").FillAsync("4");
            await ById(user, "contribute-spring").ClickAsync();
            await Assertions.Expect(ById(user, "contribute-result-spring")).ToHaveTextAsync("Contributed 4 APUS.");
            await Assertions.Expect(ById(user, "my-contributions")).ToContainTextAsync("Paid", new() { Timeout = 60_000 });
        });

        await BrowserHost.CaptureOnFailureAsync(admin, "admin-cancel", async () =>
        {
            await admin.ReloadAsync();
            await admin.GetByTestId("status-pool").SelectOptionAsync("spring");
            await admin.GetByTestId("status-value").SelectOptionAsync("5");
            await admin.GetByTestId("set-status").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("status-result")).ToHaveTextAsync("Pool spring is Canceled.");
        });

        await BrowserHost.CaptureOnFailureAsync(user, "contributions-claim", async () =>
        {
            await user.ReloadAsync();
            await Assertions.Expect(ById(user, "campaign-status-spring")).ToHaveTextAsync("Canceled");
            await user.Locator("[data-testid^='claim-c']").First.ClickAsync();
            var status = await user.Locator("[data-testid^='contribution-status-']").First.GetAttributeAsync("data-testid");
            await ReloadUntilAsync(user, status!, "RefundPaidout");
            await BrowserHost.ScreenshotAsync(user, "contributions");
        });
    }

    [Fact]
    public async Task Campaign_FundedSentBackDistributed_UserClaimsThePayout()
    {
        var admin = await host.PageAsync(host.RoleKey("admin"));
        var user = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(admin, "payout-admin", async () =>
        {
            await FaucetAsync(admin);
            await admin.GotoAsync("/#/admin");
            await admin.GetByTestId("new-pool-id").FillAsync("autumn");
            await admin.GetByTestId("create-pool").ClickAsync(); // the funds go to the admin's own address (the default)
            await Assertions.Expect(admin.GetByTestId("create-result")).ToHaveTextAsync("Pool autumn created (Active).");
        });

        await BrowserHost.CaptureOnFailureAsync(user, "payout-contribute", async () =>
        {
            await FaucetAsync(user);
            await user.GotoAsync("/#/contributions");
            await ById(user, "contribute-amount-autumn").FillAsync("4");
            await ById(user, "contribute-autumn").ClickAsync();
            await Assertions.Expect(ById(user, "contribute-result-autumn")).ToHaveTextAsync("Contributed 4 APUS.");
        });

        await BrowserHost.CaptureOnFailureAsync(admin, "payout-distribute", async () =>
        {
            await admin.ReloadAsync();
            await admin.GetByTestId("status-pool").SelectOptionAsync("autumn");
            await admin.GetByTestId("status-value").SelectOptionAsync("3");
            await admin.GetByTestId("set-status").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("status-result")).ToHaveTextAsync("Pool autumn is Funding.");

            // The page redraws itself a second after a status change: wait for it, or the redraw empties what is typed next.
            await Assertions.Expect(admin.GetByTestId("return-pool").Locator("option[value='autumn']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("Funding"));
            await admin.GetByTestId("return-pool").SelectOptionAsync("autumn");
            await admin.GetByTestId("return-amount").FillAsync("6");
            await admin.GetByTestId("return-funds").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("return-result")).ToHaveTextAsync("Received 6 APUS for distribution.");
            await admin.GetByTestId("distribute-pool").SelectOptionAsync("autumn");
            await admin.GetByTestId("distribute-amount").FillAsync("6");
            await admin.GetByTestId("distribute").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("distribute-result")).ToHaveTextAsync("Pool autumn is Distributing.");
        });

        await BrowserHost.CaptureOnFailureAsync(user, "payout-claim", async () =>
        {
            await user.ReloadAsync();
            await user.Locator("[data-testid^='claim-c']").First.ClickAsync();
            var status = await user.Locator("[data-testid^='contribution-status-']").First.GetAttributeAsync("data-testid");
            await ReloadUntilAsync(user, status!, "RewardPaidout");
            await user.GotoAsync("/#/credits");
            await ReloadUntilAsync(user, "token-balance", "102 APUS"); // 100 − 4 contributed + 6 prize
        });
    }

    [Fact]
    public async Task InjectedWallet_SignsTheTypedDataDocument_BuysCredits()
    {
        using var key = Anpm.Signing.EthereumKey.Generate();
        var page = await host.InjectedWalletPageAsync(key);
        await BrowserHost.CaptureOnFailureAsync(page, "injected-wallet", async () =>
        {
            await FaucetAsync(page);
            await Assertions.Expect(ById(page, "wallet-kind")).ToHaveTextAsync("Browser wallet");
            await Assertions.Expect(ById(page, "wallet-use-key")).ToHaveCountAsync(0);
            await ById(page, "buy").ClickAsync();
            await Assertions.Expect(ById(page, "buy-result")).ToContainTextAsync("Bought: 1000 credits.");
            using var account = System.Text.Json.JsonDocument.Parse(await host.Http.GetStringAsync($"/api/v1/accounts/{key.Address}"));
            Assert.Equal("1000", account.RootElement.GetProperty("credits").GetString());
            await BrowserHost.ScreenshotAsync(page, "injected-wallet");
        });
    }

    [Fact]
    public async Task ConfigUnreachable_ThenWalletRefuses_ErrorAndRetry_ThenThePagesLoad()
    {
        var page = await host.PageAsync(NewKey());
        await BrowserHost.CaptureOnFailureAsync(page, "start-error", async () =>
        {
            // The host's /config fails at first: the page says so and offers a retry instead of "Loading…" forever.
            var failing = true;
            await page.RouteAsync("**/api/v1/config", async route =>
            {
                if (failing)
                {
                    await route.FulfillAsync(new RouteFulfillOptions { Status = 503, ContentType = "text/plain", Body = "down for maintenance" });
                }
                else
                {
                    await route.ContinueAsync();
                }
            });
            await page.GotoAsync("/#/pools");
            await Assertions.Expect(ById(page, "start-error")).ToContainTextAsync("503");
            await Assertions.Expect(ById(page, "view")).Not.ToContainTextAsync("Loading…");
            failing = false;
            await ById(page, "start-retry").ClickAsync();
            await Assertions.Expect(ById(page, "pool-status-demo")).ToHaveTextAsync("Active");
            await Assertions.Expect(ById(page, "start-error")).ToHaveCountAsync(0);
        });

        // A browser wallet that refuses to share an account: the error, and a retry that asks again.
        var refusing = await host.RefusingWalletPageAsync();
        await BrowserHost.CaptureOnFailureAsync(refusing, "wallet-refused", async () =>
        {
            await refusing.GotoAsync("/#/pools");
            await Assertions.Expect(ById(refusing, "start-error")).ToContainTextAsync("User rejected the request");
            await Assertions.Expect(ById(refusing, "start-retry")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task EveryPage_FitsAPhoneWidthScreen()
    {
        var page = await host.PageAsync(NewKey(), width: 390, height: 844);
        foreach (var route in new[] { "credits", "pools", "pools/demo", "stake", "try", "contributions", "admin" })
        {
            await BrowserHost.CaptureOnFailureAsync(page, "phone-" + route.Replace('/', '-'), async () =>
            {
                await page.GotoAsync("/#/" + route);
                await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
                await AssertNoStrayTextAsync(page);
                var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
                Assert.True(overflow <= 0, $"#/{route} is {overflow}px wider than a phone screen.");
                await BrowserHost.ScreenshotAsync(page, "phone-" + route.Replace('/', '-'));
            });
        }
    }

    // What a page shows a person never holds a program's leftovers: "null", "undefined", "NaN", "[object …]".
    private static async Task AssertNoStrayTextAsync(IPage page)
    {
        var text = await page.Locator("main").InnerTextAsync();
        var stray = System.Text.RegularExpressions.Regex.Match(text, @"\bnull\b|\bundefined\b|\bNaN\b|\[object \w+\]");
        Assert.False(stray.Success, $"The page shows \"{stray.Value}\": {text}");
    }
}
