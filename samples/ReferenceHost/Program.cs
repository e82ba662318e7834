// The Anpm reference host: every package wired into the complete system (API.md is its wire contract).
using Anpm.Abstractions;
using Anpm.ReferenceHost;

var builder = WebApplication.CreateBuilder(args);

// Services: configuration (Anpm:*, validated), storage, ledger, credits, pools, staking, inference, signing,
// the background jobs and, in development, the in-process oracle node.
builder.AddReferenceHost();

var app = builder.Build();

// APIs.
app.UseExceptionHandler();
app.UseDefaultFiles(); // the web pages (wwwroot): index.html at /
app.UseStaticFiles();
app.MapOpenApi("/openapi/{documentName}.json");
app.UseSwaggerUI(ui =>
{
    ui.SwaggerEndpoint("/openapi/v1.json", "Anpm reference host v1");
    ui.RoutePrefix = "swagger";
});
app.MapGet("/metrics", (MetricsExporter metrics) => Results.Text(metrics.Scrape(), "text/plain; version=0.0.4", System.Text.Encoding.UTF8)).WithTags("health");
app.MapGet("/healthz", async (IAnpmStore store, CancellationToken ct) =>
{
    await store.RunAsync(0, static (u, _, c) => u.System.GetSystemStateAsync(c), ct);
    return Results.Ok("ok");
}).WithTags("health");
app.MapGet("/ping", () => Results.Text("pong")).WithTags("health"); // liveness without the store (the load benchmark's baseline)
app.MapReadApi();
app.MapWriteApi();
app.MapDevTokenApi();
app.MapManageApi();
app.MapGatewayApi();

app.Run();

/// <summary>The host's entry point (public for the tests' WebApplicationFactory).</summary>
public partial class Program;
