using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Anpm.Web.Tests;

/// <summary>
/// The reference host on Kestrel at 127.0.0.1 (a random port; Development, SQLite in a temporary folder, in-process
/// oracle) and headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright. One per test class.
/// </summary>
public sealed class BrowserHost : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("anpm-web-").FullName;
    private readonly Action<IWebHostBuilder>? _configure;
    private WebApplicationFactory<Program>? _factory;
    private IPlaywright? _playwright;

    public Uri Address { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public IServiceProvider Services => _factory!.Services;

    /// <summary>Where screenshots go: artifacts/web-screenshots under the repository root.</summary>
    public static string Screenshots { get; } = Path.Combine(RepositoryRoot(), "artifacts", "web-screenshots");

    public BrowserHost()
    {
    }

    /// <summary>A host with more settings (e.g. the Evm mode's), applied after the defaults.</summary>
    internal BrowserHost(Action<IWebHostBuilder> configure) => _configure = configure;

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/bin/chromium"))
        {
            throw new InvalidOperationException("Chromium is missing: apt-get install chromium (eng/test.sh does).");
        }

        // What the pages show after the host's background work (payouts through the outbox, refreshes, oracles) may take
        // long on a busy machine: every expectation waits up to 30 s unless it says otherwise (Playwright's default is 5 s).
        Assertions.SetDefaultExpectTimeout(30_000);

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("Anpm:DataFolder", _data);
            _configure?.Invoke(web);
        });
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Address = new Uri(address);
        Http = new HttpClient { BaseAddress = Address };
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>A development role key (admin, feeder, treasury, …) from the host's data/dev-keys.json.</summary>
    public string RoleKey(string role) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(_data, "dev-keys.json")))![role];

    /// <summary>A browser page whose built-in development wallet holds <paramref name="privateKey"/>.</summary>
    public async Task<IPage> PageAsync(string privateKey, int width = 1100, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Address.ToString(), ViewportSize = new ViewportSize { Width = width, Height = height } });
        await context.AddInitScriptAsync($"localStorage.setItem('anpm.devWallet.key', '{privateKey}');");
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>A browser page whose injected wallet refuses every request, as a user who declines the connection.</summary>
    public async Task<IPage> RefusingWalletPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Address.ToString() });
        await context.AddInitScriptAsync("""
            window.ethereum = {
              async request() { const error = new Error('User rejected the request.'); error.code = 4001; throw error; },
            };
            """);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>
    /// A browser page with an injected EIP-1193 wallet (<c>window.ethereum</c>) for <paramref name="key"/>: it answers
    /// <c>eth_requestAccounts</c>, and signs <c>eth_signTypedData_v4</c> documents by handing them to the test, which
    /// hashes them with Anpm.Signing and signs — as a wallet extension would, from the JSON the page sends. With a chain,
    /// it also sends transactions (<paramref name="sendTransaction"/>, given the page's JSON) and passes every other
    /// request to the chain (<paramref name="chainRpc"/>, given the method and the JSON parameters).
    /// </summary>
    public async Task<IPage> InjectedWalletPageAsync(
        Anpm.Signing.EthereumKey key, Func<string, Task<string>>? sendTransaction = null, Func<string, string, Task<string>>? chainRpc = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Address.ToString() });
        await context.ExposeFunctionAsync("anpmWalletSign", (string typedData) =>
            Anpm.Signing.Eip712TypedData.TryHashDocument(typedData, out var digest, out var error)
                ? key.SignHash(digest).ToString()
                : throw new InvalidOperationException("The page sent an invalid eth_signTypedData_v4 document: " + error));
        if (sendTransaction is not null && chainRpc is not null)
        {
            await context.ExposeFunctionAsync("anpmWalletSend", sendTransaction);
            await context.ExposeFunctionAsync("anpmChainRpc", chainRpc);
        }

        var address = key.Address.ToString();
        await context.AddInitScriptAsync($$"""
            window.ethereum = {
              isTestWallet: true,
              async request({ method, params }) {
                if (method === 'eth_requestAccounts' || method === 'eth_accounts') return ['{{address}}'];
                if (method === 'eth_signTypedData_v4') {
                  if (params[0].toLowerCase() !== '{{address}}') throw new Error('This wallet does not hold ' + params[0]);
                  return await window.anpmWalletSign(params[1]);
                }
                if (!window.anpmChainRpc) throw new Error('Unsupported method ' + method);
                if (method === 'eth_sendTransaction') {
                  if (params[0].from.toLowerCase() !== '{{address}}') throw new Error('This wallet does not hold ' + params[0].from);
                  return await window.anpmWalletSend(JSON.stringify(params[0]));
                }
                return JSON.parse(await window.anpmChainRpc(method, JSON.stringify(params ?? [])));
              },
            };
            """);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>Runs a browser test; on failure the page is captured as failure-<paramref name="name"/>.png before the error goes on.</summary>
    public static async Task CaptureOnFailureAsync(IPage page, string name, Func<Task> test)
    {
        try
        {
            await test();
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, $"failure-{name}.png"), FullPage = true });
            throw;
        }
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Http?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        Directory.Delete(_data, recursive: true);
    }

    public static string RepositoryRoot() => Anpm.Testing.Repository.Root;
}
