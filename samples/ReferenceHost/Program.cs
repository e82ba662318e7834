// The Anpm reference host: the packages wired into the complete system (docs/reference/wire-contract.md is its contract).
using Anpm.ReferenceHost;
using Microsoft.Extensions.Options;

try
{
    var builder = WebApplication.CreateBuilder(args);

    // Configuration (Anpm:*, validated) → the store, every package, the API with its jobs and health checks, telemetry, and
    // in Development the development token and the in-process oracle node.
    builder.AddReferenceHost();

    var app = builder.Build();
    if (app.Services.GetService<EvmStartupCheck>() is { } evm)
    {
        await evm.VerifyAsync(); // Evm mode: the chain, the token and the router as configured, before anything listens
    }

    app.UseExceptionHandler();
    app.UseSecurityHeaders(); // the pages: Content-Security-Policy (own scripts only), nosniff, no framing
    app.UseDefaultFiles();    // the web pages (wwwroot): index.html at /
    app.UseStaticFiles();
    app.MapOpenApi("/openapi/{documentName}.json");
    app.UseSwaggerUI(ui =>
    {
        ui.SwaggerEndpoint("/openapi/v1.json", "Anpm reference host v1");
        ui.RoutePrefix = "swagger";
    });
    app.MapAnpmApi("/api/v1");          // every route of the wire contract, and the health checks at /healthz
    app.MapDevTokenApi("/api/v1");      // the development token's faucet and transfers (404 when it is off)
    app.MapEvmGatewayApi("/api/v1");    // the EVM gateway's pending deposits and operator routes (404 unless Anpm:Evm:Enabled)
    app.MapPrometheusScrapingEndpoint("/metrics");
    app.MapGet("/ping", () => Results.Text("pong")).WithTags("health"); // liveness without the store (the load benchmark's baseline)
    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (exception is HostStartupException or OptionsValidationException
    && System.Reflection.Assembly.GetEntryAssembly() == typeof(Program).Assembly)
{
    // A setting the host cannot start with: one line naming it, no stack trace, exit code 1. (Hosted by a test's
    // WebApplicationFactory, the entry assembly is the test runner's: the exception goes to the factory as it is.)
    var problems = exception is OptionsValidationException invalid ? string.Join(" ", invalid.Failures) : exception.Message;
    Console.Error.WriteLine("Anpm reference host cannot start: " + problems);
    return 1;
}

/// <summary>The host's entry point (public for the tests' WebApplicationFactory).</summary>
public partial class Program;
