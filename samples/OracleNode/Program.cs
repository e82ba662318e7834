// An Anpm oracle node: claims a host's inference tasks for its pools, runs the models with ONNX Runtime (CUDA where it
// loads), signs each result and submits it. Configured only by configuration (NodeSettings: appsettings.json, environment).
using Anpm.Oracle;
using Anpm.OracleNode;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
var settings = builder.Configuration.GetSection(NodeSettings.Section).Get<NodeSettings>() ?? new NodeSettings();
if (settings.Problems() is { Count: > 0 } problems)
{
    problems.ToList().ForEach(Console.Error.WriteLine);
    return 2;
}

try
{
    var keyFile = NodeSetup.KeyFile(settings, builder.Environment);       // Development: created when missing
    var domain = await NodeSetup.DomainAsync(settings);                   // the host's EIP-712 domain
    NodeSetup.AddNode(builder, settings, keyFile, domain);                // signing, node key, ONNX backend, runner, HTTP source, health, metrics
    var app = builder.Build();
    app.Services.GetRequiredService<OnnxInferenceBackend>();              // load the models now: a bad file or device stops the start
    app.MapHealthChecks("/healthz");
    app.MapPrometheusScrapingEndpoint("/metrics");
    app.Lifetime.ApplicationStarted.Register(() => NodeSetup.PrintSummary(app, settings, domain));
    await app.RunAsync();                                                 // SIGTERM / Ctrl+C: stop claiming, finish or report running tasks
    return 0;
}
catch (Exception exception) when (exception is InvalidOperationException or ModelLoadException or OptionsValidationException)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}
